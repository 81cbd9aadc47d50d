// The hijacked attach connection of DockerClient (see docker_client.h).
#include <curl/curl.h>
#include <poll.h>
#include <sys/socket.h>

#include "services/broker/docker_client.h"

namespace clawdie::broker {
namespace {

constexpr absl::Duration kUpgradeTimeout = absl::Seconds(30);
constexpr size_t kMaxUpgradeHeader = 16 * 1024;

int PollMs(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(timeout) + 1, 1 << 30));
}

// Waits for `events` on `socket` until `deadline`. False on timeout.
bool WaitSocket(int socket, short events, absl::Time deadline) {
  struct pollfd fd = {socket, events, 0};
  int ready;
  do {
    ready = ::poll(&fd, 1, PollMs(deadline - absl::Now()));
  } while (ready < 0 && errno == EINTR);
  return ready > 0;
}

// Sends all of `data` on a CONNECT_ONLY handle.
absl::Status SendAll(CURL* curl, int socket, std::string_view data, std::mutex& curl_mu,
                     const std::string& what) {
  while (!data.empty()) {
    size_t sent = 0;
    CURLcode code;
    {
      std::lock_guard lock(curl_mu);
      code = curl_easy_send(curl, data.data(), data.size(), &sent);
    }
    if (code == CURLE_AGAIN) {
      WaitSocket(socket, POLLOUT, absl::Now() + absl::Seconds(1));
      continue;
    }
    if (code != CURLE_OK) return absl::UnavailableError(what + ": " + curl_easy_strerror(code));
    data.remove_prefix(sent);
  }
  return absl::OkStatus();
}

// Reads the upgrade response head; returns the bytes after it.
absl::StatusOr<std::string> ReadUpgrade(CURL* curl, int socket, std::mutex& curl_mu,
                                        const std::string& what) {
  std::string received;
  absl::Time deadline = absl::Now() + kUpgradeTimeout;
  size_t end;
  while ((end = received.find("\r\n\r\n")) == std::string::npos) {
    if (received.size() > kMaxUpgradeHeader) {
      return absl::InternalError(what + ": upgrade response too large");
    }
    char buffer[4096];
    size_t n = 0;
    CURLcode code;
    {
      std::lock_guard lock(curl_mu);
      code = curl_easy_recv(curl, buffer, sizeof(buffer), &n);
    }
    if (code == CURLE_AGAIN) {
      if (!WaitSocket(socket, POLLIN, deadline)) {
        return absl::DeadlineExceededError(what + ": no upgrade response");
      }
      continue;
    }
    if (code != CURLE_OK) return absl::UnavailableError(what + ": " + curl_easy_strerror(code));
    if (n == 0) return absl::UnavailableError(what + ": connection closed during upgrade");
    received.append(buffer, n);
  }
  std::string status_line = received.substr(0, received.find("\r\n"));
  if (status_line.find(" 101 ") == std::string::npos &&
      status_line.find(" 200 ") == std::string::npos) {
    return absl::UnavailableError(what + ": unexpected answer " + status_line);
  }
  return received.substr(end + 4);
}

}  // namespace

HijackedConnection::HijackedConnection(void* curl, int socket, std::string early_bytes,
                                       std::string description)
    : curl_(curl),
      socket_(socket),
      early_bytes_(std::move(early_bytes)),
      description_(std::move(description)) {}

HijackedConnection::~HijackedConnection() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

absl::Status HijackedConnection::Send(std::string_view data) {
  std::lock_guard lock(send_mu_);
  if (write_closed_) return absl::UnavailableError("write " + description_ + ": input closed");
  return SendAll(static_cast<CURL*>(curl_), socket_, data, curl_mu_, "write " + description_);
}

absl::StatusOr<std::optional<std::string>> HijackedConnection::Recv(absl::Duration timeout) {
  if (!early_bytes_.empty()) return std::optional<std::string>(std::exchange(early_bytes_, ""));
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    std::string buffer(64 * 1024, '\0');
    size_t n = 0;
    CURLcode code;
    {
      std::lock_guard lock(curl_mu_);
      code = curl_easy_recv(static_cast<CURL*>(curl_), buffer.data(), buffer.size(), &n);
    }
    if (code == CURLE_OK) {
      if (n == 0) return std::optional<std::string>();
      buffer.resize(n);
      return std::optional<std::string>(std::move(buffer));
    }
    if (code != CURLE_AGAIN) {
      return absl::UnavailableError("read " + description_ + ": " + curl_easy_strerror(code));
    }
    if (!WaitSocket(socket_, POLLIN, deadline)) return std::optional<std::string>("");
  }
}

void HijackedConnection::CloseWrite() {
  std::lock_guard lock(send_mu_);
  if (write_closed_) return;
  write_closed_ = true;
  ::shutdown(socket_, SHUT_WR);
}

absl::StatusOr<std::unique_ptr<HijackedConnection>> DockerClient::Attach(
    const std::string& container_id) {
  std::string path = "/v" + api_version_ + "/containers/" + container_id +
                     "/attach?stream=1&stdin=1&stdout=1&stderr=1";
  std::string what = "docker attach " + container_id;
  CURL* curl = static_cast<CURL*>(NewHandle(path));
  if (curl == nullptr) return absl::ResourceExhaustedError(what + ": curl_easy_init failed");
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  CURLcode code = curl_easy_perform(curl);
  curl_socket_t socket = CURL_SOCKET_BAD;
  if (code == CURLE_OK) code = curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &socket);
  if (code != CURLE_OK || socket == CURL_SOCKET_BAD) {
    curl_easy_cleanup(curl);
    return absl::UnavailableError(what + " " + endpoint_.host + ": " + curl_easy_strerror(code));
  }

  std::mutex curl_mu;
  std::string request = "POST " + path + " HTTP/1.1\r\nHost: docker\r\n" +
                        "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n";
  absl::Status sent = SendAll(curl, socket, request, curl_mu, what);
  absl::StatusOr<std::string> early =
      sent.ok() ? ReadUpgrade(curl, socket, curl_mu, what) : absl::StatusOr<std::string>(sent);
  if (!early.ok()) {
    curl_easy_cleanup(curl);
    return early.status();
  }
  return std::make_unique<HijackedConnection>(curl, socket, *std::move(early),
                                              "attach " + container_id);
}

}  // namespace clawdie::broker
