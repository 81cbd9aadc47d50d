#include "common/grpc_client.h"

#include <fstream>
#include <sstream>

#include "common/grpc_server.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace clawdie {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError("read " + what + " " + path + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(
    const ClientOptions& options) {
  if (options.tls_ca.empty()) {
    return absl::InvalidArgumentError("connect " + options.target +
                                      ": TCP requires TLS; set CLAWDIE_TLS_CA, CLAWDIE_TLS_CERT "
                                      "and CLAWDIE_TLS_KEY (or use --insecure on loopback)");
  }
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> ca = ReadPem(options.tls_ca, "TLS CA");
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = *ca;
  if (!options.tls_cert.empty()) {
    absl::StatusOr<std::string> cert = ReadPem(options.tls_cert, "TLS certificate");
    absl::StatusOr<std::string> key = ReadPem(options.tls_key, "TLS key");
    if (!cert.ok()) return cert.status();
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ClientOptions& options) {
  absl::StatusOr<ListenAddress> address = ParseListenAddress(options.target);
  if (!address.ok()) return address.status();

  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (address->is_unix || (options.insecure && IsLoopbackHost(address->host))) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls = TlsCredentials(options);
    if (!tls.ok()) return tls.status();
    credentials = *tls;
  }

  grpc::ChannelArguments args;
  int max_ms = static_cast<int>(absl::ToInt64Milliseconds(options.max_backoff));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(100, max_ms));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::min(100, max_ms));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_ms);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  return grpc::CreateCustomChannel(options.target, credentials, args);
}

void PrepareContext(grpc::ClientContext* context, absl::Duration timeout, bool wait_for_ready) {
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)));
  context->set_wait_for_ready(wait_for_ready);
}

}  // namespace clawdie
