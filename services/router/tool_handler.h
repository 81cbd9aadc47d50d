// Carries out the clawdie tools an agent calls (send_message, schedule_task,
// list_tasks, pause_task, resume_task, cancel_task, update_task,
// register_group) after authorising each by the run's group (tool_auth.h).
// Every call is answered: ok with a result, or not ok with the reason, which is
// also logged with the group.
//
// Thread-safety: safe from any thread.
#ifndef CLAWDIE_SERVICES_ROUTER_TOOL_HANDLER_H_
#define CLAWDIE_SERVICES_ROUTER_TOOL_HANDLER_H_

#include <cstdint>
#include <string>

#include "clawdie/v1/broker.pb.h"
#include "services/router/delivery.h"
#include "services/router/store_client.h"
#include "services/router/task_ops.h"
#include "services/router/tool_auth.h"

namespace clawdie::router {

// The answer to one tool call.
struct ToolOutcome {
  pb::ToolResult result;
  // A message went to the caller's own chat (the run has delivered output).
  bool delivered_to_own_chat = false;
};

class ToolHandler {
 public:
  // Not owned; all must outlive this object.
  ToolHandler(StoreClient* store, Deliverer* deliverer, TaskOps* tasks, std::string assistant_name);

  // Authorises and performs `call` for a run of `caller` with id `run_id`.
  ToolOutcome Handle(const Caller& caller, int64_t run_id, const pb::ToolCall& call);

 private:
  struct Parsed;
  absl::StatusOr<std::string> SendMessage(const Caller& caller, int64_t run_id, const Parsed& input,
                                          bool* own_chat);
  absl::StatusOr<std::string> ScheduleTask(const Caller& caller, const Parsed& input);
  absl::StatusOr<std::string> ListTasks(const Caller& caller);
  absl::StatusOr<std::string> ChangeTask(const Caller& caller, const std::string& tool,
                                         const Parsed& input);
  absl::StatusOr<std::string> UpdateTask(const Caller& caller, const Parsed& input);
  absl::StatusOr<std::string> RegisterGroup(const Caller& caller, const Parsed& input);
  absl::StatusOr<pb::Task> FindTask(const Caller& caller, const std::string& tool,
                                    const Parsed& input);

  StoreClient* store_;
  Deliverer* deliverer_;
  TaskOps* tasks_;
  std::string assistant_name_;
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_TOOL_HANDLER_H_
