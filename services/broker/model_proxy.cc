#include "services/broker/model_proxy.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <map>
#include <sstream>

#include "common/logging.h"
#include "nlohmann/json.hpp"

namespace clawdie::broker {
namespace {

constexpr size_t kMaxHeadBytes = 64 * 1024;
constexpr int kClientReadTimeoutMs = 30000;
constexpr long kUpstreamTimeoutMs = 15 * 60 * 1000;

struct Request {
  std::string method;
  std::string target;
  std::string path;                            // target without the query
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

std::string LowerAscii(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  size_t end = text.find_last_not_of(" \t\r");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads more bytes from the client into `buffer`; false at EOF, error or timeout.
bool ReadMore(int fd, std::string* buffer) {
  struct pollfd poll_fd = {fd, POLLIN, 0};
  if (::poll(&poll_fd, 1, kClientReadTimeoutMs) <= 0) return false;
  char chunk[16 * 1024];
  ssize_t n = ::read(fd, chunk, sizeof(chunk));
  if (n <= 0) return false;
  buffer->append(chunk, static_cast<size_t>(n));
  return true;
}

void SendError(int fd, int status, const std::string& reason, const std::string& message) {
  std::string body =
      nlohmann::json{{"type", "error"}, {"error", {{"type", "proxy_error"}, {"message", message}}}}
          .dump();
  WriteAll(fd, "HTTP/1.1 " + std::to_string(status) + " " + reason +
                   "\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

// Parses the request line and headers in `head` (without the final blank line).
absl::StatusOr<Request> ParseHead(const std::string& head) {
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  std::istringstream request_line(Trim(line));
  Request request;
  std::string version;
  request_line >> request.method >> request.target >> version;
  if (request.method.empty() || request.target.empty() || version.rfind("HTTP/1.", 0) != 0) {
    return absl::InvalidArgumentError("bad request line");
  }
  if (request.target[0] != '/') {
    return absl::InvalidArgumentError("only origin-form targets are accepted");
  }
  request.path = request.target.substr(0, request.target.find('?'));
  while (std::getline(lines, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    request.headers[LowerAscii(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  }
  return request;
}

// Reads one request from the client. Sends the error answer itself and
// returns nullopt when the request is refused.
std::optional<Request> ReadRequest(int fd, const ModelProviderConfig& config) {
  std::string buffer;
  size_t end;
  while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (buffer.size() > kMaxHeadBytes || !ReadMore(fd, &buffer)) {
      if (!buffer.empty()) SendError(fd, 400, "Bad Request", "incomplete request head");
      return std::nullopt;
    }
  }
  auto request = ParseHead(buffer.substr(0, end));
  if (!request.ok()) {
    SendError(fd, 400, "Bad Request", std::string(request.status().message()));
    return std::nullopt;
  }
  if (request->headers.count("transfer-encoding") != 0) {
    SendError(fd, 411, "Length Required", "chunked request bodies are not accepted");
    return std::nullopt;
  }
  size_t length = std::strtoull(request->headers["content-length"].c_str(), nullptr, 10);
  if (length > config.max_request_bytes) {
    SendError(fd, 413, "Payload Too Large", "request body too large");
    return std::nullopt;
  }
  request->body = buffer.substr(end + 4);
  while (request->body.size() < length) {
    if (!ReadMore(fd, &request->body)) return std::nullopt;
  }
  request->body.resize(length);
  return *std::move(request);
}

// Streams the upstream answer to the client as it arrives.
struct Relay {
  int client = -1;
  long status = 0;
  std::string reason;
  std::vector<std::string> headers;  // passed-through "Name: value" lines
  bool head_sent = false;
  bool client_gone = false;

  bool SendHead() {
    if (head_sent) return true;
    head_sent = true;
    std::string head =
        "HTTP/1.1 " + std::to_string(status) + " " + (reason.empty() ? "Status" : reason) + "\r\n";
    for (const auto& header : headers) head += header + "\r\n";
    head += "Connection: close\r\n\r\n";
    return WriteAll(client, head);
  }
};

size_t OnUpstreamHeader(char* data, size_t size, size_t count, void* user) {
  auto* relay = static_cast<Relay*>(user);
  std::string line(data, size * count);
  line = Trim(line.substr(0, line.find_last_not_of("\r\n") + 1));
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after 100 Continue or a redirect) replaces the old one.
    relay->headers.clear();
    std::istringstream status_line(line);
    std::string version;
    status_line >> version >> relay->status;
    std::getline(status_line, relay->reason);
    relay->reason = Trim(relay->reason);
    return size * count;
  }
  std::string name = LowerAscii(line.substr(0, line.find(':')));
  static const char* kPassed[] = {"content-type", "retry-after", "request-id", "x-request-id",
                                  "anthropic-ratelimit-requests-remaining"};
  for (const char* passed : kPassed) {
    if (name == passed) relay->headers.push_back(line);
  }
  return size * count;
}

size_t OnUpstreamBody(char* data, size_t size, size_t count, void* user) {
  auto* relay = static_cast<Relay*>(user);
  if (!relay->SendHead() || !WriteAll(relay->client, std::string_view(data, size * count))) {
    relay->client_gone = true;
    return 0;
  }
  return size * count;
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

void Forward(int client, const Request& request, const ModelProviderConfig& config) {
  CURL* curl = curl_easy_init();
  struct curl_slist* headers = nullptr;
  for (const char* name : {"content-type", "accept", "anthropic-version", "anthropic-beta"}) {
    auto it = request.headers.find(name);
    if (it != request.headers.end()) {
      headers = curl_slist_append(headers, (std::string(name) + ": " + it->second).c_str());
    }
  }
  if (!config.api_key.empty()) {
    std::string auth = config.provider == "openai" ? "Authorization: Bearer " + config.api_key
                                                   : "x-api-key: " + config.api_key;
    headers = curl_slist_append(headers, auth.c_str());
  }
  headers = curl_slist_append(headers, "Expect:");

  Relay relay;
  relay.client = client;
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, (TrimSlash(config.base_url) + request.target).c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, kUpstreamTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnUpstreamHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &relay);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnUpstreamBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &relay);

  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code == CURLE_OK) {
    relay.SendHead();
  } else if (!relay.head_sent) {
    SendError(client, 502, "Bad Gateway",
              std::string("model provider unreachable: ") +
                  (error[0] != '\0' ? error : curl_easy_strerror(code)));
  }
  GetLogger("broker")->debug("model proxy: {} {} -> {}{}", request.method, request.path,
                             relay.status, code == CURLE_OK ? "" : " (transfer failed)");
}

absl::Status Listen(const std::string& path, UniqueFd* listener) {
  sockaddr_un addr = {};
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError("listen unix:" + path + ": path too long");
  }
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return absl::InternalError("socket unix:" + path + ": " + strerror(errno));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::UnavailableError("bind unix:" + path + ": " + strerror(errno));
  }
  if (::chmod(path.c_str(), 0666) != 0 || ::listen(fd.get(), 16) != 0) {
    ::unlink(path.c_str());
    return absl::InternalError("listen unix:" + path + ": " + strerror(errno));
  }
  *listener = std::move(fd);
  return absl::OkStatus();
}

}  // namespace

bool IsAllowedModelCall(const std::string& provider, const std::string& method,
                        const std::string& path) {
  if (provider == "openai") {
    return (method == "POST" && path == "/v1/chat/completions") ||
           (method == "GET" && path == "/v1/models");
  }
  return method == "POST" && (path == "/v1/messages" || path == "/v1/messages/count_tokens");
}

absl::StatusOr<std::unique_ptr<ModelProxy>> ModelProxy::Start(const std::string& socket_path,
                                                              ModelProviderConfig config) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  UniqueFd listener;
  if (auto status = Listen(socket_path, &listener); !status.ok()) return status;
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) {
    ::unlink(socket_path.c_str());
    return absl::InternalError("start model proxy " + socket_path + ": " + strerror(errno));
  }
  return std::unique_ptr<ModelProxy>(new ModelProxy(
      socket_path, std::move(config), std::move(listener), UniqueFd(wake[0]), UniqueFd(wake[1])));
}

