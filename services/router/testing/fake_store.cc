// FakeStore: store.proto's documented semantics over maps, for the router's unit tests.
#include <algorithm>

#include "services/router/proto_time.h"
#include "services/router/testing/fakes.h"

namespace clawdie::router::testing {
namespace {

bool Unfinished(const pb::Run& run) {
  return run.state() == pb::RUN_STATE_PENDING || run.state() == pb::RUN_STATE_RUNNING;
}

}  // namespace

void FakeStore::SetUnavailable(bool unavailable) {
  std::lock_guard<std::mutex> lock(mu_);
  unavailable_ = unavailable;
}

int FakeStore::CallCount(const std::string& rpc) {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_[rpc];
}

absl::Status FakeStore::Check(const char* rpc) {
  ++calls_[rpc];
  if (!unavailable_) return absl::OkStatus();
  return absl::UnavailableError(std::string("store ") + rpc + ": connection refused");
}

void FakeStore::FailOutboxWrites(int count, absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  outbox_failures_ = count;
  outbox_failure_ = std::move(status);
}

pb::Group FakeStore::AddGroup(const std::string& folder, const std::string& jid, bool is_main,
                              bool requires_trigger, const std::string& timezone) {
  pb::Group group;
  group.set_folder(folder);
  group.set_chat_jid(jid);
  group.set_name(folder);
  group.set_is_main(is_main);
  group.set_requires_trigger(requires_trigger);
  group.set_trigger("@Andy");
  group.set_timezone(timezone);
  std::lock_guard<std::mutex> lock(mu_);
  groups_[folder] = group;
  return group;
}

std::vector<pb::OutboxEntry> FakeStore::Outbox() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<pb::OutboxEntry> out;
  for (const auto& [id, entry] : outbox_) out.push_back(entry);
  return out;
}

std::vector<pb::Run> FakeStore::Runs() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<pb::Run> out;
  for (const auto& [id, run] : runs_) out.push_back(run);
  return out;
}

pb::Run FakeStore::RunById(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_[id];
}

int64_t FakeStore::Cursor(const std::string& folder) {
  std::lock_guard<std::mutex> lock(mu_);
  return cursors_[folder];
}

std::string FakeStore::SessionOf(const std::string& folder) {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_[folder];
}

std::vector<pb::TaskRunLog> FakeStore::TaskLog(int64_t task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<pb::TaskRunLog> out;
  for (const pb::TaskRunLog& log : task_runs_) {
    if (log.task_id() == task_id) out.push_back(log);
  }
  return out;
}

absl::StatusOr<pb::AppendMessageResponse> FakeStore::AppendMessage(
    const pb::AppendMessageRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("AppendMessage"); !status.ok()) return status;
  pb::AppendMessageResponse response;
  for (const auto& [folder, group] : groups_) {
    if (group.chat_jid() == request.message().chat_jid()) *response.mutable_group() = group;
  }
  bool duplicate = false;
  for (const pb::Message& stored : messages_) {
    if (stored.chat_jid() == request.message().chat_jid() &&
        stored.platform_message_id() == request.message().platform_message_id()) {
      response.set_seq(stored.seq());
      duplicate = true;
    }
  }
  if (!duplicate) {
    pb::Message message = request.message();
    message.set_seq(next_seq_++);
    messages_.push_back(message);
    if (request.has_chat()) chats_[request.chat().jid()] = request.chat();
    response.set_seq(message.seq());
    response.set_inserted(true);
  }
  if (request.has_begin_run()) {
    absl::StatusOr<pb::BeginMessageRunResponse> begun = BeginMessageRunLocked(request.begin_run());
    if (begun.ok()) {
      *response.mutable_run_start() = *std::move(begun);
    } else {
      response.set_run_start_code(static_cast<int>(begun.status().code()));
      response.set_run_start_error(std::string(begun.status().message()));
    }
  }
  if (request.has_list_after_seq()) {
    std::vector<pb::Message> after;
    for (const pb::Message& stored : messages_) {
      if (stored.chat_jid() == request.message().chat_jid() &&
          stored.seq() > request.list_after_seq()) {
        after.push_back(stored);
      }
    }
    size_t limit = request.list_limit() > 0 ? static_cast<size_t>(request.list_limit()) : 50;
    size_t skip = after.size() > limit ? after.size() - limit : 0;
    response.set_listed_omitted(static_cast<int64_t>(skip));
    for (size_t i = skip; i < after.size(); ++i) *response.add_listed() = after[i];
  }
  return response;
}

