// Telegram update dispatch; see telegram_dispatch.h.
#include "services/gateway/telegram_dispatch.h"

#include "common/logging.h"

namespace clawdie::gateway {
namespace {

constexpr size_t kRecentCapacity = 4096;

}  // namespace

TelegramDispatcher::TelegramDispatcher(BotIdentity bot, Ingester* ingester, TelegramSender* sender,
                                       TelegramState* state, ChannelHealth* health)
    : bot_(std::move(bot)), ingester_(ingester), sender_(sender), state_(state), health_(health) {}

absl::Status TelegramDispatcher::Handle(const nlohmann::json& update) {
  auto log = GetLogger("telegram");
  absl::StatusOr<TelegramEvent> event = NormalizeTelegramUpdate(update, bot_);
  if (!event.ok()) {
    // A malformed update can never succeed; skipping it keeps the channel moving.
    log->warn("skipping update: {}", std::string(event.status().message()));
    return absl::OkStatus();
  }
  switch (event->kind) {
    case TelegramEvent::Kind::kMessage:
      return IngestOnce(event->message);
    case TelegramEvent::Kind::kCommand:
      Answer(*event);
      return absl::OkStatus();
    case TelegramEvent::Kind::kMigration:
      return Migrate(event->chat_key, event->migrate_to_key);
    case TelegramEvent::Kind::kMembership:
      log->info("chat {}: bot {}", event->chat_key,
                event->blocked ? "blocked or removed" : "allowed");
      return state_->SetBlocked(event->chat_key, event->blocked);
    case TelegramEvent::Kind::kIgnored:
      log->debug("update {} ignored: {}", event->update_id, event->reason);
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status TelegramDispatcher::IngestOnce(const InboundMessage& message) {
  std::string key = message.chat_key + "#" + message.platform_message_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (recent_.count(key) > 0) return absl::OkStatus();
  }
  absl::Status status = ingester_->Ingest(message);
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    // The router will never take this message; holding it back would stall the chat.
    GetLogger("telegram")->error("dropping {}: {}", key, std::string(status.message()));
    return absl::OkStatus();
  }
  if (!status.ok()) return status;
  health_->CountReceived();
  std::lock_guard<std::mutex> lock(mu_);
  if (recent_.insert(key).second) recent_order_.push_back(key);
  if (recent_order_.size() > kRecentCapacity) {
    recent_.erase(recent_order_.front());
    recent_order_.pop_front();
  }
  return absl::OkStatus();
}

absl::Status TelegramDispatcher::Migrate(const std::string& from_key, const std::string& to_key) {
  auto log = GetLogger("telegram");
  log->info("chat {} migrated to {}", from_key, to_key);
  // Sends follow the new key from now on, whatever the router says.
  absl::Status saved = state_->AddMigration(from_key, to_key);
  if (!saved.ok()) return saved;
  absl::Status told = ingester_->MigrateChat(from_key, to_key);
  if (told.ok() || RouterMayAcceptLater(told)) return told;
  // E.g. the new key is registered as another group: only the operator can settle that.
  log->error("{}", std::string(told.message()));
  return absl::OkStatus();
}

void TelegramDispatcher::Answer(const TelegramEvent& event) {
  std::string text = event.command == "chatid" ? ChatIdReply(event) : "pong";
  absl::StatusOr<std::vector<std::string>> sent =
      sender_->SendPlain(event.chat_key, text, event.message_id);
  if (!sent.ok()) {
    // The command is answered at most once; a lost answer is asked for again by the user.
    GetLogger("telegram")
        ->warn("answer /{} in {}: {}", event.command, event.chat_key,
               std::string(sent.status().message()));
  }
}

}  // namespace clawdie::gateway