ModelProxy::ModelProxy(std::string socket_path, ModelProviderConfig config, UniqueFd listener,
                       UniqueFd wake_read, UniqueFd wake_write)
    : socket_path_(std::move(socket_path)),
      config_(std::move(config)),
      listener_(std::move(listener)),
      wake_read_(std::move(wake_read)),
      wake_write_(std::move(wake_write)) {
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

ModelProxy::~ModelProxy() {
  ssize_t ignored = ::write(wake_write_.get(), "x", 1);
  (void)ignored;
  acceptor_.join();
  ::unlink(socket_path_.c_str());
  std::lock_guard lock(mu_);
  for (auto& connection : connections_) connection.join();
}

void ModelProxy::AcceptLoop() {
  while (true) {
    struct pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    int client = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (active_.load() >= config_.max_connections) {
      SendError(client, 503, "Service Unavailable", "too many model connections");
      ::close(client);
      continue;
    }
    ++active_;
    std::lock_guard lock(mu_);
    connections_.emplace_back([this, client] {
      Serve(client);
      ::close(client);
      --active_;
    });
  }
}

void ModelProxy::Serve(int client) {
  std::optional<Request> request = ReadRequest(client, config_);
  if (!request.has_value()) return;
  if (!IsAllowedModelCall(config_.provider, request->method, request->path)) {
    GetLogger("broker")->warn("model proxy {}: refused {} {}", socket_path_, request->method,
                              request->path);
    SendError(client, 403, "Forbidden", "only the model API is reachable through this proxy");
    return;
  }
  Forward(client, *request, config_);
}

ModelProxyStarter MakeModelProxyStarter(ModelProviderConfig config) {
  return [config](const std::string& socket_path) -> absl::StatusOr<std::function<void()>> {
    auto proxy = ModelProxy::Start(socket_path, config);
    if (!proxy.ok()) return proxy.status();
    std::shared_ptr<ModelProxy> shared = *std::move(proxy);
    return std::function<void()>([shared]() mutable { shared.reset(); });
  };
}

}  // namespace clawdie::broker
