// Channels and call contexts for calls between clawdie services: every call has
// a deadline, waits for a peer that is restarting, and reconnects with backoff
// capped at a few seconds (gRPC's own default cap is two minutes).
//
// Thread-safety: channels and stubs are safe to share; a ClientContext is per call.
#ifndef CLAWDIE_COMMON_GRPC_CLIENT_H_
#define CLAWDIE_COMMON_GRPC_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace clawdie {

struct ClientOptions {
  // "unix:/abs/path.sock" or "host:port".
  std::string target;
  // Plaintext TCP to a loopback host.
  bool insecure = false;
  // PEM files for TCP: our client certificate and key, and the CA the server must chain to.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  // Cap of the reconnect backoff.
  absl::Duration max_backoff = absl::Seconds(2);
};

// Creates a channel (lazily connecting). InvalidArgument for a bad target or missing TLS
// files for a non-loopback TCP target.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ClientOptions& options);

// Configures `context` with a deadline `timeout` from now and wait-for-ready, so a call
// made while the peer restarts waits for it instead of failing at once.
void PrepareContext(grpc::ClientContext* context, absl::Duration timeout,
                    bool wait_for_ready = true);

}  // namespace clawdie

#endif  // CLAWDIE_COMMON_GRPC_CLIENT_H_
