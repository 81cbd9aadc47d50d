// A StoreClient that remembers, for a short time, GetGroup answers (found and not
// found), group cursors and sessions, so Ingest and run starts do not ask the store
// the same questions on every message. Every other call is passed through. Writes made
// through this client update or clear what it remembers at once (group writes clear all
// groups; AdvanceCursor stores the new cursor; SetSession forgets the session), and the
// time limit bounds how long a change made by anyone else goes unseen. The router is the
// only writer of groups, cursors and sessions in a normal installation.
//
// Thread-safety: safe from any thread.
#ifndef CLAWDIE_SERVICES_ROUTER_GROUP_CACHE_H_
#define CLAWDIE_SERVICES_ROUTER_GROUP_CACHE_H_

#include <map>
#include <mutex>
#include <string>

#include "services/router/clock.h"
#include "services/router/store_client.h"

namespace clawdie::router {

class GroupCachingStore : public StoreClient {
 public:
  // `inner` and `clock` are not owned and must outlive this object.
  GroupCachingStore(StoreClient* inner, const Clock* clock, absl::Duration ttl);

  // Forgets every cached group.
  void Invalidate();

  absl::StatusOr<pb::AppendMessageResponse> AppendMessage(
      const pb::AppendMessageRequest& request) override;
  absl::StatusOr<pb::ListMessagesResponse> ListMessages(
      const pb::ListMessagesRequest& request) override;
  absl::StatusOr<pb::Chat> UpsertChat(const pb::UpsertChatRequest& request) override;
  absl::StatusOr<pb::ListChatsResponse> ListChats(const pb::ListChatsRequest& request) override;
  absl::StatusOr<pb::Group> CreateGroup(const pb::CreateGroupRequest& request) override;
  absl::StatusOr<pb::Group> UpdateGroup(const pb::UpdateGroupRequest& request) override;
  absl::StatusOr<pb::Group> GetGroup(const pb::GetGroupRequest& request) override;
  absl::StatusOr<pb::ListGroupsResponse> ListGroups(const pb::ListGroupsRequest& request) override;
  absl::StatusOr<pb::DeleteGroupResponse> DeleteGroup(
      const pb::DeleteGroupRequest& request) override;
  absl::StatusOr<pb::Session> GetSession(const pb::GetSessionRequest& request) override;
  absl::StatusOr<pb::Session> SetSession(const pb::SetSessionRequest& request) override;
  absl::StatusOr<pb::Cursor> GetCursor(const pb::GetCursorRequest& request) override;
  absl::StatusOr<pb::Cursor> AdvanceCursor(const pb::AdvanceCursorRequest& request) override;
  absl::StatusOr<pb::Run> BeginRun(const pb::BeginRunRequest& request) override;
  absl::StatusOr<pb::BeginMessageRunResponse> BeginMessageRun(
      const pb::BeginMessageRunRequest& request) override;
  absl::StatusOr<pb::Run> UpdateRun(const pb::UpdateRunRequest& request) override;
  absl::StatusOr<pb::ListRunsResponse> ListRuns(const pb::ListRunsRequest& request) override;
  absl::StatusOr<pb::Task> CreateTask(const pb::CreateTaskRequest& request) override;
  absl::StatusOr<pb::Task> GetTask(const pb::GetTaskRequest& request) override;
  absl::StatusOr<pb::ListTasksResponse> ListTasks(const pb::ListTasksRequest& request) override;
  absl::StatusOr<pb::Task> UpdateTask(const pb::UpdateTaskRequest& request) override;
  absl::StatusOr<pb::ClaimDueTasksResponse> ClaimDueTasks(
      const pb::ClaimDueTasksRequest& request) override;
  absl::StatusOr<pb::Task> CompleteTaskRun(const pb::CompleteTaskRunRequest& request) override;
  absl::StatusOr<pb::ListTaskRunsResponse> ListTaskRuns(
      const pb::ListTaskRunsRequest& request) override;
  absl::StatusOr<pb::OutboxEntry> EnqueueOutbox(const pb::EnqueueOutboxRequest& request) override;
  absl::StatusOr<pb::ListPendingOutboxResponse> ListPendingOutbox(
      const pb::ListPendingOutboxRequest& request) override;
  absl::StatusOr<pb::OutboxEntry> MarkDelivered(const pb::MarkDeliveredRequest& request) override;
  absl::StatusOr<pb::OutboxEntry> MarkFailed(const pb::MarkFailedRequest& request) override;
  absl::StatusOr<pb::OutboxEntry> RecordReceipt(const pb::RecordReceiptRequest& request) override;

 private:
  struct Entry {
    absl::StatusOr<pb::Group> group;
    absl::Time fetched;
  };

  void Remember(const pb::Cursor& cursor, absl::Time now);
  void Remember(const std::string& folder, const pb::Session& session, absl::Time now);

  StoreClient* inner_;
  const Clock* clock_;
  absl::Duration ttl_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;  // "folder:<f>" or "chat:<jid>"
  std::map<std::string, std::pair<pb::Cursor, absl::Time>> cursors_;    // by folder
  std::map<std::string, std::pair<pb::Session, absl::Time>> sessions_;  // by folder
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_GROUP_CACHE_H_
