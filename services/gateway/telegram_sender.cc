// Telegram send path; see telegram_sender.h.
#include "services/gateway/telegram_sender.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "common/logging.h"
#include "services/gateway/telegram_html.h"
#include "services/gateway/untrusted_json.h"

namespace clawdie::gateway {

struct TelegramSender::Delivery {
  std::string key;  // resolved chat key
  TelegramTarget target;
  bool is_group = false;
  int transient_attempts = 0;
  int rate_limited_attempts = 0;
  absl::Duration backoff;
};

namespace {

int64_t ParseMessageId(const std::string& id) {
  int64_t value = 0;
  std::from_chars(id.data(), id.data() + id.size(), value);
  return value;
}

bool Contains(const std::string& haystack, const char* needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TelegramSender::TelegramSender(TelegramClient* client, TelegramState* state, Clock* clock,
                               TelegramSenderOptions options, Wakeup* stop)
    : client_(client),
      state_(state),
      clock_(clock),
      options_(options),
      stop_(stop),
      pacer_(clock, options.pacing) {}

absl::StatusOr<std::vector<std::string>> TelegramSender::Send(const std::string& chat_key,
                                                              const std::string& text,
                                                              const std::string& reply_to,
                                                              ChunkProgress* progress) {
  if (text.empty()) return absl::InvalidArgumentError("send " + chat_key + ": empty text");
  return Deliver(chat_key, SplitMessage(text, options_.chunk_limit), true, ParseMessageId(reply_to),
                 progress);
}

absl::StatusOr<std::vector<std::string>> TelegramSender::SendPlain(const std::string& chat_key,
                                                                   const std::string& text,
                                                                   int64_t reply_to) {
  if (text.empty()) return absl::InvalidArgumentError("send " + chat_key + ": empty text");
  return Deliver(chat_key, SplitMessage(text, options_.chunk_limit), false, reply_to, nullptr);
}

int64_t TelegramSender::sent_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}

std::shared_ptr<std::mutex> TelegramSender::ChatLock(const std::string& chat_key) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<std::mutex>& m = chat_locks_[chat_key];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

absl::StatusOr<std::vector<std::string>> TelegramSender::Deliver(const std::string& chat_key,
                                                                 const std::vector<Chunk>& chunks,
                                                                 bool markdown, int64_t reply_to,
                                                                 ChunkProgress* progress) {
  Delivery d;
  d.key = state_->Resolve(chat_key);
  absl::StatusOr<TelegramTarget> target = ParseTelegramChatKey(d.key);
  if (!target.ok()) return target.status();
  d.target = *target;
  d.is_group = d.target.chat_id < 0;
  if (state_->IsBlocked(d.key)) {
    return absl::FailedPreconditionError(
        "send " + d.key + ": the bot was blocked by the user or removed from the chat");
  }

  // Chunks of one reply stay together and in order, even with concurrent replies.
  std::shared_ptr<std::mutex> chat_lock = ChatLock(d.key);
  std::lock_guard<std::mutex> lock(*chat_lock);
  std::vector<std::string> ids;
  if (progress != nullptr) ids = progress->delivered;
  for (size_t i = ids.size(); i < chunks.size(); ++i) {
    if (progress != nullptr && progress->on_sending) progress->on_sending(ids);
    absl::StatusOr<std::string> id = SendChunk(d, chunks[i], markdown, ids.empty() ? reply_to : 0);
    if (!id.ok()) return WithDeliveredChunks(id.status(), ids, chunks.size());
    ids.push_back(*id);
    if (progress != nullptr && progress->on_chunk) progress->on_chunk(ids, chunks.size());
  }
  return ids;
}

absl::StatusOr<std::string> TelegramSender::SendChunk(Delivery& d, const Chunk& chunk,
                                                      bool markdown, int64_t reply_to) {
  bool html = markdown;
  std::string rendered = markdown ? RenderChunkHtml(chunk) : chunk.text;
  d.transient_attempts = d.rate_limited_attempts = 0;
  d.backoff = options_.initial_backoff;
  while (true) {
    absl::Duration wait = pacer_.NextSlot(d.key, d.is_group) - clock_->Now();
    if (wait > options_.max_pause_wait) {
      // Holding the call (and every later send to this chat behind it) that long would
      // outlive the caller's deadline and stall shutdown.
      return absl::UnavailableError("send " + d.key + ": Telegram paused this chat for another " +
                                    absl::FormatDuration(absl::Trunc(wait, absl::Seconds(1))) +
                                    " (429); the outbox tries again later");
    }
    if (clock_->SleepUntil(pacer_.ReserveChat(d.key), stop_) ||
        clock_->SleepUntil(pacer_.ReserveShared(d.key, d.is_group), stop_)) {
      return absl::CancelledError("send " + d.key + ": gateway shutting down");
    }
    absl::StatusOr<TelegramReply> reply =
        client_->SendMessage({d.target, html ? rendered : chunk.text, html, reply_to});
    absl::Status next;
    if (!reply.ok()) {
      next = Backoff(d, reply.status());
    } else if (reply->ok) {
      std::optional<int64_t> id = JsonInt64(reply->result, "message_id");
      // Telegram took the message: sending it again would show it twice, so it counts as
      // sent even when the reply does not say under which id.
      if (!id) GetLogger("telegram")->warn("send {}: reply without a message_id", d.key);
      std::lock_guard<std::mutex> lock(mu_);
      ++sent_;
      return std::to_string(id.value_or(0));
    } else {
      next = HandleError(d, *reply, &html);
    }
    if (!next.ok()) return next;
  }
}

absl::Status TelegramSender::HandleError(Delivery& d, const TelegramReply& reply, bool* html) {
  auto log = GetLogger("telegram");
  std::string cause = "send " + d.key + ": " + reply.description;
  if (reply.error_code == 429) {
    if (++d.rate_limited_attempts > options_.max_rate_limited_attempts) {
      return absl::UnavailableError(cause + " (still rate limited, giving up for now)");
    }
    // Telegram's retry_after is seconds; a day bounds a broken or hostile value.
    int seconds = std::clamp(reply.retry_after, 1, 86400);
    log->warn("send {}: rate limited, pausing this chat for {}s", d.key, seconds);
    pacer_.PauseChat(d.key, absl::Seconds(seconds));
    return absl::OkStatus();
  }
  if (reply.error_code == 400 && *html && Contains(reply.description, "can't parse entities")) {
    log->warn("send {}: Telegram rejected the markup, resending as plain text", d.key);
    *html = false;
    return absl::OkStatus();
  }
  if (reply.migrate_to_chat_id != 0) {
    std::string to = TelegramChatKey(reply.migrate_to_chat_id);
    log->info("chat {} migrated to {}", d.key, to);
    absl::Status saved = state_->AddMigration(d.key, to);
    if (!saved.ok()) log->warn("{}", std::string(saved.message()));
    if (on_migrated_) on_migrated_(d.key, to);
    d.key = to;
    d.target = {reply.migrate_to_chat_id, 0};
    return absl::OkStatus();
  }
  if (reply.error_code == 403) {
    absl::Status saved = state_->SetBlocked(d.key, true);
    if (!saved.ok()) log->warn("{}", std::string(saved.message()));
    return absl::FailedPreconditionError(cause);
  }
  if (Contains(reply.description, "message thread not found")) return absl::NotFoundError(cause);
  if (reply.error_code >= 500) return Backoff(d, absl::UnavailableError(cause));
  return absl::InvalidArgumentError(cause);
}

absl::Status TelegramSender::Backoff(Delivery& d, const absl::Status& cause) {
  if (++d.transient_attempts >= options_.max_transient_attempts) {
    return absl::UnavailableError("send " + d.key + ": giving up after " +
                                  std::to_string(d.transient_attempts) +
                                  " attempts: " + std::string(cause.message()));
  }
  GetLogger("telegram")
      ->warn("send {}: {}; retrying in {}", d.key, std::string(cause.message()),
             absl::FormatDuration(d.backoff));
  if (clock_->SleepFor(d.backoff, stop_)) {
    return absl::CancelledError("send " + d.key + ": gateway shutting down");
  }
  d.backoff = std::min(d.backoff * 2, options_.max_backoff);
  return absl::OkStatus();
}

}  // namespace clawdie::gateway
