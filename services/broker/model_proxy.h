// The per-sandbox model proxy: an HTTP/1.1 listener on a Unix socket inside
// the sandbox (CLAWDIE_MODEL_SOCKET) that forwards the provider's API calls to
// the configured base URL with the API key added, and streams the answer back
// unchanged (server-sent events arrive as the provider sends them). Only the
// provider's model endpoints are forwarded; other paths, absolute-form targets
// and chunked request bodies are refused. The sandbox never sees the key.
//
// Thread-safety: a ModelProxy serves each connection on its own thread;
// construction and destruction happen on one thread.
#ifndef CLAWDIE_SERVICES_BROKER_MODEL_PROXY_H_
#define CLAWDIE_SERVICES_BROKER_MODEL_PROXY_H_

#include <sys/types.h>

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "services/broker/sandbox.h"
#include "services/broker/unique_fd.h"

namespace clawdie::broker {

struct ModelProviderConfig {
  // "anthropic" (x-api-key) or "openai" (Authorization: Bearer).
  std::string provider = "anthropic";
  // scheme://host[:port][/prefix]; request paths are appended to it.
  std::string base_url = "https://api.anthropic.com";
  // The provider's API key; may be empty for local servers. Never logged.
  std::string api_key;
  // Longest accepted request body.
  size_t max_request_bytes = 32 << 20;
  // Connections served at once per sandbox.
  int max_connections = 8;
};

class ModelProxy {
 public:
  // Listens on `socket_path` (mode 0666: the sandbox user connects) and
  // serves until destroyed. Errors name the socket.
  static absl::StatusOr<std::unique_ptr<ModelProxy>> Start(const std::string& socket_path,
                                                           ModelProviderConfig config);
  ~ModelProxy();

  ModelProxy(const ModelProxy&) = delete;
  ModelProxy& operator=(const ModelProxy&) = delete;

 private:
  ModelProxy(std::string socket_path, ModelProviderConfig config, UniqueFd listener,
             UniqueFd wake_read, UniqueFd wake_write);
  void AcceptLoop();
  void Serve(int client);

  const std::string socket_path_;
  const ModelProviderConfig config_;
  UniqueFd listener_;
  UniqueFd wake_read_;
  UniqueFd wake_write_;
  std::atomic<int> active_{0};
  std::mutex mu_;
  std::list<std::thread> connections_;  // guarded by mu_
  std::thread acceptor_;
};

// Returns the starter backends call for every run.
ModelProxyStarter MakeModelProxyStarter(ModelProviderConfig config);

// True when `method` and `path` (without the query) are a model endpoint of `provider`.
bool IsAllowedModelCall(const std::string& provider, const std::string& method,
                        const std::string& path);

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_MODEL_PROXY_H_