absl::StatusOr<pb::ListMessagesResponse> FakeStore::ListMessages(
    const pb::ListMessagesRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("ListMessages"); !status.ok()) return status;
  std::vector<pb::Message> matching;
  for (const pb::Message& message : messages_) {
    if (message.chat_jid() == request.chat_jid() && message.seq() > request.after_seq()) {
      matching.push_back(message);
    }
  }
  size_t limit = request.limit() > 0 ? static_cast<size_t>(request.limit()) : 200;
  pb::ListMessagesResponse response;
  size_t begin = 0;
  size_t end = std::min(matching.size(), limit);
  if (matching.size() > limit && request.keep_newest()) {
    begin = matching.size() - limit;
    end = matching.size();
  }
  response.set_omitted(static_cast<int64_t>(matching.size() - (end - begin)));
  for (size_t i = begin; i < end; ++i) *response.add_messages() = matching[i];
  return response;
}

absl::StatusOr<pb::Chat> FakeStore::UpsertChat(const pb::UpsertChatRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("UpsertChat"); !status.ok()) return status;
  chats_[request.chat().jid()] = request.chat();
  return request.chat();
}

absl::StatusOr<pb::ListChatsResponse> FakeStore::ListChats(const pb::ListChatsRequest&) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("ListChats"); !status.ok()) return status;
  pb::ListChatsResponse response;
  for (const auto& [jid, chat] : chats_) *response.add_chats() = chat;
  return response;
}

absl::StatusOr<pb::Group> FakeStore::CreateGroup(const pb::CreateGroupRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("CreateGroup"); !status.ok()) return status;
  const pb::Group& group = request.group();
  for (const auto& [folder, existing] : groups_) {
    if (folder == group.folder() || existing.chat_jid() == group.chat_jid()) {
      return absl::AlreadyExistsError("create group " + group.folder() + ": taken");
    }
    if (existing.is_main() && group.is_main()) {
      return absl::FailedPreconditionError("create group " + group.folder() + ": second main");
    }
  }
  groups_[group.folder()] = group;
  return group;
}

absl::StatusOr<pb::Group> FakeStore::UpdateGroup(const pb::UpdateGroupRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("UpdateGroup"); !status.ok()) return status;
  auto it = groups_.find(request.group().folder());
  if (it == groups_.end()) return absl::NotFoundError("update group: no such group");
  it->second = request.group();
  return it->second;
}

absl::StatusOr<pb::Group> FakeStore::GetGroup(const pb::GetGroupRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("GetGroup"); !status.ok()) return status;
  for (const auto& [folder, group] : groups_) {
    if ((request.has_folder() && folder == request.folder()) ||
        (request.has_chat_jid() && group.chat_jid() == request.chat_jid())) {
      return group;
    }
  }
  return absl::NotFoundError("store GetGroup: no such group");
}

absl::StatusOr<pb::ListGroupsResponse> FakeStore::ListGroups(const pb::ListGroupsRequest&) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("ListGroups"); !status.ok()) return status;
  pb::ListGroupsResponse response;
  for (const auto& [folder, group] : groups_) *response.add_groups() = group;
  return response;
}

absl::StatusOr<pb::DeleteGroupResponse> FakeStore::DeleteGroup(
    const pb::DeleteGroupRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("DeleteGroup"); !status.ok()) return status;
  if (groups_.erase(request.folder()) == 0) return absl::NotFoundError("delete group: absent");
  return pb::DeleteGroupResponse();
}

