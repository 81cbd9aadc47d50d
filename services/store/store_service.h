// The clawdie.v1.Store gRPC service: a thin edge over Store that converts
// statuses and logs failures an operator must act on (full disk, I/O errors).
//
// Thread-safety: safe for gRPC's concurrent calls (Store is thread-safe).
#ifndef CLAWDIE_SERVICES_STORE_STORE_SERVICE_H_
#define CLAWDIE_SERVICES_STORE_STORE_SERVICE_H_

#include "clawdie/v1/store.grpc.pb.h"
#include "services/store/store.h"

namespace clawdie::store {

class StoreService final : public v1::Store::Service {
 public:
  // `store` is not owned and must outlive the service.
  explicit StoreService(Store* store) : store_(store) {}

  using Ctx = grpc::ServerContext;

  grpc::Status AppendMessage(Ctx*, const v1::AppendMessageRequest* req,
                             v1::AppendMessageResponse* resp) override;
  grpc::Status AppendMessages(Ctx*, const v1::AppendMessagesRequest* req,
                              v1::AppendMessagesResponse* resp) override;
  grpc::Status ListMessages(Ctx*, const v1::ListMessagesRequest* req,
                            v1::ListMessagesResponse* resp) override;
  grpc::Status UpsertChat(Ctx*, const v1::UpsertChatRequest* req, v1::Chat* resp) override;
  grpc::Status ListChats(Ctx*, const v1::ListChatsRequest* req,
                         v1::ListChatsResponse* resp) override;
  grpc::Status CreateGroup(Ctx*, const v1::CreateGroupRequest* req, v1::Group* resp) override;
  grpc::Status UpdateGroup(Ctx*, const v1::UpdateGroupRequest* req, v1::Group* resp) override;
  grpc::Status GetGroup(Ctx*, const v1::GetGroupRequest* req, v1::Group* resp) override;
  grpc::Status ListGroups(Ctx*, const v1::ListGroupsRequest* req,
                          v1::ListGroupsResponse* resp) override;
  grpc::Status DeleteGroup(Ctx*, const v1::DeleteGroupRequest* req,
                           v1::DeleteGroupResponse* resp) override;
  grpc::Status GetSession(Ctx*, const v1::GetSessionRequest* req, v1::Session* resp) override;
  grpc::Status SetSession(Ctx*, const v1::SetSessionRequest* req, v1::Session* resp) override;
  grpc::Status GetCursor(Ctx*, const v1::GetCursorRequest* req, v1::Cursor* resp) override;
  grpc::Status AdvanceCursor(Ctx*, const v1::AdvanceCursorRequest* req, v1::Cursor* resp) override;
  grpc::Status BeginRun(Ctx*, const v1::BeginRunRequest* req, v1::Run* resp) override;
  grpc::Status BeginMessageRun(Ctx*, const v1::BeginMessageRunRequest* req,
                               v1::BeginMessageRunResponse* resp) override;
  grpc::Status UpdateRun(Ctx*, const v1::UpdateRunRequest* req, v1::Run* resp) override;
  grpc::Status UpdateRuns(Ctx*, const v1::UpdateRunsRequest* req,
                          v1::UpdateRunsResponse* resp) override;
  grpc::Status ListRuns(Ctx*, const v1::ListRunsRequest* req, v1::ListRunsResponse* resp) override;
  grpc::Status CreateTask(Ctx*, const v1::CreateTaskRequest* req, v1::Task* resp) override;
  grpc::Status GetTask(Ctx*, const v1::GetTaskRequest* req, v1::Task* resp) override;
  grpc::Status ListTasks(Ctx*, const v1::ListTasksRequest* req,
                         v1::ListTasksResponse* resp) override;
  grpc::Status UpdateTask(Ctx*, const v1::UpdateTaskRequest* req, v1::Task* resp) override;
  grpc::Status ClaimDueTasks(Ctx*, const v1::ClaimDueTasksRequest* req,
                             v1::ClaimDueTasksResponse* resp) override;
  grpc::Status CompleteTaskRun(Ctx*, const v1::CompleteTaskRunRequest* req,
                               v1::Task* resp) override;
  grpc::Status ListTaskRuns(Ctx*, const v1::ListTaskRunsRequest* req,
                            v1::ListTaskRunsResponse* resp) override;
  grpc::Status EnqueueOutbox(Ctx*, const v1::EnqueueOutboxRequest* req,
                             v1::OutboxEntry* resp) override;
  grpc::Status ListPendingOutbox(Ctx*, const v1::ListPendingOutboxRequest* req,
                                 v1::ListPendingOutboxResponse* resp) override;
  grpc::Status MarkDelivered(Ctx*, const v1::MarkDeliveredRequest* req,
                             v1::OutboxEntry* resp) override;
  grpc::Status MarkFailed(Ctx*, const v1::MarkFailedRequest* req, v1::OutboxEntry* resp) override;
  grpc::Status RecordReceipt(Ctx*, const v1::RecordReceiptRequest* req,
                             v1::OutboxEntry* resp) override;
  grpc::Status Backup(Ctx*, const v1::BackupRequest* req, v1::BackupResponse* resp) override;

 private:
  Store* store_;
};

}  // namespace clawdie::store

#endif  // CLAWDIE_SERVICES_STORE_STORE_SERVICE_H_
