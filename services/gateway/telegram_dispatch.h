// Acts on one Telegram update, for both long polling and the webhook: ingests messages,
// answers /chatid and /ping, records migrations (and tells the router) and blocks. Success means
// the update may be confirmed upstream; an error (the router could not take the message) means it
// must not.
//
// Thread-safety: Handle may be called from several threads.
#ifndef CLAWDIE_SERVICES_GATEWAY_TELEGRAM_DISPATCH_H_
#define CLAWDIE_SERVICES_GATEWAY_TELEGRAM_DISPATCH_H_

#include <deque>
#include <mutex>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "services/gateway/channel_status.h"
#include "services/gateway/inbound.h"
#include "services/gateway/telegram_sender.h"
#include "services/gateway/telegram_state.h"
#include "services/gateway/telegram_update.h"

namespace clawdie::gateway {

class TelegramDispatcher {
 public:
  // Nothing is owned; everything must outlive the dispatcher.
  TelegramDispatcher(BotIdentity bot, Ingester* ingester, TelegramSender* sender,
                     TelegramState* state, ChannelHealth* health);

  // Returns OK when the update was handled (or is one to skip), else the Ingest error.
  absl::Status Handle(const nlohmann::json& update);

  const BotIdentity& bot() const { return bot_; }

 private:
  absl::Status IngestOnce(const InboundMessage& message);
  // Records a chat migration and tells the router, so a registered group follows the chat.
  // An error means the update must stay unconfirmed.
  absl::Status Migrate(const std::string& from_key, const std::string& to_key);
  void Answer(const TelegramEvent& event);

  BotIdentity bot_;
  Ingester* ingester_;
  TelegramSender* sender_;
  TelegramState* state_;
  ChannelHealth* health_;

  // Recently ingested (chat, message id) pairs: a re-delivered update is not ingested again
  // within one process (the store deduplicates across restarts).
  std::mutex mu_;
  std::set<std::string> recent_;
  std::deque<std::string> recent_order_;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_TELEGRAM_DISPATCH_H_
