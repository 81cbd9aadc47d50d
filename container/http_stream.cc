#include "container/http_stream.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace clawdie::agent {
namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;

struct TransferState {
  const std::function<void(std::string_view)>* on_chunk;
  HttpResult* result;
};

bool IsSuccess(long status) { return status >= 200 && status < 300; }

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (e.g. after a 100 Continue) replaces the headers seen so far.
    state->result->headers.clear();
    size_t space = line.find(' ');
    if (space != std::string_view::npos) state->result->status = std::atol(line.data() + space + 1);
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  state->result->headers[name] = std::string(value);
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  std::string_view piece(data, size * count);
  if (IsSuccess(state->result->status)) {
    state->result->body_bytes += piece.size();
    (*state->on_chunk)(piece);
  } else if (state->result->error_body.size() < kMaxErrorBody) {
    state->result->error_body.append(
        piece.substr(0, kMaxErrorBody - state->result->error_body.size()));
  }
  return size * count;
}

}  // namespace

void CurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string BuildUrl(const HttpTarget& target, std::string_view path) {
  std::string base = target.unix_socket.empty() ? target.base_url : "http://localhost";
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0 &&
      path.rfind("/v1/", 0) == 0) {
    path.remove_prefix(3);
  }
  return base + std::string(path);
}

HttpResult PostStreaming(const HttpTarget& target, const HttpPost& post,
                         const std::function<void(std::string_view)>& on_chunk) {
  HttpResult result;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    result.curl_code = CURLE_FAILED_INIT;
    result.curl_error = "curl_easy_init failed";
    return result;
  }
  TransferState state{&on_chunk, &result};
  curl_slist* headers = nullptr;
  for (const std::string& header : post.headers)
    headers = curl_slist_append(headers, header.c_str());
  std::string url = BuildUrl(target, post.path);
  char error_buffer[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (!target.unix_socket.empty()) {
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, target.unix_socket.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(post.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(post.stall_timeout.count()));

  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    result.curl_code = code;
    result.curl_error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return result;
}

}  // namespace clawdie::agent
