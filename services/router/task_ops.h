// Creating and changing scheduled tasks the same way for agents' tool calls and
// for clawctl's admin calls: schedules are validated with common/schedule.h
// (so a bad cron expression is refused at creation with a message saying what
// is wrong), next_run is computed here, and the store keeps the result.
//
// Thread-safety: safe from any thread (it holds no state of its own).
#ifndef CLAWDIE_SERVICES_ROUTER_TASK_OPS_H_
#define CLAWDIE_SERVICES_ROUTER_TASK_OPS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clawdie/v1/types.pb.h"
#include "common/schedule.h"
#include "services/router/clock.h"
#include "services/router/store_client.h"

namespace clawdie::router {

// The schedule kind of common/schedule.h for a proto kind; InvalidArgument for UNSPECIFIED.
absl::StatusOr<::clawdie::TaskKind> KindFromProto(pb::TaskKind kind);

// Reads "cron", "interval" or "once".
absl::StatusOr<pb::TaskKind> KindFromName(const std::string& name);

// "cron", "interval" or "once".
std::string KindName(pb::TaskKind kind);

class TaskOps {
 public:
  // Not owned; must outlive this object.
  TaskOps(StoreClient* store, const Clock* clock, std::string default_timezone);

  // Creates an active task of `group` from `spec` (prompt, kind, expression; optional
  // timezone, default the group's or TZ; optional context mode, default isolated).
  // InvalidArgument for a missing prompt or a bad schedule; store errors otherwise.
  absl::StatusOr<pb::Task> Create(const pb::Group& group, const pb::Task& spec);

  // Pauses (with `reason`), resumes (next_run recomputed from now) or cancels `task`.
  // FailedPrecondition for a finished task or an unsupported state.
  absl::StatusOr<pb::Task> SetState(const pb::Task& task, pb::TaskState state,
                                    const std::string& reason);

  // Changes the prompt and/or the schedule (kind and expression together).
  absl::StatusOr<pb::Task> Update(const pb::Task& task, const std::optional<std::string>& prompt,
                                  std::optional<pb::TaskKind> kind,
                                  const std::optional<std::string>& expression);

  // When the task is next due after a run that served `due`; nothing for a finished once-task.
  absl::StatusOr<std::optional<absl::Time>> NextAfterRun(const pb::Task& task, absl::Time due);

  // The time zone a group's tasks and prompts use.
  std::string ZoneOf(const pb::Group& group) const;

 private:
  StoreClient* store_;
  const Clock* clock_;
  std::string default_timezone_;
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_TASK_OPS_H_
