// Telegram channel wiring; see telegram_channel.h.
#include "services/gateway/telegram_channel.h"

#include <openssl/crypto.h>

#include "common/logging.h"

namespace clawdie::gateway {

TelegramChannel::TelegramChannel(TelegramChannelOptions options, Ingester* ingester, Clock* clock)
    : options_(std::move(options)), ingester_(ingester), clock_(clock) {}

TelegramChannel::~TelegramChannel() { Stop(); }

absl::Status TelegramChannel::Start() {
  auto log = GetLogger("telegram");
  absl::StatusOr<std::unique_ptr<TelegramState>> state = TelegramState::Open(options_.state_path);
  if (!state.ok()) return state.status();
  state_ = std::move(*state);
  client_ = std::make_unique<TelegramClient>(options_.api_base, options_.token);
  absl::StatusOr<BotIdentity> bot = client_->GetMe();
  if (!bot.ok()) return bot.status();
  health_.SetIdentity("@" + bot->username);
  log->info("bot @{} (id {})", bot->username, bot->id);

  sender_ =
      std::make_unique<TelegramSender>(client_.get(), state_.get(), clock_, options_.send, &stop_);
  typing_ = std::make_unique<TypingRefresher>(clock_, [this](const std::string& chat_key) {
    absl::StatusOr<TelegramTarget> target = ParseTelegramChatKey(state_->Resolve(chat_key));
    if (!target.ok() || state_->IsBlocked(chat_key)) return;
    absl::StatusOr<TelegramReply> reply = client_->SendChatAction(*target);
    if (!reply.ok() || !reply->ok) GetLogger("telegram")->debug("typing in {} failed", chat_key);
  });
  dispatcher_ =
      std::make_unique<TelegramDispatcher>(*bot, ingester_, sender_.get(), state_.get(), &health_);
  if (options_.webhook) {
    absl::StatusOr<TelegramReply> set =
        client_->SetWebhook(options_.webhook_url, options_.webhook_secret);
    if (!set.ok()) return set.status();
    if (!set->ok) return absl::UnavailableError("telegram setWebhook: " + set->description);
    health_.Connected();
    log->info("webhook mode: Telegram posts updates to the configured TELEGRAM_WEBHOOK_URL");
    return absl::OkStatus();
  }
  absl::StatusOr<TelegramReply> deleted = client_->DeleteWebhook();
  if (!deleted.ok()) return deleted.status();
  poller_ = std::make_unique<TelegramPoller>(client_.get(), state_.get(), dispatcher_.get(),
                                             &health_, clock_, options_.poll);
  poll_thread_ = std::thread([this] { poller_->Run(); });
  return absl::OkStatus();
}

void TelegramChannel::Stop() {
  stop_.Notify();
  if (poller_) poller_->Stop();
  if (poll_thread_.joinable()) poll_thread_.join();
  typing_.reset();
}

absl::StatusOr<std::vector<std::string>> TelegramChannel::Send(const std::string& chat_key,
                                                               const std::string& text,
                                                               const std::string& reply_to) {
  if (!sender_) return absl::UnavailableError("send " + chat_key + ": Telegram not started");
  absl::StatusOr<std::vector<std::string>> ids = sender_->Send(chat_key, text, reply_to);
  if (ids.ok()) health_.CountSent(static_cast<int64_t>(ids->size()));
  return ids;
}

void TelegramChannel::SetTyping(const std::string& chat_key, bool on) {
  if (typing_) typing_->SetTyping(chat_key, on);
}

HttpReply TelegramChannel::HandleWebhook(const std::string& body,
                                         const std::string& secret_header) {
  const std::string& secret = options_.webhook_secret;
  if (secret.empty() || secret_header.size() != secret.size() ||
      CRYPTO_memcmp(secret_header.data(), secret.data(), secret.size()) != 0) {
    return {401, "bad secret token"};
  }
  nlohmann::json update = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!update.is_object()) return {400, "not an update"};
  int64_t id = update.value("update_id", int64_t{-1});
  if (id >= 0 && id < state_->offset()) return {200, "ok"};  // already handled
  absl::Status handled = dispatcher_->Handle(update);
  if (!handled.ok()) {
    health_.Failed(std::string(handled.message()), clock_->Now());
    return {503, "try again later"};
  }
  absl::Status saved = state_->ConfirmUpTo(id + 1);
  if (!saved.ok()) GetLogger("telegram")->error("{}", std::string(saved.message()));
  return {200, "ok"};
}

ChannelStatus TelegramChannel::Status() const {
  ChannelStatus status = health_.Get();
  status.enabled = true;
  return status;
}

}  // namespace clawdie::gateway