absl::StatusOr<pb::Session> FakeStore::GetSession(const pb::GetSessionRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("GetSession"); !status.ok()) return status;
  pb::Session session;
  session.set_group_folder(request.group_folder());
  session.set_session_id(sessions_[request.group_folder()]);
  return session;
}

absl::StatusOr<pb::Session> FakeStore::SetSession(const pb::SetSessionRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("SetSession"); !status.ok()) return status;
  sessions_[request.group_folder()] = request.session_id();
  pb::Session session;
  session.set_group_folder(request.group_folder());
  session.set_session_id(request.session_id());
  return session;
}

absl::StatusOr<pb::Cursor> FakeStore::GetCursor(const pb::GetCursorRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("GetCursor"); !status.ok()) return status;
  pb::Cursor cursor;
  cursor.set_group_folder(request.group_folder());
  cursor.set_seq(cursors_[request.group_folder()]);
  return cursor;
}

absl::StatusOr<pb::Cursor> FakeStore::AdvanceCursor(const pb::AdvanceCursorRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("AdvanceCursor"); !status.ok()) return status;
  int64_t& seq = cursors_[request.group_folder()];
  seq = std::max(seq, request.seq());
  pb::Cursor cursor;
  cursor.set_group_folder(request.group_folder());
  cursor.set_seq(seq);
  return cursor;
}

absl::StatusOr<pb::Run> FakeStore::BeginRun(const pb::BeginRunRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("BeginRun"); !status.ok()) return status;
  auto group = groups_.find(request.group_folder());
  if (group == groups_.end()) return absl::NotFoundError("begin run: group not registered");
  pb::Run run;
  run.set_id(next_id_++);
  run.set_group_folder(request.group_folder());
  run.set_chat_jid(group->second.chat_jid());
  run.set_first_seq(request.first_seq());
  run.set_last_seq(request.last_seq());
  run.set_state(pb::RUN_STATE_PENDING);
  run.set_task_id(request.task_id());
  *run.mutable_task_due() = request.task_due();
  *run.mutable_created_at() = ToProto(clock_->Now());
  runs_[run.id()] = run;
  return run;
}

absl::StatusOr<pb::BeginMessageRunResponse> FakeStore::BeginMessageRun(
    const pb::BeginMessageRunRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("BeginMessageRun"); !status.ok()) return status;
  return BeginMessageRunLocked(request);
}

absl::StatusOr<pb::BeginMessageRunResponse> FakeStore::BeginMessageRunLocked(
    const pb::BeginMessageRunRequest& request) {
  auto group = groups_.find(request.group_folder());
  if (group == groups_.end()) return absl::NotFoundError("begin message run: not registered");
  const pb::Group& expected = request.if_group();
  if (request.has_if_group() && (expected.chat_jid() != group->second.chat_jid() ||
                                 expected.trigger() != group->second.trigger() ||
                                 expected.requires_trigger() != group->second.requires_trigger() ||
                                 expected.is_main() != group->second.is_main())) {
    return absl::FailedPreconditionError("begin message run: the group changed");
  }
  pb::BeginMessageRunResponse response;
  *response.mutable_group() = group->second;
  response.set_cursor_seq(cursors_[request.group_folder()]);
  response.set_session_id(sessions_[request.group_folder()]);
  std::vector<pb::Message> after;
  for (const pb::Message& message : messages_) {
    if (message.chat_jid() == group->second.chat_jid() && message.seq() > response.cursor_seq()) {
      after.push_back(message);
    }
  }
  size_t limit = request.max_messages() > 0 ? static_cast<size_t>(request.max_messages()) : 50;
  size_t skip = after.size() > limit ? after.size() - limit : 0;
  response.set_omitted(static_cast<int64_t>(skip));
  for (size_t i = skip; i < after.size(); ++i) *response.add_messages() = after[i];

  auto answerable = std::find_if(response.messages().begin(), response.messages().end(),
                                 [](const pb::Message& m) { return !m.is_own(); });
  if (answerable == response.messages().end()) return response;
  int64_t last_seq = response.messages().rbegin()->seq();
  if (request.resume_run_id() != 0) {
    auto resumed = runs_.find(request.resume_run_id());
    if (resumed == runs_.end() || resumed->second.group_folder() != request.group_folder()) {
      return absl::FailedPreconditionError("begin message run: not a run of this group");
    }
    resumed->second.set_state(pb::RUN_STATE_PENDING);
    resumed->second.set_last_seq(std::max(resumed->second.last_seq(), last_seq));
    *response.mutable_run() = resumed->second;
    return response;
  }
  pb::Run& run = runs_[next_id_];
  run.set_id(next_id_++);
  run.set_group_folder(request.group_folder());
  run.set_chat_jid(group->second.chat_jid());
  run.set_first_seq(answerable->seq());
  run.set_last_seq(last_seq);
  run.set_state(pb::RUN_STATE_PENDING);
  *run.mutable_created_at() = ToProto(clock_->Now());
  *response.mutable_run() = run;
  return response;
}

