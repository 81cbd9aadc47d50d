#include "common/grpc_server.h"

#include <arpa/inet.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/logging.h"
#include "common/service_main.h"
#include "common/status.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/server_interceptor.h"

namespace clawdie {
namespace {

// Adds `clawdie-version` to the initial metadata of every answer, so `clawctl status` (or
// `grpcurl -v`) learns each service's version from its health check.
class VersionHeader : public grpc::experimental::Interceptor {
 public:
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace(kVersionMetadataKey, ClawdieVersion());
    }
    methods->Proceed();
  }
};

class VersionHeaderFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new VersionHeader();
  }
};

// FreeBSD's sun_path is 104 bytes including the terminating NUL.
constexpr size_t kMaxUnixPath = 103;

absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError("read " + what + " " + path + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// A socket file is live when something accepts connections on it.
bool SocketIsLive(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  bool live = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return live;
}

}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& address) {
  ListenAddress out;
  if (address.rfind("unix:", 0) == 0) {
    out.is_unix = true;
    out.path = address.substr(5);
    if (out.path.empty() || out.path[0] != '/') {
      return absl::InvalidArgumentError("listen address " + address +
                                        ": Unix socket path must be absolute (unix:/path)");
    }
    if (out.path.size() > kMaxUnixPath) {
      return absl::InvalidArgumentError("listen address " + address + ": path is " +
                                        std::to_string(out.path.size()) +
                                        " bytes, longer than the 103 a Unix socket allows");
    }
    return out;
  }
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return absl::InvalidArgumentError("listen address " + address +
                                      ": expected unix:/path or host:port");
  }
  out.host = address.substr(0, colon);
  out.port = address.substr(colon + 1);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  return out;
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  return false;
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

GrpcServer::GrpcServer(ServerOptions options) : options_(std::move(options)) {}

GrpcServer::~GrpcServer() { Shutdown(); }

void GrpcServer::AddService(grpc::Service* service, const std::string& full_name) {
  services_.push_back(service);
  service_names_.push_back(full_name);
}

absl::Status GrpcServer::PrepareUnixSocket(const ListenAddress& address) {
  auto log = GetLogger(options_.name);
  std::string dir = DirName(address.path);

  // Our own directory is created 0750; someone else's is left alone but must exist.
  if (mkdir(dir.c_str(), 0750) == 0) {
    chmod(dir.c_str(), 0750);
  } else if (errno != EEXIST) {
    return ErrnoError(errno, "create socket directory " + dir);
  }
  struct stat st;
  if (stat(dir.c_str(), &st) == 0 && (st.st_mode & S_IRWXO) != 0) {
    log->warn("socket directory {} is accessible to others (mode {:o}); use a 0750 directory", dir,
              st.st_mode & 07777);
  }

  std::string lock_path = options_.lock_path.empty() ? address.path + ".lock" : options_.lock_path;
  absl::StatusOr<std::unique_ptr<LockFile>> lock =
      LockFile::Acquire(lock_path, "clawdie-" + options_.name);
  if (!lock.ok()) return lock.status();
  lock_ = std::move(*lock);

  // We hold the lock, so a socket file left here belongs to a dead instance. Still never
  // unlink one that answers.
  if (access(address.path.c_str(), F_OK) == 0) {
    if (SocketIsLive(address.path)) {
      return absl::FailedPreconditionError("clawdie-" + options_.name + " already running (" +
                                           address.path + " answers)");
    }
    if (unlink(address.path.c_str()) != 0) {
      return ErrnoError(errno, "remove stale socket " + address.path);
    }
    log->info("removed stale socket {}", address.path);
  }
  return absl::OkStatus();
}

