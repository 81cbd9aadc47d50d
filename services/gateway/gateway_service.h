// clawdie.v1.Gateway over gRPC: Send, SetTyping, Status and the LocalChat stream, on top
// of a Gateway. Converts absl::Status to grpc::Status in one place.
//
// Thread-safety: the gRPC server calls handlers from many threads; Gateway is thread-safe.
#ifndef CLAWDIE_SERVICES_GATEWAY_GATEWAY_SERVICE_H_
#define CLAWDIE_SERVICES_GATEWAY_GATEWAY_SERVICE_H_

#include <atomic>

#include "clawdie/v1/gateway.grpc.pb.h"
#include "services/gateway/gateway.h"

namespace clawdie::gateway {

class GatewayService final : public clawdie::v1::Gateway::Service {
 public:
  // `gateway` is not owned.
  explicit GatewayService(Gateway* gateway) : gateway_(gateway) {}

  // Makes open LocalChat streams end, so the server can drain.
  void Shutdown() { shutting_down_.store(true); }

  grpc::Status Send(grpc::ServerContext* context, const clawdie::v1::SendRequest* request,
                    clawdie::v1::SendResponse* response) override;
  grpc::Status SetTyping(grpc::ServerContext* context, const clawdie::v1::SetTypingRequest* request,
                         clawdie::v1::SetTypingResponse* response) override;
  grpc::Status Status(grpc::ServerContext* context, const clawdie::v1::StatusRequest* request,
                      clawdie::v1::StatusResponse* response) override;
  grpc::Status LocalChat(grpc::ServerContext* context,
                         grpc::ServerReaderWriter<clawdie::v1::LocalChatEvent,
                                                  clawdie::v1::LocalChatRequest>* stream) override;

 private:
  Gateway* gateway_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_GATEWAY_SERVICE_H_
