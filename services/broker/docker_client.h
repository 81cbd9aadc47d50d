// A small Docker Engine API client over libcurl: the local Unix socket or
// tcp:// with TLS client certificates (DOCKER_HOST, DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH), API version negotiation, JSON requests, a streaming
// request for /wait, and the hijacked attach connection (CURLOPT_CONNECT_ONLY
// with curl_easy_send / curl_easy_recv, which works over both transports).
//
// Thread-safety: DockerClient is safe from any thread once Negotiate
// returned (each request uses its own curl handle). A HijackedConnection
// allows one sender and one receiver thread at the same time.
#ifndef CLAWDIE_SERVICES_BROKER_DOCKER_CLIENT_H_
#define CLAWDIE_SERVICES_BROKER_DOCKER_CLIENT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace clawdie::broker {

struct DockerEndpoint {
  // "unix:///var/run/docker.sock" or "tcp://HOST:PORT".
  std::string host = "unix:///var/run/docker.sock";
  // Verify the daemon against ca.pem and present cert.pem / key.pem.
  bool tls_verify = false;
  // Folder with ca.pem, cert.pem and key.pem.
  std::string cert_path;

  // True for a daemon on another machine (tcp:// to a non-loopback host):
  // host folders cannot be bind-mounted there.
  bool IsRemote() const;
};

// Parses DOCKER_HOST-style values. InvalidArgument for unsupported schemes,
// and for tcp:// without TLS to a non-loopback host.
absl::StatusOr<DockerEndpoint> MakeDockerEndpoint(const std::string& host, bool tls_verify,
                                                  const std::string& cert_path);

struct HttpResponse {
  long status = 0;
  std::string body;
};

// A raw, bidirectional connection after the attach upgrade.
class HijackedConnection {
 public:
  HijackedConnection(void* curl, int socket, std::string early_bytes, std::string description);
  ~HijackedConnection();

  // Writes all of `data`. Unavailable if the peer is gone.
  absl::Status Send(std::string_view data);
  // Reads some bytes, waiting up to `timeout`. Returns "" on timeout and
  // std::nullopt at end of stream.
  absl::StatusOr<std::optional<std::string>> Recv(absl::Duration timeout);
  // Half-closes the write side (the container sees EOF on stdin).
  void CloseWrite();

 private:
  void* curl_;
  const int socket_;
  std::string early_bytes_;  // received with the upgrade response
  const std::string description_;
  std::mutex curl_mu_;  // curl handles are not safe for concurrent use
  std::mutex send_mu_;
  bool write_closed_ = false;
};

class DockerClient {
 public:
  // The newest and oldest API versions this broker speaks.
  static constexpr const char* kMaxApiVersion = "1.43";
  static constexpr const char* kMinApiVersion = "1.40";

  explicit DockerClient(DockerEndpoint endpoint);

  // Reads /version and picks min(daemon's version, ours). FailedPrecondition
  // naming both versions when the daemon's minimum is above ours or its
  // maximum below our minimum; Unavailable when the daemon cannot be reached.
  absl::Status Negotiate();
  const std::string& api_version() const { return api_version_; }
  const std::string& engine_version() const { return engine_version_; }
  const DockerEndpoint& endpoint() const { return endpoint_; }

  // Sends a request to /v<api>/<path> with an optional JSON body. Transport
  // errors are Unavailable; HTTP errors map to canonical codes with the
  // daemon's message: `docker <METHOD> <path>: HTTP <code>: <message>`.
  absl::StatusOr<HttpResponse> Call(const std::string& method, const std::string& path,
                                    const std::string& body = "",
                                    absl::Duration timeout = absl::Seconds(60));

  // Like Call, but runs `on_headers` as soon as the response headers arrived
  // and gives up when `*abort` becomes true (checked about every 100 ms).
  absl::StatusOr<HttpResponse> CallStreaming(const std::string& method, const std::string& path,
                                             const std::function<void()>& on_headers,
                                             const std::atomic<bool>* abort,
                                             absl::Duration timeout);

  // Uploads the tar stream in `archive_fd` (from its current offset to its
  // end) and has the daemon unpack it into the folder `path` of the container
  // (PUT /containers/{id}/archive). Errors as for Call.
  absl::Status PutArchive(const std::string& container_id, const std::string& path, int archive_fd,
                          absl::Duration timeout);

  // Writes the daemon's tar stream of `path` in the container to
  // `archive_fd` (GET /containers/{id}/archive); entries are named after the
  // last component of `path`. ResourceExhausted when the stream is longer
  // than `max_bytes`; other errors as for Call.
  absl::Status GetArchive(const std::string& container_id, const std::string& path, int archive_fd,
                          int64_t max_bytes, absl::Duration timeout);

  // Opens the hijacked attach connection to a container's stdin/stdout/stderr.
  absl::StatusOr<std::unique_ptr<HijackedConnection>> Attach(const std::string& container_id);

 private:
  struct RequestOptions;
  absl::StatusOr<HttpResponse> Perform(const RequestOptions& options);
  void* NewHandle(const std::string& path_and_query) const;
  std::string Url(const std::string& path_and_query) const;

  const DockerEndpoint endpoint_;
  std::string api_version_ = kMinApiVersion;
  std::string engine_version_;
};

// Encodes a value for a URL query (filters JSON).
std::string UrlEncode(std::string_view text);

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_DOCKER_CLIENT_H_
