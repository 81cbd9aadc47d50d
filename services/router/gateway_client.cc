#include "services/router/gateway_client.h"

#include "common/grpc_client.h"
#include "common/status.h"

namespace clawdie::router {

GrpcGatewayClient::GrpcGatewayClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : stub_(pb::Gateway::NewStub(std::move(channel))), timeout_(timeout) {}

absl::StatusOr<pb::SendResponse> GrpcGatewayClient::Send(const pb::SendRequest& request) {
  grpc::ClientContext context;
  PrepareContext(&context, timeout_);
  pb::SendResponse response;
  grpc::Status status = stub_->Send(&context, request, &response);
  if (!status.ok()) {
    return Annotate(FromGrpcStatus(status), "gateway Send " + request.chat_jid());
  }
  return response;
}

absl::Status GrpcGatewayClient::SetTyping(const pb::SetTypingRequest& request) {
  grpc::ClientContext context;
  // Typing is cosmetic: never wait for a gateway that is down.
  PrepareContext(&context, absl::Seconds(2), /*wait_for_ready=*/false);
  pb::SetTypingResponse response;
  grpc::Status status = stub_->SetTyping(&context, request, &response);
  if (!status.ok()) {
    return Annotate(FromGrpcStatus(status), "gateway SetTyping " + request.chat_jid());
  }
  return absl::OkStatus();
}

}  // namespace clawdie::router
