// Runs one clawdie gRPC service the way DESIGN.md §1 requires: listens on
// `unix:/ABSOLUTE/PATH` or `host:port` (TCP needs mTLS unless the host is
// loopback and `insecure` is set), registers server reflection and
// grpc.health.v1.Health, holds a lock file so a second instance exits with
// "already running" instead of unlinking a live socket, creates the socket mode
// 0660 in a 0750 directory, and drains on SIGTERM/SIGINT.
//
// Thread-safety: Start, Wait and Shutdown are called from the main thread;
// SetServing may be called from any thread.
#ifndef CLAWDIE_COMMON_GRPC_SERVER_H_
#define CLAWDIE_COMMON_GRPC_SERVER_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/lock_file.h"
#include "grpcpp/server.h"

namespace clawdie {

// The initial-metadata key under which every clawdie gRPC server announces its version.
inline constexpr char kVersionMetadataKey[] = "clawdie-version";

struct ServerOptions {
  // Service name for logs, health and the lock file: "store", "router", ...
  std::string name;
  // "unix:/abs/path.sock" or "host:port".
  std::string listen;
  // Allow plaintext TCP when the host is loopback.
  bool insecure = false;
  // PEM files for TCP listeners: our certificate and key, and the CA clients must chain to.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  // Lock file; default "<socket path>.lock" for Unix sockets. Required for TCP.
  std::string lock_path;
  // How long in-flight calls may finish after a shutdown signal.
  absl::Duration drain = absl::Seconds(5);
};

// A parsed listen address.
struct ListenAddress {
  bool is_unix = false;
  std::string path;  // Unix socket path
  std::string host;  // TCP host
  std::string port;  // TCP port
};

// Parses and checks an address: Unix paths must be absolute and under 104 bytes (FreeBSD's
// limit); TCP needs host:port. InvalidArgument naming the address otherwise.
absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& address);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

// Blocks SIGTERM, SIGINT and SIGPIPE in the calling thread, so threads started later inherit
// the mask and the signals wait for Wait(). Call first thing in main.
void BlockShutdownSignals();

class GrpcServer {
 public:
  explicit GrpcServer(ServerOptions options);
  ~GrpcServer();

  // Adds a service before Start; not owned. `full_name` ("clawdie.v1.Store") is the name
  // its health is reported under.
  void AddService(grpc::Service* service, const std::string& full_name);

  // Locks, prepares the socket directory and starts listening. Errors: InvalidArgument for a
  // bad address or missing TLS files, FailedPrecondition "... already running", or the
  // bind error. Health starts NOT_SERVING until SetServing(true).
  absl::Status Start();

  // Sets health for the overall server ("") and for every added service.
  void SetServing(bool serving);

  // Waits for SIGTERM/SIGINT (or RequestShutdown), drains and stops. Returns the signal.
  int Wait();

  // Makes Wait return as if a signal had arrived (for tests and fatal errors).
  void RequestShutdown();

  // Stops accepting calls, lets in-flight calls finish up to the drain time, stops.
  void Shutdown();

  // The bound TCP port (useful with port 0), or 0 for Unix sockets.
  int bound_port() const { return bound_port_; }

 private:
  absl::Status PrepareUnixSocket(const ListenAddress& address);

  ServerOptions options_;
  std::vector<grpc::Service*> services_;
  std::vector<std::string> service_names_;
  std::unique_ptr<LockFile> lock_;
  std::unique_ptr<grpc::Server> server_;
  // Guards health changes against Shutdown: a monitor thread may call SetServing while the
  // main thread drains and destroys the server.
  std::mutex health_mu_;
  bool stopping_ = false;  // (health_mu_) Shutdown began; health no longer changes
  int bound_port_ = 0;
  std::atomic<bool> shutdown_requested_{false};
};

}  // namespace clawdie

#endif  // CLAWDIE_COMMON_GRPC_SERVER_H_