absl::Status GrpcServer::Start() {
  auto log = GetLogger(options_.name);
  absl::StatusOr<ListenAddress> address = ParseListenAddress(options_.listen);
  if (!address.ok()) return address.status();

  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (address->is_unix) {
    absl::Status prepared = PrepareUnixSocket(*address);
    if (!prepared.ok()) return prepared;
    credentials = grpc::InsecureServerCredentials();
  } else if (options_.insecure && IsLoopbackHost(address->host)) {
    credentials = grpc::InsecureServerCredentials();
  } else if (options_.insecure) {
    return absl::InvalidArgumentError("listen address " + options_.listen +
                                      ": --insecure is allowed only on loopback; configure "
                                      "CLAWDIE_TLS_CERT, CLAWDIE_TLS_KEY and CLAWDIE_TLS_CA");
  } else {
    if (options_.tls_cert.empty() || options_.tls_key.empty() || options_.tls_ca.empty()) {
      return absl::InvalidArgumentError(
          "listen address " + options_.listen +
          ": TCP requires mutual TLS; set CLAWDIE_TLS_CERT, CLAWDIE_TLS_KEY and CLAWDIE_TLS_CA "
          "(or use --insecure on a loopback address)");
    }
    absl::StatusOr<std::string> cert = ReadFile(options_.tls_cert, "TLS certificate");
    absl::StatusOr<std::string> key = ReadFile(options_.tls_key, "TLS key");
    absl::StatusOr<std::string> ca = ReadFile(options_.tls_ca, "TLS CA");
    if (!cert.ok()) return cert.status();
    if (!key.ok()) return key.status();
    if (!ca.ok()) return ca.status();
    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = *ca;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    credentials = grpc::SslServerCredentials(ssl);
    if (!options_.lock_path.empty()) {
      absl::StatusOr<std::unique_ptr<LockFile>> lock =
          LockFile::Acquire(options_.lock_path, "clawdie-" + options_.name);
      if (!lock.ok()) return lock.status();
      lock_ = std::move(*lock);
    }
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<VersionHeaderFactory>());
  builder.experimental().SetInterceptorCreators(std::move(creators));
  // Clients ping every 30 s during long calls (a RunAgent stream, `clawctl send --wait`);
  // accept that rate instead of answering it with GOAWAY "too_many_pings".
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddListeningPort(options_.listen, credentials, address->is_unix ? nullptr : &bound_port_);
  for (grpc::Service* service : services_) builder.RegisterService(service);

  // The socket is created by BuildAndStart: make it 0660 from birth.
  mode_t old_mask = umask(0117);
  server_ = builder.BuildAndStart();
  umask(old_mask);
  if (server_ == nullptr) {
    return absl::UnavailableError("listen " + options_.listen +
                                  ": cannot bind (address in use or not permitted)");
  }
  if (address->is_unix) chmod(address->path.c_str(), 0660);
  SetServing(false);
  if (bound_port_ > 0) {
    log->info("listening on {}:{}", address->host, bound_port_);
  } else {
    log->info("listening on {}", options_.listen);
  }
  return absl::OkStatus();
}

void GrpcServer::SetServing(bool serving) {
  std::lock_guard<std::mutex> lock(health_mu_);
  if (stopping_ || server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving);
  for (const std::string& name : service_names_) health->SetServingStatus(name, serving);
}

int GrpcServer::Wait() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  timespec tick = {0, 200 * 1000 * 1000};
  int signal_number = 0;
  while (!shutdown_requested_.load()) {
    int got = sigtimedwait(&set, nullptr, &tick);
    if (got > 0) {
      signal_number = got;
      break;
    }
  }
  GetLogger(options_.name)
      ->info("{}: draining", signal_number > 0 ? strsignal(signal_number) : "shutdown requested");
  Shutdown();
  return signal_number;
}

void GrpcServer::RequestShutdown() { shutdown_requested_.store(true); }

void GrpcServer::Shutdown() {
  if (server_ == nullptr) return;
  SetServing(false);
  {
    std::lock_guard<std::mutex> lock(health_mu_);
    stopping_ = true;
  }
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(absl::ToInt64Milliseconds(options_.drain)));
  server_->Wait();
  std::lock_guard<std::mutex> lock(health_mu_);
  server_.reset();
  GetLogger(options_.name)->info("stopped");
}

}  // namespace clawdie
