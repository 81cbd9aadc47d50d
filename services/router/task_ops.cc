#include "services/router/task_ops.h"

#include "services/router/proto_time.h"

namespace clawdie::router {

absl::StatusOr<::clawdie::TaskKind> KindFromProto(pb::TaskKind kind) {
  switch (kind) {
    case pb::TASK_KIND_CRON:
      return ::clawdie::TaskKind::kCron;
    case pb::TASK_KIND_INTERVAL:
      return ::clawdie::TaskKind::kInterval;
    case pb::TASK_KIND_ONCE:
      return ::clawdie::TaskKind::kOnce;
    default:
      return absl::InvalidArgumentError("task kind: expected cron, interval or once");
  }
}

absl::StatusOr<pb::TaskKind> KindFromName(const std::string& name) {
  if (name == "cron") return pb::TASK_KIND_CRON;
  if (name == "interval") return pb::TASK_KIND_INTERVAL;
  if (name == "once") return pb::TASK_KIND_ONCE;
  return absl::InvalidArgumentError("schedule_type \"" + name +
                                    "\": expected cron, interval or once");
}

std::string KindName(pb::TaskKind kind) {
  switch (kind) {
    case pb::TASK_KIND_CRON:
      return "cron";
    case pb::TASK_KIND_INTERVAL:
      return "interval";
    case pb::TASK_KIND_ONCE:
      return "once";
    default:
      return "unspecified";
  }
}

TaskOps::TaskOps(StoreClient* store, const Clock* clock, std::string default_timezone)
    : store_(store), clock_(clock), default_timezone_(std::move(default_timezone)) {}

std::string TaskOps::ZoneOf(const pb::Group& group) const {
  return group.timezone().empty() ? default_timezone_ : group.timezone();
}

absl::StatusOr<pb::Task> TaskOps::Create(const pb::Group& group, const pb::Task& spec) {
  if (spec.prompt().empty()) return absl::InvalidArgumentError("create task: prompt is required");
  absl::StatusOr<::clawdie::TaskKind> kind = KindFromProto(spec.kind());
  if (!kind.ok()) return kind.status();
  std::string zone = spec.timezone().empty() ? ZoneOf(group) : spec.timezone();
  absl::Time now = clock_->Now();

  absl::Status valid = ValidateNewSchedule(*kind, spec.expression(), zone, now);
  if (!valid.ok()) return valid;
  absl::StatusOr<std::optional<absl::Time>> next =
      NextDue(*kind, spec.expression(), zone, std::nullopt, now);
  if (!next.ok()) return next.status();
  if (!next->has_value()) {
    return absl::InvalidArgumentError("schedule \"" + spec.expression() + "\": never due");
  }

  pb::CreateTaskRequest request;
  pb::Task* task = request.mutable_task();
  *task = spec;
  task->set_group_folder(group.folder());
  task->set_chat_jid(group.chat_jid());
  task->set_timezone(zone);
  task->set_state(pb::TASK_STATE_ACTIVE);
  if (task->context_mode() == pb::CONTEXT_MODE_UNSPECIFIED) {
    task->set_context_mode(pb::CONTEXT_MODE_ISOLATED);
  }
  *task->mutable_next_run() = ToProto(**next);
  return store_->CreateTask(request);
}

absl::StatusOr<pb::Task> TaskOps::SetState(const pb::Task& task, pb::TaskState state,
                                           const std::string& reason) {
  std::string what = "set task " + std::to_string(task.id()) + " state";
  if (task.state() == pb::TASK_STATE_COMPLETED || task.state() == pb::TASK_STATE_CANCELLED) {
    return absl::FailedPreconditionError(what + ": the task has already ended");
  }
  pb::UpdateTaskRequest request;
  request.set_id(task.id());
  request.set_state(state);
  switch (state) {
    case pb::TASK_STATE_PAUSED:
      request.set_paused_reason(reason);
      break;
    case pb::TASK_STATE_CANCELLED:
      break;
    case pb::TASK_STATE_ACTIVE: {
      request.set_paused_reason("");
      // A resumed once-task keeps its time (it is overdue, not skipped); others restart from now.
      if (task.kind() == pb::TASK_KIND_ONCE) break;
      std::optional<absl::Time> previous;
      if (task.has_last_run()) previous = FromProto(task.last_run());
      absl::StatusOr<::clawdie::TaskKind> kind = KindFromProto(task.kind());
      if (!kind.ok()) return kind.status();
      absl::StatusOr<std::optional<absl::Time>> next =
          NextDue(*kind, task.expression(), task.timezone(), previous, clock_->Now());
      if (!next.ok()) return next.status();
      if (next->has_value()) *request.mutable_next_run() = ToProto(**next);
      break;
    }
    default:
      return absl::InvalidArgumentError(what + ": expected ACTIVE, PAUSED or CANCELLED");
  }
  return store_->UpdateTask(request);
}

absl::StatusOr<pb::Task> TaskOps::Update(const pb::Task& task,
                                         const std::optional<std::string>& prompt,
                                         std::optional<pb::TaskKind> kind,
                                         const std::optional<std::string>& expression) {
  pb::UpdateTaskRequest request;
  request.set_id(task.id());
  if (prompt.has_value()) {
    if (prompt->empty()) return absl::InvalidArgumentError("update task: prompt is empty");
    request.set_prompt(*prompt);
  }
  if (kind.has_value() || expression.has_value()) {
    pb::TaskKind new_kind = kind.value_or(task.kind());
    std::string new_expression = expression.value_or(task.expression());
    absl::StatusOr<::clawdie::TaskKind> parsed = KindFromProto(new_kind);
    if (!parsed.ok()) return parsed.status();
    absl::Time now = clock_->Now();
    absl::Status valid = ValidateNewSchedule(*parsed, new_expression, task.timezone(), now);
    if (!valid.ok()) return valid;
    absl::StatusOr<std::optional<absl::Time>> next =
        NextDue(*parsed, new_expression, task.timezone(), std::nullopt, now);
    if (!next.ok()) return next.status();
    request.set_kind(new_kind);
    request.set_expression(new_expression);
    if (next->has_value()) *request.mutable_next_run() = ToProto(**next);
  }
  return store_->UpdateTask(request);
}

absl::StatusOr<std::optional<absl::Time>> TaskOps::NextAfterRun(const pb::Task& task,
                                                                absl::Time due) {
  absl::StatusOr<::clawdie::TaskKind> kind = KindFromProto(task.kind());
  if (!kind.ok()) return kind.status();
  return NextDue(*kind, task.expression(), task.timezone(), due, clock_->Now());
}

}  // namespace clawdie::router
