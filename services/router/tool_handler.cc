#include "services/router/tool_handler.h"

#include <optional>

#include "common/status.h"
#include "nlohmann/json.hpp"
#include "services/router/proto_time.h"
#include "services/router/router_log.h"
#include "services/router/trigger.h"

namespace clawdie::router {

using nlohmann::json;

// A tool's input object; lookups never throw.
struct ToolHandler::Parsed {
  json value;

  std::optional<std::string> String(const char* key) const {
    auto it = value.find(key);
    if (it == value.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  }

  std::optional<bool> Bool(const char* key) const {
    auto it = value.find(key);
    if (it == value.end() || !it->is_boolean()) return std::nullopt;
    return it->get<bool>();
  }

  // A task id written as a number or as a string of digits.
  std::optional<int64_t> Id(const char* key) const {
    auto it = value.find(key);
    if (it == value.end()) return std::nullopt;
    if (it->is_number_integer()) return it->get<int64_t>();
    if (!it->is_string()) return std::nullopt;
    std::string text = it->get<std::string>();
    if (text.empty() || text.size() > 18) return std::nullopt;
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
    }
    return std::stoll(text);
  }
};

namespace {

absl::StatusOr<json> ParseInput(const std::string& text) {
  json value = json::parse(text.empty() ? "{}" : text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) {
    return absl::InvalidArgumentError("tool input: not a JSON object");
  }
  return value;
}

std::string TimeText(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromProto(time), absl::UTCTimeZone());
}

json TaskJson(const pb::Task& task) {
  static const char* kStates[] = {"unspecified", "active", "paused", "completed", "cancelled"};
  int state = static_cast<int>(task.state());
  return {{"id", task.id()},
          {"group", task.group_folder()},
          {"prompt", task.prompt()},
          {"schedule_type", KindName(task.kind())},
          {"schedule_value", task.expression()},
          {"timezone", task.timezone()},
          {"context_mode", task.context_mode() == pb::CONTEXT_MODE_GROUP ? "group" : "isolated"},
          {"state", state >= 0 && state <= 4 ? kStates[state] : "unknown"},
          {"next_run", TimeText(task.next_run())},
          {"last_result", task.last_result()}};
}

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

ToolHandler::ToolHandler(StoreClient* store, Deliverer* deliverer, TaskOps* tasks,
                         std::string assistant_name)
    : store_(store),
      deliverer_(deliverer),
      tasks_(tasks),
      assistant_name_(std::move(assistant_name)) {}

ToolOutcome ToolHandler::Handle(const Caller& caller, int64_t run_id, const pb::ToolCall& call) {
  ToolOutcome outcome;
  outcome.result.set_id(call.id());
  absl::StatusOr<std::string> result =
      absl::UnimplementedError("tool " + call.name() + ": unknown to the router");
  absl::StatusOr<json> input = ParseInput(call.input_json());
  if (!input.ok()) {
    result = input.status();
  } else {
    Parsed parsed{*std::move(input)};
    const std::string& name = call.name();
    if (name == "send_message") {
      result = SendMessage(caller, run_id, parsed, &outcome.delivered_to_own_chat);
    } else if (name == "schedule_task") {
      result = ScheduleTask(caller, parsed);
    } else if (name == "list_tasks") {
      result = ListTasks(caller);
    } else if (name == "pause_task" || name == "resume_task" || name == "cancel_task") {
      result = ChangeTask(caller, name, parsed);
    } else if (name == "update_task") {
      result = UpdateTask(caller, parsed);
    } else if (name == "register_group") {
      result = RegisterGroup(caller, parsed);
    }
  }

  outcome.result.set_ok(result.ok());
  if (result.ok()) {
    outcome.result.set_content(*result);
  } else {
    outcome.result.set_content(std::string(result.status().message()));
    Log()->warn("group {} run {}: tool {} refused: {}", caller.folder, run_id, call.name(),
                std::string(result.status().message()));
  }
  return outcome;
}

absl::StatusOr<std::string> ToolHandler::SendMessage(const Caller& caller, int64_t run_id,
                                                     const Parsed& input, bool* own_chat) {
  std::string text = StripInternal(input.String("text").value_or(""));
  if (text.empty()) return absl::InvalidArgumentError("send_message: text is empty");
  std::string target = input.String("chat_jid").value_or(input.String("jid").value_or(""));
  if (target.empty()) target = caller.chat_jid;

  bool registered = target == caller.chat_jid;
  if (!registered && caller.is_main) {
    pb::GetGroupRequest request;
    request.set_chat_jid(target);
    absl::StatusOr<pb::Group> group = store_->GetGroup(request);
    if (!group.ok() && group.status().code() != absl::StatusCode::kNotFound) {
      return group.status();
    }
    registered = group.ok();
  }
  absl::Status allowed = AuthorizeSendMessage(caller, target, registered);
  if (!allowed.ok()) return allowed;

  absl::StatusOr<pb::OutboxEntry> entry = deliverer_->Enqueue(target, text, run_id);
  if (!entry.ok()) return entry.status();
  *own_chat = target == caller.chat_jid;
  return Dump({{"queued", true}, {"outbox_id", entry->id()}});
}

absl::StatusOr<std::string> ToolHandler::ScheduleTask(const Caller& caller, const Parsed& input) {
  std::string folder = input.String("target_group").value_or("");
  if (folder.empty()) folder = caller.folder;
  absl::Status allowed = AuthorizeTaskAccess(caller, "schedule_task", folder);
  if (!allowed.ok()) return allowed;

  pb::GetGroupRequest lookup;
  lookup.set_folder(folder);
  absl::StatusOr<pb::Group> group = store_->GetGroup(lookup);
  if (!group.ok()) return Annotate(group.status(), "schedule_task group " + folder);

  absl::StatusOr<pb::TaskKind> kind = KindFromName(input.String("schedule_type").value_or(""));
  if (!kind.ok()) return kind.status();
  std::string mode = input.String("context_mode").value_or("isolated");
  if (mode != "group" && mode != "isolated") {
    return absl::InvalidArgumentError("context_mode \"" + mode + "\": expected group or isolated");
  }
  pb::Task spec;
  spec.set_prompt(input.String("prompt").value_or(""));
  spec.set_kind(*kind);
  spec.set_expression(input.String("schedule_value").value_or(""));
  spec.set_context_mode(mode == "group" ? pb::CONTEXT_MODE_GROUP : pb::CONTEXT_MODE_ISOLATED);
  absl::StatusOr<pb::Task> task = tasks_->Create(*group, spec);
  if (!task.ok()) return task.status();
  return Dump(TaskJson(*task));
}

absl::StatusOr<std::string> ToolHandler::ListTasks(const Caller& caller) {
  pb::ListTasksRequest request;
  if (!caller.is_main) request.set_group_folder(caller.folder);
  absl::StatusOr<pb::ListTasksResponse> tasks = store_->ListTasks(request);
  if (!tasks.ok()) return tasks.status();
  json list = json::array();
  for (const pb::Task& task : tasks->tasks()) {
    // The store filters by group already; this check keeps the rule in one visible place.
    if (AuthorizeTaskAccess(caller, "list_tasks", task.group_folder()).ok()) {
      list.push_back(TaskJson(task));
    }
  }
  return Dump(list);
}

absl::StatusOr<pb::Task> ToolHandler::FindTask(const Caller& caller, const std::string& tool,
                                               const Parsed& input) {
  std::optional<int64_t> id = input.Id("task_id");
  if (!id.has_value()) return absl::InvalidArgumentError(tool + ": task_id is required");
  pb::GetTaskRequest request;
  request.set_id(*id);
  absl::StatusOr<pb::Task> task = store_->GetTask(request);
  if (!task.ok()) {
    if (task.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(tool + " task " + std::to_string(*id) + ": no such task");
    }
    return task.status();
  }
  absl::Status allowed = AuthorizeTaskAccess(caller, tool, task->group_folder());
  if (!allowed.ok()) return allowed;
  return task;
}

absl::StatusOr<std::string> ToolHandler::ChangeTask(const Caller& caller, const std::string& tool,
                                                    const Parsed& input) {
  absl::StatusOr<pb::Task> task = FindTask(caller, tool, input);
  if (!task.ok()) return task.status();
  pb::TaskState state = tool == "pause_task"    ? pb::TASK_STATE_PAUSED
                        : tool == "resume_task" ? pb::TASK_STATE_ACTIVE
                                                : pb::TASK_STATE_CANCELLED;
  absl::StatusOr<pb::Task> changed =
      tasks_->SetState(*task, state, "paused by group " + caller.folder);
  if (!changed.ok()) return changed.status();
  return Dump(TaskJson(*changed));
}

absl::StatusOr<std::string> ToolHandler::UpdateTask(const Caller& caller, const Parsed& input) {
  absl::StatusOr<pb::Task> task = FindTask(caller, "update_task", input);
  if (!task.ok()) return task.status();
  std::optional<pb::TaskKind> kind;
  if (std::optional<std::string> name = input.String("schedule_type"); name.has_value()) {
    absl::StatusOr<pb::TaskKind> parsed = KindFromName(*name);
    if (!parsed.ok()) return parsed.status();
    kind = *parsed;
  }
  absl::StatusOr<pb::Task> changed =
      tasks_->Update(*task, input.String("prompt"), kind, input.String("schedule_value"));
  if (!changed.ok()) return changed.status();
  return Dump(TaskJson(*changed));
}

absl::StatusOr<std::string> ToolHandler::RegisterGroup(const Caller& caller, const Parsed& input) {
  pb::CreateGroupRequest request;
  pb::Group* group = request.mutable_group();
  group->set_chat_jid(input.String("jid").value_or(""));
  group->set_name(input.String("name").value_or(""));
  group->set_folder(input.String("folder").value_or(""));
  group->set_trigger(input.String("trigger").value_or("@" + assistant_name_));
  group->set_requires_trigger(input.Bool("requires_trigger").value_or(true));
  // An agent's input never makes a group main, whatever it asks for.
  group->set_is_main(input.Bool("is_main").value_or(false));
  absl::Status allowed = AuthorizeRegisterGroup(caller, *group);
  if (!allowed.ok()) return allowed;
  if (absl::Status valid = ValidateGroupSettings(*group); !valid.ok()) {
    return Annotate(valid, "register_group");
  }

  absl::StatusOr<pb::Group> created = store_->CreateGroup(request);
  if (!created.ok()) return created.status();
  Log()->info("group {} registered group {} ({})", caller.folder, created->folder(),
              created->chat_jid());
  return Dump({{"registered", true}, {"folder", created->folder()}, {"jid", created->chat_jid()}});
}

}  // namespace clawdie::router
