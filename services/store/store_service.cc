#include "services/store/store_service.h"

#include "common/logging.h"
#include "common/status.h"

namespace clawdie::store {
namespace {

// Copies a result into the response, or converts the error; errors an operator must act
// on are logged, bad requests only at debug.
template <typename T>
grpc::Status Answer(const char* method, absl::StatusOr<T> result, T* response) {
  if (result.ok()) {
    *response = std::move(*result);
    return grpc::Status::OK;
  }
  const absl::Status& status = result.status();
  auto log = GetLogger("store");
  switch (status.code()) {
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kPermissionDenied:
      log->error("{}: {}", method, status.message());
      break;
    default:
      log->debug("{}: {}", method, status.message());
  }
  return ToGrpcStatus(status);
}

}  // namespace

grpc::Status StoreService::AppendMessage(Ctx*, const v1::AppendMessageRequest* req,
                                         v1::AppendMessageResponse* resp) {
  return Answer("AppendMessage", store_->AppendMessage(*req), resp);
}

grpc::Status StoreService::AppendMessages(Ctx*, const v1::AppendMessagesRequest* req,
                                          v1::AppendMessagesResponse* resp) {
  return Answer("AppendMessages", store_->AppendMessages(*req), resp);
}

grpc::Status StoreService::ListMessages(Ctx*, const v1::ListMessagesRequest* req,
                                        v1::ListMessagesResponse* resp) {
  return Answer("ListMessages", store_->ListMessages(*req), resp);
}

grpc::Status StoreService::UpsertChat(Ctx*, const v1::UpsertChatRequest* req, v1::Chat* resp) {
  return Answer("UpsertChat", store_->UpsertChat(*req), resp);
}

grpc::Status StoreService::ListChats(Ctx*, const v1::ListChatsRequest* req,
                                     v1::ListChatsResponse* resp) {
  return Answer("ListChats", store_->ListChats(*req), resp);
}

grpc::Status StoreService::CreateGroup(Ctx*, const v1::CreateGroupRequest* req, v1::Group* resp) {
  return Answer("CreateGroup", store_->CreateGroup(*req), resp);
}

grpc::Status StoreService::UpdateGroup(Ctx*, const v1::UpdateGroupRequest* req, v1::Group* resp) {
  return Answer("UpdateGroup", store_->UpdateGroup(*req), resp);
}

grpc::Status StoreService::GetGroup(Ctx*, const v1::GetGroupRequest* req, v1::Group* resp) {
  return Answer("GetGroup", store_->GetGroup(*req), resp);
}

grpc::Status StoreService::ListGroups(Ctx*, const v1::ListGroupsRequest* req,
                                      v1::ListGroupsResponse* resp) {
  return Answer("ListGroups", store_->ListGroups(*req), resp);
}

grpc::Status StoreService::DeleteGroup(Ctx*, const v1::DeleteGroupRequest* req,
                                       v1::DeleteGroupResponse* resp) {
  return Answer("DeleteGroup", store_->DeleteGroup(*req), resp);
}

grpc::Status StoreService::GetSession(Ctx*, const v1::GetSessionRequest* req, v1::Session* resp) {
  return Answer("GetSession", store_->GetSession(*req), resp);
}

grpc::Status StoreService::SetSession(Ctx*, const v1::SetSessionRequest* req, v1::Session* resp) {
  return Answer("SetSession", store_->SetSession(*req), resp);
}

grpc::Status StoreService::GetCursor(Ctx*, const v1::GetCursorRequest* req, v1::Cursor* resp) {
  return Answer("GetCursor", store_->GetCursor(*req), resp);
}

grpc::Status StoreService::AdvanceCursor(Ctx*, const v1::AdvanceCursorRequest* req,
                                         v1::Cursor* resp) {
  return Answer("AdvanceCursor", store_->AdvanceCursor(*req), resp);
}

grpc::Status StoreService::BeginRun(Ctx*, const v1::BeginRunRequest* req, v1::Run* resp) {
  return Answer("BeginRun", store_->BeginRun(*req), resp);
}

grpc::Status StoreService::BeginMessageRun(Ctx*, const v1::BeginMessageRunRequest* req,
                                           v1::BeginMessageRunResponse* resp) {
  return Answer("BeginMessageRun", store_->BeginMessageRun(*req), resp);
}

grpc::Status StoreService::UpdateRun(Ctx*, const v1::UpdateRunRequest* req, v1::Run* resp) {
  return Answer("UpdateRun", store_->UpdateRun(*req), resp);
}

grpc::Status StoreService::UpdateRuns(Ctx*, const v1::UpdateRunsRequest* req,
                                      v1::UpdateRunsResponse* resp) {
  return Answer("UpdateRuns", store_->UpdateRuns(*req), resp);
}

grpc::Status StoreService::ListRuns(Ctx*, const v1::ListRunsRequest* req,
                                    v1::ListRunsResponse* resp) {
  return Answer("ListRuns", store_->ListRuns(*req), resp);
}

grpc::Status StoreService::CreateTask(Ctx*, const v1::CreateTaskRequest* req, v1::Task* resp) {
  return Answer("CreateTask", store_->CreateTask(*req), resp);
}

grpc::Status StoreService::GetTask(Ctx*, const v1::GetTaskRequest* req, v1::Task* resp) {
  return Answer("GetTask", store_->GetTask(*req), resp);
}

grpc::Status StoreService::ListTasks(Ctx*, const v1::ListTasksRequest* req,
                                     v1::ListTasksResponse* resp) {
  return Answer("ListTasks", store_->ListTasks(*req), resp);
}

grpc::Status StoreService::UpdateTask(Ctx*, const v1::UpdateTaskRequest* req, v1::Task* resp) {
  return Answer("UpdateTask", store_->UpdateTask(*req), resp);
}

grpc::Status StoreService::ClaimDueTasks(Ctx*, const v1::ClaimDueTasksRequest* req,
                                         v1::ClaimDueTasksResponse* resp) {
  return Answer("ClaimDueTasks", store_->ClaimDueTasks(*req), resp);
}

grpc::Status StoreService::CompleteTaskRun(Ctx*, const v1::CompleteTaskRunRequest* req,
                                           v1::Task* resp) {
  return Answer("CompleteTaskRun", store_->CompleteTaskRun(*req), resp);
}

grpc::Status StoreService::ListTaskRuns(Ctx*, const v1::ListTaskRunsRequest* req,
                                        v1::ListTaskRunsResponse* resp) {
  return Answer("ListTaskRuns", store_->ListTaskRuns(*req), resp);
}

grpc::Status StoreService::EnqueueOutbox(Ctx*, const v1::EnqueueOutboxRequest* req,
                                         v1::OutboxEntry* resp) {
  return Answer("EnqueueOutbox", store_->EnqueueOutbox(*req), resp);
}

grpc::Status StoreService::ListPendingOutbox(Ctx*, const v1::ListPendingOutboxRequest* req,
                                             v1::ListPendingOutboxResponse* resp) {
  return Answer("ListPendingOutbox", store_->ListPendingOutbox(*req), resp);
}

grpc::Status StoreService::MarkDelivered(Ctx*, const v1::MarkDeliveredRequest* req,
                                         v1::OutboxEntry* resp) {
  return Answer("MarkDelivered", store_->MarkDelivered(*req), resp);
}

grpc::Status StoreService::MarkFailed(Ctx*, const v1::MarkFailedRequest* req,
                                      v1::OutboxEntry* resp) {
  return Answer("MarkFailed", store_->MarkFailed(*req), resp);
}

grpc::Status StoreService::RecordReceipt(Ctx*, const v1::RecordReceiptRequest* req,
                                         v1::OutboxEntry* resp) {
  return Answer("RecordReceipt", store_->RecordReceipt(*req), resp);
}

grpc::Status StoreService::Backup(Ctx*, const v1::BackupRequest* req, v1::BackupResponse* resp) {
  return Answer("Backup", store_->Backup(*req), resp);
}

}  // namespace clawdie::store
