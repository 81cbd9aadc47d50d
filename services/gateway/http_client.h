// A small blocking HTTP client over libcurl for the Bot API and the Graph API. Error texts
// name the caller's label (e.g. "telegram sendMessage"), never the URL, because the Bot API
// puts the token in the URL path.
//
// Thread-safety: HttpClient is safe to use from many threads; it keeps a pool of curl
// handles so connections are reused.
#ifndef CLAWDIE_SERVICES_GATEWAY_HTTP_CLIENT_H_
#define CLAWDIE_SERVICES_GATEWAY_HTTP_CLIENT_H_

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace clawdie::gateway {

struct HttpRequest {
  std::string method = "GET";  // "GET" or "POST"
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  absl::Duration timeout = absl::Seconds(30);
  // Used in error texts instead of the URL.
  std::string label;
  // When set and it turns true, the transfer is aborted (Cancelled).
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs the request. Any HTTP status is a success here; transport failures return
  // Unavailable ("<label>: <curl error>"), DeadlineExceeded on timeout, Cancelled when
  // `cancel` turned true.
  absl::StatusOr<HttpResponse> Do(const HttpRequest& request);

 private:
  void* Acquire();
  void Release(void* handle);

  std::mutex mu_;
  std::vector<void*> idle_;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_HTTP_CLIENT_H_