absl::StatusOr<pb::Run> FakeStore::UpdateRun(const pb::UpdateRunRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("UpdateRun"); !status.ok()) return status;
  auto it = runs_.find(request.run_id());
  if (it == runs_.end()) return absl::NotFoundError("update run: no such run");
  pb::Run& run = it->second;
  if (request.state() != pb::RUN_STATE_UNSPECIFIED) run.set_state(request.state());
  if (request.last_seq() > run.last_seq()) run.set_last_seq(request.last_seq());
  if (!request.error().empty()) run.set_error(request.error());
  if (request.output_delivered()) run.set_output_delivered(true);
  if (!request.session_id().empty()) run.set_session_id(request.session_id());
  if (request.add_attempt()) run.set_attempts(run.attempts() + 1);
  if (!Unfinished(run)) *run.mutable_finished_at() = ToProto(clock_->Now());
  return run;
}

absl::StatusOr<pb::ListRunsResponse> FakeStore::ListRuns(const pb::ListRunsRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("ListRuns"); !status.ok()) return status;
  pb::ListRunsResponse response;
  for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
    if (request.unfinished_only() && !Unfinished(it->second)) continue;
    if (!request.group_folder().empty() && it->second.group_folder() != request.group_folder()) {
      continue;
    }
    *response.add_runs() = it->second;
  }
  return response;
}

absl::StatusOr<pb::Task> FakeStore::CreateTask(const pb::CreateTaskRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("CreateTask"); !status.ok()) return status;
  pb::Task task = request.task();
  task.set_id(next_id_++);
  *task.mutable_created_at() = ToProto(clock_->Now());
  tasks_[task.id()] = task;
  return task;
}

absl::StatusOr<pb::Task> FakeStore::GetTask(const pb::GetTaskRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("GetTask"); !status.ok()) return status;
  auto it = tasks_.find(request.id());
  if (it == tasks_.end()) return absl::NotFoundError("get task: no such task");
  return it->second;
}

absl::StatusOr<pb::ListTasksResponse> FakeStore::ListTasks(const pb::ListTasksRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("ListTasks"); !status.ok()) return status;
  pb::ListTasksResponse response;
  for (const auto& [id, task] : tasks_) {
    if (!request.group_folder().empty() && task.group_folder() != request.group_folder()) continue;
    bool finished =
        task.state() == pb::TASK_STATE_COMPLETED || task.state() == pb::TASK_STATE_CANCELLED;
    if (finished && !request.include_finished()) continue;
    *response.add_tasks() = task;
  }
  return response;
}

