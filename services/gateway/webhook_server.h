// The gateway's optional HTTP listener for platform webhooks (WhatsApp Cloud API; Telegram
// in webhook mode), on cpp-httplib. Put it behind a TLS-terminating reverse proxy: Meta
// and Telegram only call https URLs.
//
// Thread-safety: Start/Stop from one thread; handlers run on the server's worker threads.
#ifndef CLAWDIE_SERVICES_GATEWAY_WEBHOOK_SERVER_H_
#define CLAWDIE_SERVICES_GATEWAY_WEBHOOK_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "services/gateway/whatsapp.h"

namespace httplib {
class Server;
}

namespace clawdie::gateway {

class WebhookServer {
 public:
  WebhookServer();
  ~WebhookServer();

  // GET `path` answers the verification handshake, POST `path` takes notifications.
  void RouteWhatsApp(const std::string& path, WhatsAppWebhook* webhook);
  // POST `path` takes one Telegram update; `handle` gets the body and the
  // X-Telegram-Bot-Api-Secret-Token header.
  void RouteTelegram(const std::string& path,
                     std::function<HttpReply(const std::string&, const std::string&)> handle);

  // Binds `host:port` (0 picks a port) and serves on a background thread. Returns the port.
  absl::StatusOr<int> Start(const std::string& host, int port);
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int listen_fd_ = -1;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_WEBHOOK_SERVER_H_
