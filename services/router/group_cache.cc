#include "services/router/group_cache.h"

namespace clawdie::router {

GroupCachingStore::GroupCachingStore(StoreClient* inner, const Clock* clock, absl::Duration ttl)
    : inner_(inner), clock_(clock), ttl_(ttl) {}

void GroupCachingStore::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
  cursors_.clear();
  sessions_.clear();
}

absl::StatusOr<pb::Cursor> GroupCachingStore::GetCursor(const pb::GetCursorRequest& request) {
  absl::Time now = clock_->Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cursors_.find(request.group_folder());
    if (it != cursors_.end() && now - it->second.second < ttl_) return it->second.first;
  }
  absl::StatusOr<pb::Cursor> cursor = inner_->GetCursor(request);
  if (cursor.ok()) Remember(*cursor, now);
  return cursor;
}

absl::StatusOr<pb::Cursor> GroupCachingStore::AdvanceCursor(
    const pb::AdvanceCursorRequest& request) {
  absl::StatusOr<pb::Cursor> cursor = inner_->AdvanceCursor(request);
  if (cursor.ok()) {
    Remember(*cursor, clock_->Now());
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    cursors_.erase(request.group_folder());
  }
  return cursor;
}

absl::StatusOr<pb::Session> GroupCachingStore::GetSession(const pb::GetSessionRequest& request) {
  absl::Time now = clock_->Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(request.group_folder());
    if (it != sessions_.end() && now - it->second.second < ttl_) return it->second.first;
  }
  absl::StatusOr<pb::Session> session = inner_->GetSession(request);
  if (session.ok()) Remember(request.group_folder(), *session, now);
  return session;
}

absl::StatusOr<pb::Session> GroupCachingStore::SetSession(const pb::SetSessionRequest& request) {
  absl::StatusOr<pb::Session> session = inner_->SetSession(request);
  std::lock_guard<std::mutex> lock(mu_);
  // Whatever the store answered, the next read asks it: a failed write leaves it unknown.
  sessions_.erase(request.group_folder());
  return session;
}

void GroupCachingStore::Remember(const pb::Cursor& cursor, absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  cursors_[cursor.group_folder()] = {cursor, now};
}

void GroupCachingStore::Remember(const std::string& folder, const pb::Session& session,
                                 absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_[folder] = {session, now};
}

absl::StatusOr<pb::Group> GroupCachingStore::GetGroup(const pb::GetGroupRequest& request) {
  std::string key =
      request.has_folder() ? "folder:" + request.folder() : "chat:" + request.chat_jid();
  absl::Time now = clock_->Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && now - it->second.fetched < ttl_) return it->second.group;
  }
  absl::StatusOr<pb::Group> group = inner_->GetGroup(request);
  // Only answers are cached; a store that could not be reached is asked again next time.
  if (group.ok() || group.status().code() == absl::StatusCode::kNotFound) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_[key] = Entry{group, now};
  }
  return group;
}

absl::StatusOr<pb::AppendMessageResponse> GroupCachingStore::AppendMessage(
    const pb::AppendMessageRequest& request) {
  return inner_->AppendMessage(request);
}

absl::StatusOr<pb::ListMessagesResponse> GroupCachingStore::ListMessages(
    const pb::ListMessagesRequest& request) {
  return inner_->ListMessages(request);
}

absl::StatusOr<pb::Chat> GroupCachingStore::UpsertChat(const pb::UpsertChatRequest& request) {
  return inner_->UpsertChat(request);
}

absl::StatusOr<pb::ListChatsResponse> GroupCachingStore::ListChats(
    const pb::ListChatsRequest& request) {
  return inner_->ListChats(request);
}

absl::StatusOr<pb::Group> GroupCachingStore::CreateGroup(const pb::CreateGroupRequest& request) {
  absl::StatusOr<pb::Group> result = inner_->CreateGroup(request);
  Invalidate();
  return result;
}

absl::StatusOr<pb::Group> GroupCachingStore::UpdateGroup(const pb::UpdateGroupRequest& request) {
  absl::StatusOr<pb::Group> result = inner_->UpdateGroup(request);
  Invalidate();
  return result;
}

absl::StatusOr<pb::ListGroupsResponse> GroupCachingStore::ListGroups(
    const pb::ListGroupsRequest& request) {
  return inner_->ListGroups(request);
}

absl::StatusOr<pb::DeleteGroupResponse> GroupCachingStore::DeleteGroup(
    const pb::DeleteGroupRequest& request) {
  absl::StatusOr<pb::DeleteGroupResponse> result = inner_->DeleteGroup(request);
  Invalidate();
  return result;
}

absl::StatusOr<pb::Run> GroupCachingStore::BeginRun(const pb::BeginRunRequest& request) {
  return inner_->BeginRun(request);
}

absl::StatusOr<pb::BeginMessageRunResponse> GroupCachingStore::BeginMessageRun(
    const pb::BeginMessageRunRequest& request) {
  return inner_->BeginMessageRun(request);
}

absl::StatusOr<pb::Run> GroupCachingStore::UpdateRun(const pb::UpdateRunRequest& request) {
  return inner_->UpdateRun(request);
}

absl::StatusOr<pb::ListRunsResponse> GroupCachingStore::ListRuns(
    const pb::ListRunsRequest& request) {
  return inner_->ListRuns(request);
}

absl::StatusOr<pb::Task> GroupCachingStore::CreateTask(const pb::CreateTaskRequest& request) {
  return inner_->CreateTask(request);
}

absl::StatusOr<pb::Task> GroupCachingStore::GetTask(const pb::GetTaskRequest& request) {
  return inner_->GetTask(request);
}

absl::StatusOr<pb::ListTasksResponse> GroupCachingStore::ListTasks(
    const pb::ListTasksRequest& request) {
  return inner_->ListTasks(request);
}

absl::StatusOr<pb::Task> GroupCachingStore::UpdateTask(const pb::UpdateTaskRequest& request) {
  return inner_->UpdateTask(request);
}

absl::StatusOr<pb::ClaimDueTasksResponse> GroupCachingStore::ClaimDueTasks(
    const pb::ClaimDueTasksRequest& request) {
  return inner_->ClaimDueTasks(request);
}

absl::StatusOr<pb::Task> GroupCachingStore::CompleteTaskRun(
    const pb::CompleteTaskRunRequest& request) {
  return inner_->CompleteTaskRun(request);
}

absl::StatusOr<pb::ListTaskRunsResponse> GroupCachingStore::ListTaskRuns(
    const pb::ListTaskRunsRequest& request) {
  return inner_->ListTaskRuns(request);
}

absl::StatusOr<pb::OutboxEntry> GroupCachingStore::EnqueueOutbox(
    const pb::EnqueueOutboxRequest& request) {
  return inner_->EnqueueOutbox(request);
}

absl::StatusOr<pb::ListPendingOutboxResponse> GroupCachingStore::ListPendingOutbox(
    const pb::ListPendingOutboxRequest& request) {
  return inner_->ListPendingOutbox(request);
}

absl::StatusOr<pb::OutboxEntry> GroupCachingStore::MarkDelivered(
    const pb::MarkDeliveredRequest& request) {
  return inner_->MarkDelivered(request);
}

absl::StatusOr<pb::OutboxEntry> GroupCachingStore::MarkFailed(
    const pb::MarkFailedRequest& request) {
  return inner_->MarkFailed(request);
}

absl::StatusOr<pb::OutboxEntry> GroupCachingStore::RecordReceipt(
    const pb::RecordReceiptRequest& request) {
  return inner_->RecordReceipt(request);
}

}  // namespace clawdie::router
