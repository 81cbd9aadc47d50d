#include "services/broker/docker_client.h"

#include <curl/curl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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
  // A successful response body goes to this descriptor instead of `body`.
  int download_fd = -1;
  int64_t download_max = 0;
  int64_t downloaded = 0;
  int write_errno = 0;  // set when writing to download_fd failed
  // A request body comes from this descriptor.
  int upload_fd = -1;
};

// Writes a response body piece to the download descriptor.
size_t OnDownload(Transfer* transfer, const char* data, size_t bytes) {
  if (transfer->downloaded + static_cast<int64_t>(bytes) > transfer->download_max) {
    transfer->too_large = true;
    return 0;
  }
  for (size_t done = 0; done < bytes;) {
    ssize_t n = ::write(transfer->download_fd, data + done, bytes - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      transfer->write_errno = errno;
      return 0;
    }
    done += static_cast<size_t>(n);
  }
  transfer->downloaded += static_cast<int64_t>(bytes);
  return bytes;
}

size_t OnUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  while (true) {
    ssize_t n = ::read(transfer->upload_fd, buffer, size * count);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return CURL_READFUNC_ABORT;
  }
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  if (transfer->download_fd >= 0) {
    long status = 0;
    curl_easy_getinfo(transfer->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 400) return OnDownload(transfer, data, bytes);
  }
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
  // Archive transfers: the request body from `upload_fd`, the response body to `download_fd`.
  int upload_fd = -1;
  int download_fd = -1;
  int64_t download_max = 0;
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
  transfer.download_fd = options.download_fd;
  transfer.download_max = options.download_max;
  transfer.upload_fd = options.upload_fd;
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
  if (options.upload_fd >= 0) {
    struct stat info = {};
    off_t offset = ::lseek(options.upload_fd, 0, SEEK_CUR);
    if (::fstat(options.upload_fd, &info) != 0 || offset < 0) {
      curl_easy_cleanup(curl);
      return absl::InternalError(what + ": archive file: " + strerror(errno));
    }
    headers = curl_slist_append(headers, "Content-Type: application/x-tar");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnUpload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(info.st_size - offset));
  } else if (options.method == "POST" || options.method == "PUT") {
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
    if (transfer.too_large && transfer.download_fd >= 0) {
      return absl::ResourceExhaustedError(what + ": archive longer than " +
                                          std::to_string(transfer.download_max) + " bytes");
    }
    if (transfer.write_errno != 0) {
      return absl::InternalError(what + ": write archive file: " + strerror(transfer.write_errno));
    }
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

absl::Status DockerClient::PutArchive(const std::string& container_id, const std::string& path,
                                      int archive_fd, absl::Duration timeout) {
  RequestOptions options{"PUT", "/containers/" + container_id + "/archive?path=" + UrlEncode(path),
                         "", timeout};
  options.upload_fd = archive_fd;
  auto response = Perform(options);
  return response.ok() ? absl::OkStatus() : response.status();
}

absl::Status DockerClient::GetArchive(const std::string& container_id, const std::string& path,
                                      int archive_fd, int64_t max_bytes, absl::Duration timeout) {
  RequestOptions options{"GET", "/containers/" + container_id + "/archive?path=" + UrlEncode(path),
                         "", timeout};
  options.download_fd = archive_fd;
  options.download_max = max_bytes;
  auto response = Perform(options);
  return response.ok() ? absl::OkStatus() : response.status();
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