absl::StatusOr<pb::Task> FakeStore::UpdateTask(const pb::UpdateTaskRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("UpdateTask"); !status.ok()) return status;
  auto it = tasks_.find(request.id());
  if (it == tasks_.end()) return absl::NotFoundError("update task: no such task");
  pb::Task& task = it->second;
  if (request.has_prompt()) task.set_prompt(request.prompt());
  if (request.kind() != pb::TASK_KIND_UNSPECIFIED) task.set_kind(request.kind());
  if (request.has_expression()) task.set_expression(request.expression());
  if (request.state() != pb::TASK_STATE_UNSPECIFIED) task.set_state(request.state());
  if (request.has_next_run()) *task.mutable_next_run() = request.next_run();
  if (request.has_paused_reason()) task.set_paused_reason(request.paused_reason());
  if (request.has_timezone()) task.set_timezone(request.timezone());
  return task;
}

absl::StatusOr<pb::ClaimDueTasksResponse> FakeStore::ClaimDueTasks(
    const pb::ClaimDueTasksRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("ClaimDueTasks"); !status.ok()) return status;
  absl::Time now = FromProto(request.now());
  pb::ClaimDueTasksResponse response;
  for (auto& [id, task] : tasks_) {
    if (task.state() != pb::TASK_STATE_ACTIVE || !task.has_next_run()) continue;
    if (FromProto(task.next_run()) > now) continue;
    if (!task.lease_owner().empty() && FromProto(task.lease_until()) > now) continue;
    task.set_lease_owner(request.owner());
    *task.mutable_lease_until() = ToProto(now + FromProto(request.lease()));
    *response.add_tasks() = task;
  }
  return response;
}

absl::StatusOr<pb::Task> FakeStore::CompleteTaskRun(const pb::CompleteTaskRunRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("CompleteTaskRun"); !status.ok()) return status;
  auto it = tasks_.find(request.task_id());
  if (it == tasks_.end()) return absl::NotFoundError("complete task run: no such task");
  pb::Task& task = it->second;
  if (task.lease_owner() != request.owner() ||
      FromProto(task.next_run()) != FromProto(request.due_at())) {
    return absl::FailedPreconditionError("complete task run: lease lost");
  }
  pb::TaskRunLog log;
  log.set_id(next_id_++);
  log.set_task_id(task.id());
  *log.mutable_due_at() = request.due_at();
  *log.mutable_started_at() = request.started_at();
  *log.mutable_duration() = request.duration();
  log.set_ok(request.ok());
  log.set_result(request.result());
  task_runs_.push_back(log);
  *task.mutable_last_run() = request.due_at();
  task.set_last_result(request.result());
  task.clear_lease_owner();
  task.clear_lease_until();
  if (request.has_next_run()) {
    *task.mutable_next_run() = request.next_run();
  } else {
    task.clear_next_run();
    if (task.state() == pb::TASK_STATE_ACTIVE) task.set_state(pb::TASK_STATE_COMPLETED);
  }
  return task;
}

absl::StatusOr<pb::ListTaskRunsResponse> FakeStore::ListTaskRuns(
    const pb::ListTaskRunsRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("ListTaskRuns"); !status.ok()) return status;
  pb::ListTaskRunsResponse response;
  for (auto it = task_runs_.rbegin(); it != task_runs_.rend(); ++it) {
    if (it->task_id() == request.task_id()) *response.add_runs() = *it;
  }
  return response;
}

absl::StatusOr<pb::OutboxEntry> FakeStore::EnqueueOutbox(const pb::EnqueueOutboxRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("EnqueueOutbox"); !status.ok()) return status;
  if (outbox_failures_ > 0) {
    --outbox_failures_;
    return outbox_failure_;
  }
  pb::OutboxEntry entry = request.entry();
  entry.set_id(next_id_++);
  entry.set_state(pb::OUTBOX_STATE_PENDING);
  *entry.mutable_created_at() = ToProto(clock_->Now());
  *entry.mutable_next_attempt_at() = ToProto(clock_->Now());
  outbox_[entry.id()] = entry;
  auto run = runs_.find(entry.run_id());
  if (request.run_answered_seq() > 0 && run != runs_.end()) {
    run->second.set_output_delivered(true);
    run->second.set_answered_seq(std::max(run->second.answered_seq(), request.run_answered_seq()));
    // As the store: the group's cursor moves past what the reply answers in the same commit.
    int64_t& cursor = cursors_[run->second.group_folder()];
    cursor = std::max(cursor, request.run_answered_seq());
  }
  return entry;
}

