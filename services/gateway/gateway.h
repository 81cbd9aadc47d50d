// The gateway's channels assembled from the configuration: Telegram (when
// TELEGRAM_BOT_TOKEN is set), WhatsApp (when WHATSAPP_ACCESS_TOKEN is set), the local chat
// (always), and the webhook listener (when CLAWDIE_WEBHOOK_LISTEN is set). Routes sends
// and typing to the channel named by the chat key's prefix, keeping the chunk ledger of
// outbox entries.
//
// Thread-safety: Start and Stop from the main thread; the rest from any thread.
#ifndef CLAWDIE_SERVICES_GATEWAY_GATEWAY_H_
#define CLAWDIE_SERVICES_GATEWAY_GATEWAY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config.h"
#include "services/gateway/chunk_ledger.h"
#include "services/gateway/local_channel.h"
#include "services/gateway/telegram_channel.h"
#include "services/gateway/webhook_server.h"
#include "services/gateway/whatsapp.h"

namespace clawdie::gateway {

struct GatewayOptions {
  bool telegram_enabled = false;
  TelegramChannelOptions telegram;
  bool whatsapp_enabled = false;
  std::string whatsapp_api_base = kDefaultWhatsAppApiBase;
  std::string whatsapp_phone_number_id;
  std::string whatsapp_access_token;
  std::string whatsapp_app_secret;
  std::string whatsapp_verify_token;
  std::string webhook_listen;  // "host:port", empty for none
  std::string whatsapp_webhook_path = "/webhook";
  std::string telegram_webhook_path = "/telegram";
  std::string chunk_ledger_path;  // chunk_ledger.h; "" keeps it in memory only
};

// What Gateway::Send delivered.
struct SentReply {
  std::vector<std::string> platform_ids;  // every chunk's platform id, in order
  int already_delivered = 0;              // how many of them earlier attempts delivered
};

// Reads the gateway's keys (docs/gateway.md). InvalidArgument naming the key for values
// that cannot work (e.g. WhatsApp without WHATSAPP_APP_SECRET, webhook mode without a URL).
absl::StatusOr<GatewayOptions> GatewayOptionsFromConfig(const Config& config,
                                                        const std::string& data_dir);

class Gateway {
 public:
  // `ingester` and `clock` are not owned.
  Gateway(GatewayOptions options, Ingester* ingester, Clock* clock);
  ~Gateway();

  // Starts every enabled channel and the webhook listener. Errors from a channel name it.
  absl::Status Start();
  void Stop();

  // Sends to the channel of `chat_key`'s prefix. With an `outbox_id` (not 0) the chunk
  // ledger makes retries of the same entry resume after the chunks already delivered and
  // answers a completely delivered entry without sending it again; Unavailable while another
  // attempt of the entry is sending. InvalidArgument for an unknown prefix,
  // FailedPrecondition for a channel that is not configured; the channel's errors otherwise.
  absl::StatusOr<SentReply> Send(const std::string& chat_key, const std::string& text,
                                 const std::string& reply_to, int64_t outbox_id = 0);
  absl::Status SetTyping(const std::string& chat_key, bool on);
  std::vector<ChannelStatus> Status() const;

  LocalChannel* local() { return &local_; }
  // The webhook listener's port (0 when none), for tests.
  int webhook_port() const { return webhook_port_; }

 private:
  absl::StatusOr<std::vector<std::string>> SendToChannel(const std::string& chat_key,
                                                         const std::string& text,
                                                         const std::string& reply_to,
                                                         ChunkProgress* progress);
  absl::StatusOr<SentReply> SendOutboxEntry(const std::string& chat_key, const std::string& text,
                                            const std::string& reply_to, int64_t outbox_id);

  GatewayOptions options_;
  Ingester* ingester_;
  Clock* clock_;
  LocalChannel local_;
  std::unique_ptr<TelegramChannel> telegram_;
  std::unique_ptr<WhatsAppClient> whatsapp_client_;
  std::unique_ptr<WhatsAppSender> whatsapp_sender_;
  std::unique_ptr<WhatsAppWebhook> whatsapp_webhook_;
  DeliveryTracker whatsapp_deliveries_;
  ChannelHealth whatsapp_health_{"whatsapp"};
  std::unique_ptr<WebhookServer> webhooks_;
  int webhook_port_ = 0;
  Wakeup stop_;
  std::unique_ptr<ChunkLedger> ledger_;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_GATEWAY_H_
