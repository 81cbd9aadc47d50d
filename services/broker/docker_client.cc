#include "services/broker/docker_client.h"

#include <curl/curl.h>

#include <cstdio>
#include <mutex>

#include "nlohmann/json.hpp"

namespace clawdie::broker {
namespace {

constexpr size_t kMaxBodyBytes = 16 << 20;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Parses "1.41" into {1, 41}.
std::pair<int, int> ParseVersion(const std::string& text) {
  int major = 0, minor = 0;
  std::sscanf(text.c_str(), "%d.%d", &major, &minor);
  return {major, minor};
}

bool IsLoopbackHost(const std::string& host_port) {
  std::string host = host_port.substr(0, host_port.rfind(':'));
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host == "::1";
}

absl::Status HttpError(const std::string& what, long status, const std::string& body) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string message = json.is_object() && json.contains("message") && json["message"].is_string()
                            ? json["message"].get<std::string>()
                            : body.substr(0, 200);
  std::string text = what + ": HTTP " + std::to_string(status) + ": " + message;
  switch (status) {
    case 400:
      return absl::InvalidArgumentError(text);
    case 401:
    case 403:
      return absl::PermissionDeniedError(text);
    case 404:
      return absl::NotFoundError(text);
    case 409:
      return absl::FailedPreconditionError(text);
    case 502:
    case 503:
      return absl::UnavailableError(text);
    default:
      return absl::InternalError(text);
  }
}

struct Transfer {
  std::string body;
  const std::function<void()>* on_headers = nullptr;
  const std::atomic<bool>* abort = nullptr;
  CURL* curl = nullptr;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  if (transfer->body.size() + bytes > kMaxBodyBytes) {
    transfer->too_large = true;
    return 0;
  }
  transfer->body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  bool blank = bytes == 2 && data[0] == '\r' && data[1] == '\n';
  if (blank && transfer->on_headers != nullptr && *transfer->on_headers) {
    long status = 0;
    curl_easy_getinfo(transfer->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200) (*transfer->on_headers)();
  }
  return bytes;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  return transfer->abort != nullptr && transfer->abort->load() ? 1 : 0;
}

}  // namespace

struct DockerClient::RequestOptions {
  std::string method;
  std::string path;  // without the version prefix
  std::string body;
  absl::Duration timeout = absl::Seconds(60);
  bool versioned = true;
  const std::function<void()>* on_headers = nullptr;
  const std::atomic<bool>* abort = nullptr;
};

bool DockerEndpoint::IsRemote() const {
  return host.rfind("tcp://", 0) == 0 && !IsLoopbackHost(host.substr(6));
}

absl::StatusOr<DockerEndpoint> MakeDockerEndpoint(const std::string& host, bool tls_verify,
                                                  const std::string& cert_path) {
  DockerEndpoint endpoint;
  endpoint.host = host.empty() ? "unix:///var/run/docker.sock" : host;
  endpoint.tls_verify = tls_verify;
  endpoint.cert_path = cert_path;
  bool is_unix = endpoint.host.rfind("unix://", 0) == 0;
  bool is_tcp = endpoint.host.rfind("tcp://", 0) == 0;
  if (!is_unix && !is_tcp) {
    return absl::InvalidArgumentError("parse DOCKER_HOST " + endpoint.host +
                                      ": expected unix:// or tcp://");
  }
  if (is_tcp && !tls_verify && endpoint.IsRemote()) {
    return absl::InvalidArgumentError("parse DOCKER_HOST " + endpoint.host +
                                      ": a remote daemon needs DOCKER_TLS_VERIFY=1");
  }
  if (tls_verify && cert_path.empty()) {
    return absl::InvalidArgumentError("parse DOCKER_CERT_PATH: required with DOCKER_TLS_VERIFY");
  }
  return endpoint;
}

std::string UrlEncode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

DockerClient::DockerClient(DockerEndpoint endpoint) : endpoint_(std::move(endpoint)) {
  GlobalInit();
}

std::string DockerClient::Url(const std::string& path_and_query) const {
  if (endpoint_.host.rfind("unix://", 0) == 0) return "http://docker" + path_and_query;
  return std::string(endpoint_.tls_verify ? "https://" : "http://") + endpoint_.host.substr(6) +
         path_and_query;
}

