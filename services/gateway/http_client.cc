// libcurl-backed HTTP client; see http_client.h.
#include "services/gateway/http_client.h"

#include <curl/curl.h>

#include <mutex>

namespace clawdie::gateway {
namespace {

// The platforms' replies are small (a getUpdates batch of 100 updates is well under 1 MiB);
// a longer one is cut off rather than held in memory.
constexpr size_t kMaxReplyBytes = 16 * 1024 * 1024;

size_t AppendBody(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* body = static_cast<std::string*>(userdata);
  if (size * nmemb > kMaxReplyBytes - body->size()) return 0;  // ends with CURLE_WRITE_ERROR
  body->append(data, size * nmemb);
  return size * nmemb;
}

int CheckCancel(void* userdata, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* cancel = static_cast<const std::atomic<bool>*>(userdata);
  return cancel != nullptr && cancel->load() ? 1 : 0;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

absl::Status TransportError(const HttpRequest& request, CURLcode code, const char* detail) {
  std::string text = request.label + ": " + (detail[0] != '\0' ? detail : curl_easy_strerror(code));
  if (code == CURLE_WRITE_ERROR) text += " (the reply is over 16 MiB)";
  if (code == CURLE_OPERATION_TIMEDOUT) return absl::DeadlineExceededError(text);
  if (code == CURLE_ABORTED_BY_CALLBACK) return absl::CancelledError(text);
  return absl::UnavailableError(text);
}

}  // namespace

HttpClient::HttpClient() { InitCurlOnce(); }

HttpClient::~HttpClient() {
  for (void* handle : idle_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* HttpClient::Acquire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.empty()) return curl_easy_init();
  void* handle = idle_.back();
  idle_.pop_back();
  return handle;
}

void HttpClient::Release(void* handle) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(handle);
}

absl::StatusOr<HttpResponse> HttpClient::Do(const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(Acquire());
  if (curl == nullptr) return absl::ResourceExhaustedError(request.label + ": curl_easy_init");
  curl_easy_reset(curl);

  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(request.timeout)));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  if (request.cancel != nullptr) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, CheckCancel);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, request.cancel);
  }

  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) {
    absl::Status status = TransportError(request, code, error);
    curl_easy_cleanup(curl);  // a failed connection is not worth reusing
    return status;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  Release(curl);
  return response;
}

}  // namespace clawdie::gateway
