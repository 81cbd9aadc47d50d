// Webhook HTTP listener; see webhook_server.h.
#include "services/gateway/webhook_server.h"

#include <chrono>
#include <exception>
#include <string>

#include <sys/socket.h>

#include "common/logging.h"
#include "httplib.h"

namespace clawdie::gateway {
namespace {

constexpr size_t kMaxBodyBytes = 4 * 1024 * 1024;

void Reply(const HttpReply& reply, httplib::Response& res) {
  res.status = reply.status;
  res.set_content(reply.body, "text/plain");
}

// Reads the request body, at most kMaxBodyBytes after decompression. The library enforces
// its own limit only against Content-Length, so a chunked or compressed body is counted
// here as it arrives instead of being buffered whole first. False when it was too long or
// the connection broke.
bool ReadBody(const httplib::ContentReader& reader, std::string* body) {
  return reader([body](const char* data, size_t size) {
    if (size > kMaxBodyBytes - body->size()) return false;
    body->append(data, size);
    return true;
  });
}

void RefuseBody(const httplib::Request& req, httplib::Response& res) {
  GetLogger("webhook")->warn("{} {}: refused a body over {} bytes or cut short", req.method,
                             req.path, kMaxBodyBytes);
  Reply({413, "body too large"}, res);
}

}  // namespace

WebhookServer::WebhookServer() : server_(std::make_unique<httplib::Server>()) {
  server_->set_tcp_nodelay(true);
  // Remember the listening socket: the library listens with a backlog of 5, which drops
  // connections when many clients connect at once; Start() raises it.
  server_->set_socket_options([this](int fd) {
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd_ = fd;
  });
  server_->set_payload_max_length(kMaxBodyBytes);
  server_->set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr error) {
        // A handler bug must not crash the listener or show its text to the caller.
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        GetLogger("webhook")->error("{} {}: {}", req.method, req.path, what);
        Reply({500, "internal error"}, res);
      });
}

WebhookServer::~WebhookServer() { Stop(); }

void WebhookServer::RouteWhatsApp(const std::string& path, WhatsAppWebhook* webhook) {
  server_->Get(path, [webhook](const httplib::Request& req, httplib::Response& res) {
    Reply(webhook->HandleVerification(req.get_param_value("hub.mode"),
                                      req.get_param_value("hub.verify_token"),
                                      req.get_param_value("hub.challenge")),
          res);
  });
  server_->Post(path, [webhook](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader) {
    std::string body;
    if (!ReadBody(reader, &body)) return RefuseBody(req, res);
    Reply(webhook->HandleNotification(body, req.get_header_value("X-Hub-Signature-256")), res);
  });
}

void WebhookServer::RouteTelegram(
    const std::string& path,
    std::function<HttpReply(const std::string&, const std::string&)> handle) {
  server_->Post(path, [handle](const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader& reader) {
    std::string body;
    if (!ReadBody(reader, &body)) return RefuseBody(req, res);
    Reply(handle(body, req.get_header_value("X-Telegram-Bot-Api-Secret-Token")), res);
  });
}

absl::StatusOr<int> WebhookServer::Start(const std::string& host, int port) {
  int bound =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (listen_fd_ >= 0) ::listen(listen_fd_, 1024);
  if (bound <= 0) {
    return absl::UnavailableError("bind " + host + ":" + std::to_string(port) +
                                  ": address in use or not available");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return bound;
}

void WebhookServer::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace clawdie::gateway
