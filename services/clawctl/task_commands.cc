// `clawctl tasks list|add|pause|resume|cancel|runs` (Router admin RPCs).
#include <memory>

#include "clawdie/v1/router.grpc.pb.h"
#include "services/clawctl/commands.h"
#include "services/clawctl/format.h"
#include "services/clawctl/requests.h"

namespace clawdie::clawctl {
namespace {

struct ListArgs {
  std::string group;
  bool all = false;
};

absl::Status ListTasks(Session* session, const ListArgs& args) {
  auto stub = session->Stub<v1::Router>("router");
  if (!stub.ok()) return stub.status();
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::ListTasksRequest request;
  request.set_group_folder(args.group);
  request.set_include_finished(args.all);
  v1::ListTasksResponse response;
  grpc::Status status = (*stub)->ListTasks(&context, request, &response);
  if (!status.ok()) return session->CallError("tasks list", "router", status);
  return PrintResult(session, response, TasksTable(response, session->zone()), "no tasks");
}

// The chat a group's output goes to; NotFound when the group is not registered.
absl::StatusOr<std::string> GroupChat(Session* session, v1::Router::Stub* stub,
                                      const std::string& folder) {
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::ListGroupsResponse response;
  grpc::Status status = stub->ListGroups(&context, v1::ListGroupsRequest(), &response);
  if (!status.ok()) return session->CallError("tasks add: list groups", "router", status);
  for (const v1::Group& group : response.groups()) {
    if (group.folder() == folder) return group.chat_jid();
  }
  return absl::NotFoundError("tasks add: group " + folder +
                             " is not registered (see clawctl groups list)");
}

absl::Status AddTask(Session* session, const TaskArgs& args) {
  // Check the arguments before any call, so a typo is reported even with the router down.
  if (absl::StatusOr<v1::Task> checked = BuildTask(args, ""); !checked.ok()) {
    return checked.status();
  }
  auto stub = session->Stub<v1::Router>("router");
  if (!stub.ok()) return stub.status();
  absl::StatusOr<std::string> chat = GroupChat(session, stub->get(), args.group);
  if (!chat.ok()) return chat.status();

  v1::RouterCreateTaskRequest request;
  *request.mutable_task() = *BuildTask(args, *chat);
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::Task task;
  grpc::Status status = (*stub)->CreateTask(&context, request, &task);
  if (!status.ok()) return session->CallError("tasks add", "router", status);
  return PrintDone(session, task,
                   "created task " + std::to_string(task.id()) + " for group " +
                       task.group_folder() + ", next run " +
                       FormatTimestamp(task.next_run(), session->zone()));
}

absl::Status SetState(Session* session, const std::string& verb, const std::string& id_text,
                      v1::TaskState state) {
  absl::StatusOr<int64_t> id = ParseTaskId(id_text);
  if (!id.ok()) return id.status();
  auto stub = session->Stub<v1::Router>("router");
  if (!stub.ok()) return stub.status();

  grpc::ClientContext context;
  session->Prepare(&context);
  v1::SetTaskStateRequest request;
  request.set_id(*id);
  request.set_state(state);
  v1::Task task;
  grpc::Status status = (*stub)->SetTaskState(&context, request, &task);
  if (!status.ok()) return session->CallError("tasks " + verb + " " + id_text, "router", status);
  return PrintDone(session, task,
                   "task " + std::to_string(task.id()) + " is " +
                       EnumLabel(v1::TaskState_descriptor(), task.state()));
}

absl::Status ListRuns(Session* session, const std::string& id_text, int limit) {
  absl::StatusOr<int64_t> id = ParseTaskId(id_text);
  if (!id.ok()) return id.status();
  auto stub = session->Stub<v1::Router>("router");
  if (!stub.ok()) return stub.status();

  grpc::ClientContext context;
  session->Prepare(&context);
  v1::ListTaskRunsRequest request;
  request.set_task_id(*id);
  request.set_limit(limit);
  v1::ListTaskRunsResponse response;
  grpc::Status status = (*stub)->ListTaskRuns(&context, request, &response);
  if (!status.ok()) return session->CallError("tasks runs " + id_text, "router", status);
  return PrintResult(session, response, TaskRunsTable(response, session->zone()),
                     "task " + id_text + " has not run yet");
}

void AddList(CLI::App* tasks, Action* action) {
  auto args = std::make_shared<ListArgs>();
  CLI::App* list = tasks->add_subcommand("list", "List scheduled tasks");
  list->add_option("--group", args->group, "Only this group's tasks (folder)");
  list->add_flag("--all", args->all, "Include completed and cancelled tasks");
  list->callback([action, args] { *action = [args](Session* s) { return ListTasks(s, *args); }; });
}

void AddAdd(CLI::App* tasks, Action* action) {
  auto args = std::make_shared<TaskArgs>();
  CLI::App* add = tasks->add_subcommand("add", "Schedule a task for a group");
  add->add_option("--group", args->group, "The group's folder")->required();
  add->add_option("--cron", args->cron, "Cron expression, e.g. \"0 9 * * 1-5\" or @daily");
  add->add_option("--every", args->every, "Interval, e.g. 30m, 1h30m, 2d");
  add->add_option("--at", args->at, "Once, at 2026-12-24T09:00 (local) or an RFC 3339 instant");
  add->add_option("--prompt", args->prompt, "What the agent is asked at each run")->required();
  add->add_option("--context", args->context, "group (continue the session) or isolated");
  add->add_option("--timezone", args->timezone, "IANA time zone (default: the group's)");
  add->callback([action, args] { *action = [args](Session* s) { return AddTask(s, *args); }; });
}

void AddStateCommand(CLI::App* tasks, Action* action, const std::string& verb,
                     const std::string& help, v1::TaskState state) {
  auto id = std::make_shared<std::string>();
  CLI::App* command = tasks->add_subcommand(verb, help);
  command->add_option("ID", *id, "Task id")->required();
  command->callback([action, id, verb, state] {
    *action = [id, verb, state](Session* s) { return SetState(s, verb, *id, state); };
  });
}

void AddRuns(CLI::App* tasks, Action* action) {
  auto id = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(20);
  CLI::App* runs = tasks->add_subcommand("runs", "The run log of a task, newest first");
  runs->add_option("ID", *id, "Task id")->required();
  runs->add_option("--limit", *limit, "At most this many")->check(CLI::PositiveNumber);
  runs->callback([action, id, limit] {
    *action = [id, limit](Session* s) { return ListRuns(s, *id, *limit); };
  });
}

}  // namespace

void AddTaskCommands(CLI::App* app, Action* action) {
  CLI::App* tasks = app->add_subcommand("tasks", "Scheduled tasks")->require_subcommand(1);
  AddList(tasks, action);
  AddAdd(tasks, action);
  AddStateCommand(tasks, action, "pause", "Pause a task", v1::TASK_STATE_PAUSED);
  AddStateCommand(tasks, action, "resume", "Resume a paused task", v1::TASK_STATE_ACTIVE);
  AddStateCommand(tasks, action, "cancel", "Cancel a task for good", v1::TASK_STATE_CANCELLED);
  AddRuns(tasks, action);
}

}  // namespace clawdie::clawctl
