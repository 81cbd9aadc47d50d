#include "services/router/store_client.h"

#include "common/grpc_client.h"
#include "common/status.h"

namespace clawdie::router {
namespace {

// Runs one unary call with a deadline and turns its status into "store <rpc>: <cause>".
template <typename Response, typename Invoke>
absl::StatusOr<Response> CallStore(const char* rpc, absl::Duration timeout, Invoke invoke) {
  grpc::ClientContext context;
  PrepareContext(&context, timeout);
  Response response;
  grpc::Status status = invoke(&context, &response);
  if (!status.ok()) return Annotate(FromGrpcStatus(status), std::string("store ") + rpc);
  return response;
}

}  // namespace

GrpcStoreClient::GrpcStoreClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : stub_(pb::Store::NewStub(std::move(channel))), timeout_(timeout) {}

absl::StatusOr<pb::AppendMessageResponse> GrpcStoreClient::AppendMessage(
    const pb::AppendMessageRequest& request) {
  return CallStore<pb::AppendMessageResponse>(
      "AppendMessage", timeout_, [&](auto* context, auto* response) {
        return stub_->AppendMessage(context, request, response);
      });
}

absl::StatusOr<pb::ListMessagesResponse> GrpcStoreClient::ListMessages(
    const pb::ListMessagesRequest& request) {
  return CallStore<pb::ListMessagesResponse>(
      "ListMessages", timeout_, [&](auto* context, auto* response) {
        return stub_->ListMessages(context, request, response);
      });
}

absl::StatusOr<pb::Chat> GrpcStoreClient::UpsertChat(const pb::UpsertChatRequest& request) {
  return CallStore<pb::Chat>("UpsertChat", timeout_, [&](auto* context, auto* response) {
    return stub_->UpsertChat(context, request, response);
  });
}

absl::StatusOr<pb::ListChatsResponse> GrpcStoreClient::ListChats(
    const pb::ListChatsRequest& request) {
  return CallStore<pb::ListChatsResponse>(
      "ListChats", timeout_,
      [&](auto* context, auto* response) { return stub_->ListChats(context, request, response); });
}

absl::StatusOr<pb::Group> GrpcStoreClient::CreateGroup(const pb::CreateGroupRequest& request) {
  return CallStore<pb::Group>("CreateGroup", timeout_, [&](auto* context, auto* response) {
    return stub_->CreateGroup(context, request, response);
  });
}

absl::StatusOr<pb::Group> GrpcStoreClient::UpdateGroup(const pb::UpdateGroupRequest& request) {
  return CallStore<pb::Group>("UpdateGroup", timeout_, [&](auto* context, auto* response) {
    return stub_->UpdateGroup(context, request, response);
  });
}

absl::StatusOr<pb::Group> GrpcStoreClient::GetGroup(const pb::GetGroupRequest& request) {
  return CallStore<pb::Group>("GetGroup", timeout_, [&](auto* context, auto* response) {
    return stub_->GetGroup(context, request, response);
  });
}

absl::StatusOr<pb::ListGroupsResponse> GrpcStoreClient::ListGroups(
    const pb::ListGroupsRequest& request) {
  return CallStore<pb::ListGroupsResponse>(
      "ListGroups", timeout_,
      [&](auto* context, auto* response) { return stub_->ListGroups(context, request, response); });
}

absl::StatusOr<pb::DeleteGroupResponse> GrpcStoreClient::DeleteGroup(
    const pb::DeleteGroupRequest& request) {
  return CallStore<pb::DeleteGroupResponse>("DeleteGroup", timeout_,
                                            [&](auto* context, auto* response) {
                                              return stub_->DeleteGroup(context, request, response);
                                            });
}

absl::StatusOr<pb::Session> GrpcStoreClient::GetSession(const pb::GetSessionRequest& request) {
  return CallStore<pb::Session>("GetSession", timeout_, [&](auto* context, auto* response) {
    return stub_->GetSession(context, request, response);
  });
}

absl::StatusOr<pb::Session> GrpcStoreClient::SetSession(const pb::SetSessionRequest& request) {
  return CallStore<pb::Session>("SetSession", timeout_, [&](auto* context, auto* response) {
    return stub_->SetSession(context, request, response);
  });
}

absl::StatusOr<pb::Cursor> GrpcStoreClient::GetCursor(const pb::GetCursorRequest& request) {
  return CallStore<pb::Cursor>("GetCursor", timeout_, [&](auto* context, auto* response) {
    return stub_->GetCursor(context, request, response);
  });
}

absl::StatusOr<pb::Cursor> GrpcStoreClient::AdvanceCursor(const pb::AdvanceCursorRequest& request) {
  return CallStore<pb::Cursor>("AdvanceCursor", timeout_, [&](auto* context, auto* response) {
    return stub_->AdvanceCursor(context, request, response);
  });
}

absl::StatusOr<pb::Run> GrpcStoreClient::BeginRun(const pb::BeginRunRequest& request) {
  return CallStore<pb::Run>("BeginRun", timeout_, [&](auto* context, auto* response) {
    return stub_->BeginRun(context, request, response);
  });
}

absl::StatusOr<pb::Run> GrpcStoreClient::UpdateRun(const pb::UpdateRunRequest& request) {
  return CallStore<pb::Run>("UpdateRun", timeout_, [&](auto* context, auto* response) {
    return stub_->UpdateRun(context, request, response);
  });
}

absl::StatusOr<pb::ListRunsResponse> GrpcStoreClient::ListRuns(const pb::ListRunsRequest& request) {
  return CallStore<pb::ListRunsResponse>("ListRuns", timeout_, [&](auto* context, auto* response) {
    return stub_->ListRuns(context, request, response);
  });
}

absl::StatusOr<pb::Task> GrpcStoreClient::CreateTask(const pb::CreateTaskRequest& request) {
  return CallStore<pb::Task>("CreateTask", timeout_, [&](auto* context, auto* response) {
    return stub_->CreateTask(context, request, response);
  });
}

absl::StatusOr<pb::Task> GrpcStoreClient::GetTask(const pb::GetTaskRequest& request) {
  return CallStore<pb::Task>("GetTask", timeout_, [&](auto* context, auto* response) {
    return stub_->GetTask(context, request, response);
  });
}

absl::StatusOr<pb::ListTasksResponse> GrpcStoreClient::ListTasks(
    const pb::ListTasksRequest& request) {
  return CallStore<pb::ListTasksResponse>(
      "ListTasks", timeout_,
      [&](auto* context, auto* response) { return stub_->ListTasks(context, request, response); });
}

absl::StatusOr<pb::Task> GrpcStoreClient::UpdateTask(const pb::UpdateTaskRequest& request) {
  return CallStore<pb::Task>("UpdateTask", timeout_, [&](auto* context, auto* response) {
    return stub_->UpdateTask(context, request, response);
  });
}

absl::StatusOr<pb::ClaimDueTasksResponse> GrpcStoreClient::ClaimDueTasks(
    const pb::ClaimDueTasksRequest& request) {
  return CallStore<pb::ClaimDueTasksResponse>(
      "ClaimDueTasks", timeout_, [&](auto* context, auto* response) {
        return stub_->ClaimDueTasks(context, request, response);
      });
}

absl::StatusOr<pb::Task> GrpcStoreClient::CompleteTaskRun(
    const pb::CompleteTaskRunRequest& request) {
  return CallStore<pb::Task>("CompleteTaskRun", timeout_, [&](auto* context, auto* response) {
    return stub_->CompleteTaskRun(context, request, response);
  });
}

absl::StatusOr<pb::ListTaskRunsResponse> GrpcStoreClient::ListTaskRuns(
    const pb::ListTaskRunsRequest& request) {
  return CallStore<pb::ListTaskRunsResponse>(
      "ListTaskRuns", timeout_, [&](auto* context, auto* response) {
        return stub_->ListTaskRuns(context, request, response);
      });
}

absl::StatusOr<pb::OutboxEntry> GrpcStoreClient::EnqueueOutbox(
    const pb::EnqueueOutboxRequest& request) {
  return CallStore<pb::OutboxEntry>("EnqueueOutbox", timeout_, [&](auto* context, auto* response) {
    return stub_->EnqueueOutbox(context, request, response);
  });
}

absl::StatusOr<pb::ListPendingOutboxResponse> GrpcStoreClient::ListPendingOutbox(
    const pb::ListPendingOutboxRequest& request) {
  return CallStore<pb::ListPendingOutboxResponse>(
      "ListPendingOutbox", timeout_, [&](auto* context, auto* response) {
        return stub_->ListPendingOutbox(context, request, response);
      });
}

absl::StatusOr<pb::OutboxEntry> GrpcStoreClient::MarkDelivered(
    const pb::MarkDeliveredRequest& request) {
  return CallStore<pb::OutboxEntry>("MarkDelivered", timeout_, [&](auto* context, auto* response) {
    return stub_->MarkDelivered(context, request, response);
  });
}

absl::StatusOr<pb::OutboxEntry> GrpcStoreClient::MarkFailed(const pb::MarkFailedRequest& request) {
  return CallStore<pb::OutboxEntry>("MarkFailed", timeout_, [&](auto* context, auto* response) {
    return stub_->MarkFailed(context, request, response);
  });
}

}  // namespace clawdie::router
