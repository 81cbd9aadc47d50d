// The router's view of clawdie-store: one method per Store RPC it uses, with
// the request and response messages of store.proto. GrpcStoreClient calls the
// real service; unit tests use an in-memory fake behind the same interface.
//
// Every method returns the store's error with "store <Rpc>: " in front, so a
// log line names the call that failed; UNAVAILABLE and DEADLINE_EXCEEDED mean
// the store could not be reached.
//
// Thread-safety: implementations are safe to call from any thread.
#ifndef CLAWDIE_SERVICES_ROUTER_STORE_CLIENT_H_
#define CLAWDIE_SERVICES_ROUTER_STORE_CLIENT_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clawdie/v1/store.grpc.pb.h"
#include "grpcpp/channel.h"
#include "services/router/call_batcher.h"

namespace clawdie::router {

namespace pb = ::clawdie::v1;

class StoreClient {
 public:
  virtual ~StoreClient() = default;

  virtual absl::StatusOr<pb::AppendMessageResponse> AppendMessage(
      const pb::AppendMessageRequest& request) = 0;
  virtual absl::StatusOr<pb::ListMessagesResponse> ListMessages(
      const pb::ListMessagesRequest& request) = 0;
  virtual absl::StatusOr<pb::Chat> UpsertChat(const pb::UpsertChatRequest& request) = 0;
  virtual absl::StatusOr<pb::ListChatsResponse> ListChats(const pb::ListChatsRequest& request) = 0;

  virtual absl::StatusOr<pb::Group> CreateGroup(const pb::CreateGroupRequest& request) = 0;
  virtual absl::StatusOr<pb::Group> UpdateGroup(const pb::UpdateGroupRequest& request) = 0;
  virtual absl::StatusOr<pb::Group> GetGroup(const pb::GetGroupRequest& request) = 0;
  virtual absl::StatusOr<pb::ListGroupsResponse> ListGroups(
      const pb::ListGroupsRequest& request) = 0;
  virtual absl::StatusOr<pb::DeleteGroupResponse> DeleteGroup(
      const pb::DeleteGroupRequest& request) = 0;

  virtual absl::StatusOr<pb::Session> GetSession(const pb::GetSessionRequest& request) = 0;
  virtual absl::StatusOr<pb::Session> SetSession(const pb::SetSessionRequest& request) = 0;
  virtual absl::StatusOr<pb::Cursor> GetCursor(const pb::GetCursorRequest& request) = 0;
  virtual absl::StatusOr<pb::Cursor> AdvanceCursor(const pb::AdvanceCursorRequest& request) = 0;

  virtual absl::StatusOr<pb::Run> BeginRun(const pb::BeginRunRequest& request) = 0;
  virtual absl::StatusOr<pb::BeginMessageRunResponse> BeginMessageRun(
      const pb::BeginMessageRunRequest& request) = 0;
  virtual absl::StatusOr<pb::Run> UpdateRun(const pb::UpdateRunRequest& request) = 0;
  virtual absl::StatusOr<pb::ListRunsResponse> ListRuns(const pb::ListRunsRequest& request) = 0;

  virtual absl::StatusOr<pb::Task> CreateTask(const pb::CreateTaskRequest& request) = 0;
  virtual absl::StatusOr<pb::Task> GetTask(const pb::GetTaskRequest& request) = 0;
  virtual absl::StatusOr<pb::ListTasksResponse> ListTasks(const pb::ListTasksRequest& request) = 0;
  virtual absl::StatusOr<pb::Task> UpdateTask(const pb::UpdateTaskRequest& request) = 0;
  virtual absl::StatusOr<pb::ClaimDueTasksResponse> ClaimDueTasks(
      const pb::ClaimDueTasksRequest& request) = 0;
  virtual absl::StatusOr<pb::Task> CompleteTaskRun(const pb::CompleteTaskRunRequest& request) = 0;
  virtual absl::StatusOr<pb::ListTaskRunsResponse> ListTaskRuns(
      const pb::ListTaskRunsRequest& request) = 0;

  virtual absl::StatusOr<pb::OutboxEntry> EnqueueOutbox(
      const pb::EnqueueOutboxRequest& request) = 0;
  virtual absl::StatusOr<pb::ListPendingOutboxResponse> ListPendingOutbox(
      const pb::ListPendingOutboxRequest& request) = 0;
  virtual absl::StatusOr<pb::OutboxEntry> MarkDelivered(
      const pb::MarkDeliveredRequest& request) = 0;
  virtual absl::StatusOr<pb::OutboxEntry> MarkFailed(const pb::MarkFailedRequest& request) = 0;
  virtual absl::StatusOr<pb::OutboxEntry> RecordReceipt(
      const pb::RecordReceiptRequest& request) = 0;
};

// Calls clawdie-store over gRPC with a deadline per call and wait-for-ready, so a call made
// while the store restarts waits for it (up to the deadline) instead of failing at once.
// Concurrent AppendMessage calls share Store.AppendMessages calls and concurrent UpdateRun
// calls share Store.UpdateRuns calls (CallBatcher); each still returns only after its own
// write was committed.
class GrpcStoreClient : public StoreClient {
 public:
  GrpcStoreClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);

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
  // One AppendMessages / UpdateRuns call for what the batchers collected.
  std::vector<absl::StatusOr<pb::AppendMessageResponse>> SendAppends(
      const std::vector<const pb::AppendMessageRequest*>& requests);
  std::vector<absl::StatusOr<pb::Run>> SendRunUpdates(
      const std::vector<const pb::UpdateRunRequest*>& requests);

  std::unique_ptr<pb::Store::Stub> stub_;
  absl::Duration timeout_;
  CallBatcher<pb::AppendMessageRequest, pb::AppendMessageResponse> appends_;
  CallBatcher<pb::UpdateRunRequest, pb::Run> run_updates_;
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_STORE_CLIENT_H_
