// The router's view of clawdie-gateway: deliver a reply and show typing.
// GrpcGatewayClient speaks gRPC; unit tests use a fake.
//
// Thread-safety: implementations are safe to call from any thread.
#ifndef CLAWDIE_SERVICES_ROUTER_GATEWAY_CLIENT_H_
#define CLAWDIE_SERVICES_ROUTER_GATEWAY_CLIENT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clawdie/v1/gateway.grpc.pb.h"
#include "grpcpp/channel.h"

namespace clawdie::router {

namespace pb = ::clawdie::v1;

class GatewayClient {
 public:
  virtual ~GatewayClient() = default;

  // Delivers a reply. Errors as Gateway.Send documents them: UNAVAILABLE, RESOURCE_EXHAUSTED
  // (or DEADLINE_EXCEEDED) when a retry may work, FAILED_PRECONDITION when it never will.
  virtual absl::StatusOr<pb::SendResponse> Send(const pb::SendRequest& request) = 0;

  // Starts or stops the typing indicator; best effort.
  virtual absl::Status SetTyping(const pb::SetTypingRequest& request) = 0;
};

class GrpcGatewayClient : public GatewayClient {
 public:
  GrpcGatewayClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);

  absl::StatusOr<pb::SendResponse> Send(const pb::SendRequest& request) override;
  absl::Status SetTyping(const pb::SetTypingRequest& request) override;

 private:
  std::unique_ptr<pb::Gateway::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_GATEWAY_CLIENT_H_
