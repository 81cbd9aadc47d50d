#include "services/router/store_client.h"

#include <string>
#include <vector>

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

// Splits the answer of a batch call into one answer per request: the call's error for all of
// them, or each result's payload, or the store's refusal of that request alone.
template <typename Answer, typename Response, typename Results, typename Payload>
std::vector<absl::StatusOr<Answer>> SplitAnswers(const char* rpc,
                                                 const absl::StatusOr<Response>& call, size_t sent,
                                                 Results results_of, Payload payload_of) {
  if (!call.ok()) return std::vector<absl::StatusOr<Answer>>(sent, call.status());
  const auto& results = results_of(*call);
  if (static_cast<size_t>(results.size()) != sent) {
    return std::vector<absl::StatusOr<Answer>>(
        sent,
        absl::InternalError(std::string("store ") + rpc + ": " + std::to_string(results.size()) +
                            " results for " + std::to_string(sent) + " requests"));
  }
  std::vector<absl::StatusOr<Answer>> answers;
  for (const auto& result : results) {
    if (result.code() == 0) {
      answers.push_back(payload_of(result));
    } else {
      answers.push_back(absl::Status(static_cast<absl::StatusCode>(result.code()),
                                     std::string("store ") + rpc + ": " + result.error()));
    }
  }
  return answers;
}

}  // namespace

GrpcStoreClient::GrpcStoreClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : stub_(pb::Store::NewStub(std::move(channel))),
      timeout_(timeout),
      appends_([this](const auto& requests) { return SendAppends(requests); }),
      run_updates_([this](const auto& requests) { return SendRunUpdates(requests); }) {}

std::vector<absl::StatusOr<pb::AppendMessageResponse>> GrpcStoreClient::SendAppends(
    const std::vector<const pb::AppendMessageRequest*>& requests) {
  pb::AppendMessagesRequest batch;
  for (const pb::AppendMessageRequest* request : requests) *batch.add_appends() = *request;
  absl::StatusOr<pb::AppendMessagesResponse> call = CallStore<pb::AppendMessagesResponse>(
      "AppendMessages", timeout_, [&](auto* context, auto* response) {
        return stub_->AppendMessages(context, batch, response);
      });
  return SplitAnswers<pb::AppendMessageResponse>(
      "AppendMessages", call, requests.size(),
      [](const pb::AppendMessagesResponse& r) -> const auto& { return r.results(); },
      [](const pb::AppendMessageResult& r) { return r.response(); });
}

std::vector<absl::StatusOr<pb::Run>> GrpcStoreClient::SendRunUpdates(
    const std::vector<const pb::UpdateRunRequest*>& requests) {
  pb::UpdateRunsRequest batch;
  for (const pb::UpdateRunRequest* request : requests) *batch.add_updates() = *request;
  absl::StatusOr<pb::UpdateRunsResponse> call = CallStore<pb::UpdateRunsResponse>(
      "UpdateRuns", timeout_,
      [&](auto* context, auto* response) { return stub_->UpdateRuns(context, batch, response); });
  return SplitAnswers<pb::Run>(
      "UpdateRuns", call, requests.size(),
      [](const pb::UpdateRunsResponse& r) -> const auto& { return r.results(); },
      [](const pb::UpdateRunResult& r) { return r.run(); });
}

absl::StatusOr<pb::AppendMessageResponse> GrpcStoreClient::AppendMessage(
    const pb::AppendMessageRequest& request) {
  return appends_.Call(request);
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

absl::StatusOr<pb::BeginMessageRunResponse> GrpcStoreClient::BeginMessageRun(
    const pb::BeginMessageRunRequest& request) {
  return CallStore<pb::BeginMessageRunResponse>(
      "BeginMessageRun", timeout_, [&](auto* context, auto* response) {
        return stub_->BeginMessageRun(context, request, response);
      });
}

absl::StatusOr<pb::Run> GrpcStoreClient::UpdateRun(const pb::UpdateRunRequest& request) {
  return run_updates_.Call(request);
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

absl::StatusOr<pb::OutboxEntry> GrpcStoreClient::RecordReceipt(
    const pb::RecordReceiptRequest& request) {
  return CallStore<pb::OutboxEntry>("RecordReceipt", timeout_, [&](auto* context, auto* response) {
    return stub_->RecordReceipt(context, request, response);
  });
}

}  // namespace clawdie::router