absl::StatusOr<pb::ListPendingOutboxResponse> FakeStore::ListPendingOutbox(
    const pb::ListPendingOutboxRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("ListPendingOutbox"); !status.ok()) return status;
  absl::Time now = request.has_now() ? FromProto(request.now()) : clock_->Now();
  pb::ListPendingOutboxResponse response;
  for (const auto& [id, entry] : outbox_) {
    if (entry.state() == pb::OUTBOX_STATE_PENDING && FromProto(entry.next_attempt_at()) <= now) {
      *response.add_entries() = entry;
    }
  }
  return response;
}

absl::StatusOr<pb::OutboxEntry> FakeStore::MarkDelivered(const pb::MarkDeliveredRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("MarkDelivered"); !status.ok()) return status;
  auto it = outbox_.find(request.id());
  if (it == outbox_.end()) return absl::NotFoundError("mark delivered: no such entry");
  if (it->second.state() == pb::OUTBOX_STATE_DELIVERED) return it->second;
  it->second.set_state(pb::OUTBOX_STATE_DELIVERED);
  it->second.set_attempts(it->second.attempts() + 1);
  *it->second.mutable_platform_message_ids() = request.platform_message_ids();
  *it->second.mutable_delivered_at() = ToProto(clock_->Now());
  return it->second;
}

absl::StatusOr<pb::OutboxEntry> FakeStore::MarkFailed(const pb::MarkFailedRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("MarkFailed"); !status.ok()) return status;
  auto it = outbox_.find(request.id());
  if (it == outbox_.end()) return absl::NotFoundError("mark failed: no such entry");
  pb::OutboxEntry& entry = it->second;
  if (entry.state() == pb::OUTBOX_STATE_DELIVERED) {
    return absl::FailedPreconditionError("mark failed: already delivered");
  }
  entry.set_attempts(entry.attempts() + 1);
  entry.set_last_error(request.error());
  entry.set_state(request.permanent() ? pb::OUTBOX_STATE_FAILED : pb::OUTBOX_STATE_PENDING);
  if (!request.permanent()) *entry.mutable_next_attempt_at() = request.next_attempt_at();
  return entry;
}

absl::StatusOr<pb::OutboxEntry> FakeStore::RecordReceipt(const pb::RecordReceiptRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status status = Check("RecordReceipt"); !status.ok()) return status;
  const pb::DeliveryReceipt& r = request.receipt();
  auto holds = [&](const pb::OutboxEntry& e) {
    const auto& ids = e.platform_message_ids();
    return std::find(ids.begin(), ids.end(), r.platform_message_id()) != ids.end();
  };
  auto it = outbox_.find(r.outbox_id());
  if (r.outbox_id() == 0) {
    it = std::find_if(outbox_.begin(), outbox_.end(),
                      [&](const auto& e) { return holds(e.second); });
  }
  if (it == outbox_.end()) return absl::NotFoundError("record receipt: no such entry");
  pb::OutboxEntry& entry = it->second;
  bool final = entry.platform_state() == pb::PLATFORM_DELIVERY_STATE_FAILED;
  bool further =
      r.state() == pb::PLATFORM_DELIVERY_STATE_FAILED || r.state() > entry.platform_state();
  if (!final && further) {
    entry.set_platform_state(r.state());
    entry.set_platform_error(r.error());
    *entry.mutable_platform_state_at() = r.time();
  }
  return entry;
}

}  // namespace clawdie::router::testing