void* DockerClient::NewHandle(const std::string& path_and_query) const {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return nullptr;
  curl_easy_setopt(curl, CURLOPT_URL, Url(path_and_query).c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (endpoint_.host.rfind("unix://", 0) == 0) {
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, endpoint_.host.substr(7).c_str());
  }
  if (endpoint_.tls_verify) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, (endpoint_.cert_path + "/ca.pem").c_str());
    curl_easy_setopt(curl, CURLOPT_SSLCERT, (endpoint_.cert_path + "/cert.pem").c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, (endpoint_.cert_path + "/key.pem").c_str());
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  }
  return curl;
}

absl::StatusOr<HttpResponse> DockerClient::Perform(const RequestOptions& options) {
  std::string path = options.versioned ? "/v" + api_version_ + options.path : options.path;
  std::string what = "docker " + options.method + " " + options.path;
  CURL* curl = static_cast<CURL*>(NewHandle(path));
  if (curl == nullptr) return absl::ResourceExhaustedError(what + ": curl_easy_init failed");

  Transfer transfer;
  transfer.curl = curl;
  transfer.on_headers = options.on_headers;
  transfer.abort = options.abort;
  char error[CURL_ERROR_SIZE] = {};
  struct curl_slist* headers = nullptr;
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, options.method.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options.timeout)));
  if (options.abort != nullptr) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  }
  if (options.method == "POST" || options.method == "PUT") {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, options.body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(options.body.size()));
  }

  CURLcode code = curl_easy_perform(curl);
  HttpResponse response;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) {
    std::string cause = error[0] != '\0' ? error : curl_easy_strerror(code);
    if (code == CURLE_ABORTED_BY_CALLBACK) return absl::CancelledError(what + ": aborted");
    return absl::UnavailableError(what + " " + endpoint_.host + ": " + cause);
  }
  if (response.status >= 400) return HttpError(what, response.status, transfer.body);
  response.body = std::move(transfer.body);
  return response;
}

absl::Status DockerClient::Negotiate() {
  RequestOptions options;
  options.method = "GET";
  options.path = "/version";
  options.versioned = false;
  options.timeout = absl::Seconds(10);
  auto response = Perform(options);
  if (!response.ok()) return response.status();

  nlohmann::json json = nlohmann::json::parse(response->body, nullptr, false);
  if (!json.is_object() || !json.contains("ApiVersion")) {
    return absl::InternalError("docker GET /version: no ApiVersion in the answer");
  }
  std::string daemon_max = json.value("ApiVersion", "");
  std::string daemon_min = json.value("MinAPIVersion", daemon_max);
  if (ParseVersion(daemon_min) > ParseVersion(kMaxApiVersion)) {
    return absl::FailedPreconditionError("negotiate docker API version: daemon requires at least " +
                                         daemon_min + ", broker supports at most " +
                                         kMaxApiVersion);
  }
  if (ParseVersion(daemon_max) < ParseVersion(kMinApiVersion)) {
    return absl::FailedPreconditionError("negotiate docker API version: daemon supports at most " +
                                         daemon_max + ", broker needs at least " + kMinApiVersion);
  }
  api_version_ =
      ParseVersion(daemon_max) < ParseVersion(kMaxApiVersion) ? daemon_max : kMaxApiVersion;
  engine_version_ = json.value("Version", "");
  return absl::OkStatus();
}

absl::StatusOr<HttpResponse> DockerClient::Call(const std::string& method, const std::string& path,
                                                const std::string& body, absl::Duration timeout) {
  RequestOptions options{method, path, body, timeout};
  return Perform(options);
}

absl::StatusOr<HttpResponse> DockerClient::CallStreaming(const std::string& method,
                                                         const std::string& path,
                                                         const std::function<void()>& on_headers,
                                                         const std::atomic<bool>* abort,
                                                         absl::Duration timeout) {
  RequestOptions options{method, path, "", timeout};
  options.on_headers = &on_headers;
  options.abort = abort;
  return Perform(options);
}

}  // namespace clawdie::broker
