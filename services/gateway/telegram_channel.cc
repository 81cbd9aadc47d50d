// Telegram channel wiring; see telegram_channel.h.
#include "services/gateway/telegram_channel.h"

#include <optional>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/logging.h"
#include "services/gateway/untrusted_json.h"

namespace clawdie::gateway {
namespace {

constexpr size_t kRememberedWebhookUpdates = 4096;

// Compares SHA-256 digests in constant time, so neither the secret's bytes nor its length
// can be learned from response times.
bool SecretMatches(const std::string& secret, const std::string& given) {
  if (secret.empty()) return false;
  unsigned char want[EVP_MAX_MD_SIZE], got[EVP_MAX_MD_SIZE];
  unsigned int want_len = 0, got_len = 0;
  if (EVP_Digest(secret.data(), secret.size(), want, &want_len, EVP_sha256(), nullptr) != 1 ||
      EVP_Digest(given.data(), given.size(), got, &got_len, EVP_sha256(), nullptr) != 1) {
    return false;
  }
  return want_len == got_len && CRYPTO_memcmp(want, got, want_len) == 0;
}

}  // namespace

bool RecentIds::Contains(int64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ids_.count(id) > 0;
}

void RecentIds::Add(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ids_.insert(id).second) return;
  order_.push_back(id);
  if (order_.size() > kRememberedWebhookUpdates) {
    ids_.erase(order_.front());
    order_.pop_front();
  }
}

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
  sender_->SetMigrationListener([this](const std::string& from, const std::string& to) {
    // Found while sending: tell the router too. The update announcing the migration (kept
    // unconfirmed until the router took it) is the reliable path; this one is best effort.
    absl::Status told = ingester_->MigrateChat(from, to);
    if (!told.ok()) GetLogger("telegram")->warn("{}", std::string(told.message()));
  });
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
                                                               const std::string& reply_to,
                                                               ChunkProgress* progress) {
  if (!sender_) return absl::UnavailableError("send " + chat_key + ": Telegram not started");
  absl::StatusOr<std::vector<std::string>> ids = sender_->Send(chat_key, text, reply_to, progress);
  if (ids.ok()) health_.CountSent(static_cast<int64_t>(ids->size()));
  return ids;
}

void TelegramChannel::SetTyping(const std::string& chat_key, bool on) {
  if (typing_) typing_->SetTyping(chat_key, on);
}

HttpReply TelegramChannel::HandleWebhook(const std::string& body,
                                         const std::string& secret_header) {
  if (!SecretMatches(options_.webhook_secret, secret_header)) {
    GetLogger("telegram")->warn("webhook: refused a request without the right secret token");
    return {401, "bad secret token"};
  }
  nlohmann::json update = ParseUntrustedJson(body);
  std::optional<int64_t> update_id = JsonInt64(update, "update_id");
  if (!update_id || *update_id < 0) {
    GetLogger("telegram")
        ->warn("webhook: refused a body that is not an update ({} bytes)", body.size());
    return {400, "not an update"};
  }
  int64_t id = *update_id;
  if (webhook_updates_.Contains(id)) return {200, "ok"};  // a redelivery
  absl::Status handled = dispatcher_->Handle(update);
  if (!handled.ok()) {
    // Telegram delivers it again later; nothing is lost.
    std::string error =
        "webhook update " + std::to_string(id) + ": " + std::string(handled.message());
    GetLogger("telegram")->warn("{}", error);
    health_.Failed(error, clock_->Now());
    return {503, "try again later"};
  }
  health_.Connected();
  webhook_updates_.Add(id);
  return {200, "ok"};
}

ChannelStatus TelegramChannel::Status() const {
  ChannelStatus status = health_.Get();
  status.enabled = true;
  return status;
}

}  // namespace clawdie::gateway
