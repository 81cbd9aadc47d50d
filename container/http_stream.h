// One streaming HTTP POST through libcurl, to a base URL or over a Unix socket (the broker's
// model proxy inside a sandbox). Successful response bodies are handed over piece by piece as
// they arrive; error bodies are collected so their message can be reported.
//
// Thread-safety: PostStreaming may be called from several threads at once (each call has its
// own curl handle). CurlGlobalInit must run once before threads start.
#ifndef CLAWDIE_CONTAINER_HTTP_STREAM_H_
#define CLAWDIE_CONTAINER_HTTP_STREAM_H_

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace clawdie::agent {

// Where the model server is: a Unix socket (the URL's host is then ignored) or a base URL.
struct HttpTarget {
  std::string unix_socket;
  std::string base_url;  // e.g. http://127.0.0.1:8080 or https://api.anthropic.com
};

struct HttpResult {
  long status = 0;                             // 0 when no response line was received
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string error_body;                      // body of a non-2xx response (capped)
  int curl_code = 0;                           // CURLcode; 0 when the transfer completed
  std::string curl_error;                      // curl's message when curl_code != 0
  size_t body_bytes = 0;                       // bytes of a 2xx body handed to the callback
};

struct HttpPost {
  std::string path;                  // appended to the base URL, e.g. /v1/messages
  std::vector<std::string> headers;  // "Name: value"; may carry credentials, never logged
  std::string body;
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds stall_timeout{300};  // abort when no byte arrives for this long
};

// Initializes libcurl's global state; call once from main (and from tests) before threads.
void CurlGlobalInit();

// Builds the URL for `path` on `target`: a base that already ends in "/v1" is not doubled.
std::string BuildUrl(const HttpTarget& target, std::string_view path);

// Sends `post` and calls `on_chunk` for each piece of a 2xx body. Never throws; transport
// failures are reported in curl_code / curl_error.
HttpResult PostStreaming(const HttpTarget& target, const HttpPost& post,
                         const std::function<void(std::string_view)>& on_chunk);

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_HTTP_STREAM_H_
