// WhatsApp Cloud API channel pieces: webhook signature check (HMAC-SHA256 of the raw body
// with the app secret, compared in constant time before anything is parsed), the
// verification handshake, normalisation of webhook payloads to `wa:<number>` messages and
// delivery statuses, the webhook handler (dedup by message id, 200 only after Ingest), and
// text sends through the Graph API.
//
// Thread-safety: the free functions are pure; WhatsAppWebhook, DeliveryTracker and
// WhatsAppClient are safe to use from many threads.
#ifndef CLAWDIE_SERVICES_GATEWAY_WHATSAPP_H_
#define CLAWDIE_SERVICES_GATEWAY_WHATSAPP_H_

#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/gateway/channel_status.h"
#include "services/gateway/chunker.h"
#include "services/gateway/clock.h"
#include "services/gateway/http_client.h"
#include "services/gateway/inbound.h"

namespace clawdie::gateway {

inline constexpr char kDefaultWhatsAppApiBase[] = "https://graph.facebook.com/v21.0";

// True when `header` is "sha256=<hex HMAC-SHA256 of body keyed with app_secret>". The
// comparison takes the same time wherever the first difference is.
bool VerifyWhatsAppSignature(const std::string& app_secret, const std::string& body,
                             const std::string& header);

// "sha256=<hex>" for `body`; what Meta sends, for tests and tools.
std::string WhatsAppSignature(const std::string& app_secret, const std::string& body);

// A delivery status callback for a message the gateway sent.
struct WhatsAppStatus {
  std::string message_id;  // wamid
  std::string status;      // "sent", "delivered", "read", "failed"
  std::string recipient;   // "wa:<number>"
  std::string error;       // "<code>: <title>" for failed
  absl::Time time = absl::UnixEpoch();
};

struct WhatsAppWebhookBatch {
  std::vector<InboundMessage> messages;
  std::vector<WhatsAppStatus> statuses;
  std::vector<std::string> skipped;  // why each malformed message or status was left out
};

// Parses a webhook POST body. InvalidArgument for a body that is not a WhatsApp Business
// Account notification (or is nested too deeply to be one). A malformed message or status
// inside a notification is left out with its reason in `skipped`; the others are kept.
absl::StatusOr<WhatsAppWebhookBatch> ParseWhatsAppWebhook(const std::string& body);

// Per sent message id (bounded; oldest forgotten first): the outbox entry it was sent for
// and the latest delivery state the platform reported.
class DeliveryTracker {
 public:
  // The gateway sent `message_id` for outbox entry `outbox_id` (0 for none).
  void RememberSent(const std::string& message_id, int64_t outbox_id);
  void Update(const WhatsAppStatus& status);
  // The last status of `message_id`, or "" when unknown.
  std::string StateOf(const std::string& message_id) const;
  // The outbox entry `message_id` was sent for, 0 when unknown (e.g. sent before a restart).
  int64_t OutboxOf(const std::string& message_id) const;

 private:
  struct Tracked {
    std::string state;
    int64_t outbox_id = 0;
  };
  Tracked& TrackLocked(const std::string& message_id);

  mutable std::mutex mu_;
  std::map<std::string, Tracked> tracked_;
  std::deque<std::string> order_;
};

struct HttpReply {
  int status = 200;
  std::string body;
};

class WhatsAppWebhook {
 public:
  // Nothing is owned. `app_secret` and `verify_token` are the configured secrets.
  WhatsAppWebhook(std::string app_secret, std::string verify_token, Ingester* ingester,
                  DeliveryTracker* tracker, ChannelHealth* health);

  // GET: hub.mode=subscribe with the right hub.verify_token → 200 with hub.challenge;
  // anything else → 403.
  HttpReply HandleVerification(const std::string& mode, const std::string& token,
                               const std::string& challenge) const;

  // POST: 401 when the signature does not match (nothing parsed, nothing ingested);
  // 400 for a body that is not a notification; 503 when the router could not take a message
  // or a status report for now (Meta retries the delivery); 200 when every message was
  // ingested or already known and every status was passed on (or is one the router cannot
  // place, e.g. of a message not sent through the outbox).
  HttpReply HandleNotification(const std::string& body, const std::string& signature);

 private:
  bool Seen(const std::string& message_id);
  void Remember(const std::string& message_id);
  // Records `status` and passes it on to the router. False when the router may take it later.
  bool PassOn(const WhatsAppStatus& status);

  std::string app_secret_;
  std::string verify_token_;
  Ingester* ingester_;
  DeliveryTracker* tracker_;
  ChannelHealth* health_;
  std::mutex mu_;
  std::set<std::string> seen_;
  std::deque<std::string> seen_order_;
};

// Graph API text sends.
class WhatsAppClient {
 public:
  // `api_base` e.g. "https://graph.facebook.com/v21.0"; the token is sent as a bearer
  // header only.
  WhatsAppClient(std::string api_base, std::string phone_number_id, std::string access_token);

  // Sends one text message to `chat_key` ("wa:<number>"), as a reply when `reply_to` is a
  // wamid. Returns the new message's wamid. FailedPrecondition for error 131047 (outside
  // the 24-hour customer service window) and other permanent refusals; Unavailable for
  // network errors, 5xx and throttling; InvalidArgument for a bad chat key.
  absl::StatusOr<std::string> SendText(const std::string& chat_key, const std::string& text,
                                       const std::string& reply_to = "");

 private:
  std::string api_base_;
  std::string phone_number_id_;
  std::string access_token_;
  HttpClient http_;
};

// Chunks and sends a reply in order, retrying Unavailable with backoff.
class WhatsAppSender {
 public:
  WhatsAppSender(WhatsAppClient* client, Clock* clock, Wakeup* stop = nullptr)
      : client_(client), clock_(clock), stop_(stop) {}

  // Returns the wamids of the chunks in order; errors as WhatsAppClient::SendText, with
  // Unavailable only after the retries. `progress` as for TelegramSender::Send.
  absl::StatusOr<std::vector<std::string>> Send(const std::string& chat_key,
                                                const std::string& text,
                                                const std::string& reply_to = "",
                                                ChunkProgress* progress = nullptr);

 private:
  WhatsAppClient* client_;
  Clock* clock_;
  Wakeup* stop_;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_WHATSAPP_H_
