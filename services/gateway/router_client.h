// The Ingester that talks to clawdie-router over gRPC (Router.Ingest, MigrateChat and
// ReportDelivery), with a deadline on every call and wait-for-ready so a restarting router
// is waited for.
//
// Thread-safety: safe to call from many threads.
#ifndef CLAWDIE_SERVICES_GATEWAY_ROUTER_CLIENT_H_
#define CLAWDIE_SERVICES_GATEWAY_ROUTER_CLIENT_H_

#include <memory>

#include "absl/time/time.h"
#include "clawdie/v1/router.grpc.pb.h"
#include "services/gateway/inbound.h"

namespace clawdie::gateway {

// Fills an IngestRequest (message and chat metadata) from a normalised message.
void ToIngestRequest(const InboundMessage& message, clawdie::v1::IngestRequest* request);

// The protocol's value for a WhatsApp status ("sent", "delivered", "read", "failed");
// UNSPECIFIED for anything else.
clawdie::v1::PlatformDeliveryState ToPlatformDeliveryState(const std::string& state);

class RouterIngester : public Ingester {
 public:
  RouterIngester(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);

  // OK when the router stored the message or knew it. Unavailable while the router cannot
  // be reached within the timeout; other codes as the router returned them.
  absl::Status Ingest(const InboundMessage& message) override;
  // OK when the router moved the group or had nothing to move. Errors as for Ingest.
  absl::Status MigrateChat(const std::string& from_key, const std::string& to_key) override;
  // OK when the receipt is on its outbox entry; NotFound when no entry holds the message.
  absl::Status ReportDelivery(const DeliveryReport& report) override;

 private:
  std::unique_ptr<clawdie::v1::Router::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_ROUTER_CLIENT_H_
