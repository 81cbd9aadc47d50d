// Bot API calls the gateway makes (getMe, getUpdates, sendMessage, sendChatAction,
// deleteWebhook, setWebhook), as JSON POSTs to `<base>/bot<token>/<method>`.
// The token lives only inside this class: error texts name the method, never the URL.
//
// Thread-safety: safe to call from many threads (the HttpClient pools connections).
#ifndef CLAWDIE_SERVICES_GATEWAY_TELEGRAM_CLIENT_H_
#define CLAWDIE_SERVICES_GATEWAY_TELEGRAM_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "services/gateway/http_client.h"
#include "services/gateway/telegram_update.h"

namespace clawdie::gateway {

inline constexpr char kDefaultTelegramApiBase[] = "https://api.telegram.org";

// The Bot API's answer to one call: either ok with `result`, or an error with its code,
// description and optional parameters.
struct TelegramReply {
  bool ok = false;
  nlohmann::json result;
  int error_code = 0;  // Bot API error_code, else the HTTP status
  std::string description;
  int retry_after = 0;             // seconds, from parameters.retry_after (429)
  int64_t migrate_to_chat_id = 0;  // from parameters.migrate_to_chat_id (400)
};

struct SendMessageRequest {
  TelegramTarget target;
  std::string text;
  bool html = false;     // parse_mode HTML; plain text otherwise
  int64_t reply_to = 0;  // message id to reply to, 0 for none
};

class TelegramClient {
 public:
  // `api_base` without trailing slash, e.g. "http://127.0.0.1:8081".
  TelegramClient(std::string api_base, std::string token);

  // One raw call. Transport failures (network, timeout, non-JSON body) are errors; any
  // Bot API answer, ok or not, is a TelegramReply.
  absl::StatusOr<TelegramReply> Call(const std::string& method, const nlohmann::json& params,
                                     absl::Duration timeout = absl::Seconds(30),
                                     const std::atomic<bool>* cancel = nullptr);

  // getMe. PermissionDenied on 401 (a bad TELEGRAM_BOT_TOKEN), Unavailable otherwise.
  absl::StatusOr<BotIdentity> GetMe();

  // getUpdates long poll: waits up to `poll_timeout` on the server.
  absl::StatusOr<TelegramReply> GetUpdates(int64_t offset, absl::Duration poll_timeout,
                                           const std::atomic<bool>* cancel = nullptr);

  absl::StatusOr<TelegramReply> SendMessage(const SendMessageRequest& request);
  absl::StatusOr<TelegramReply> SendChatAction(const TelegramTarget& target,
                                               const std::string& action = "typing");
  absl::StatusOr<TelegramReply> DeleteWebhook();
  absl::StatusOr<TelegramReply> SetWebhook(const std::string& url, const std::string& secret);

 private:
  std::string api_base_;
  std::string token_;
  HttpClient http_;
};

// Adds message_thread_id for a topic target. The General topic (thread 1) takes none.
void AddThread(const TelegramTarget& target, nlohmann::json* params);

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_TELEGRAM_CLIENT_H_
