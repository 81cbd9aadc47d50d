// The Telegram send path: split a reply into chunks, render each as Telegram HTML, and
// deliver them in order with pacing, honouring 429 retry_after for that chat only,
// resending a chunk once as plain text when Telegram rejects the markup, retrying 5xx and
// network errors with backoff, following chat migrations and refusing chats that blocked
// the bot.
//
// Thread-safety: Send may be called from many threads; replies to the same chat are
// delivered one after another, replies to different chats in parallel.
#ifndef CLAWDIE_SERVICES_GATEWAY_TELEGRAM_SENDER_H_
#define CLAWDIE_SERVICES_GATEWAY_TELEGRAM_SENDER_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/gateway/chunker.h"
#include "services/gateway/clock.h"
#include "services/gateway/pacer.h"
#include "services/gateway/telegram_client.h"
#include "services/gateway/telegram_state.h"

namespace clawdie::gateway {

struct TelegramSenderOptions {
  PacerOptions pacing;
  size_t chunk_limit = kTelegramMessageLimit;
  int max_transient_attempts = 5;      // 5xx / network errors per chunk
  int max_rate_limited_attempts = 10;  // 429 answers per chunk
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(30);
  // A chat paused (429) for longer than this is not waited for inside one Send: the send
  // fails Unavailable at once and the router's outbox tries again later.
  absl::Duration max_pause_wait = absl::Seconds(20);
};

class TelegramSender {
 public:
  // `client`, `state` and `clock` are not owned and must outlive the sender. `stop` (may
  // be null) cuts waits short at shutdown.
  TelegramSender(TelegramClient* client, TelegramState* state, Clock* clock,
                 TelegramSenderOptions options, Wakeup* stop = nullptr);

  // Delivers `text` to `chat_key`, replying to `reply_to` (a platform message id, may be
  // empty) with the first chunk. Returns the message ids of the chunks in order. With
  // `progress`, the chunks it lists as delivered are skipped (their ids lead the result) and
  // each chunk sent is reported to it. Errors: InvalidArgument (bad chat key, empty text, or
  // a request Telegram refuses), FailedPrecondition (the bot is blocked in or removed from
  // the chat), NotFound (the forum topic is gone), Unavailable (retries exhausted; safe to try
  // again later), Cancelled (shutdown); after some chunks went out the message names them.
  absl::StatusOr<std::vector<std::string>> Send(const std::string& chat_key,
                                                const std::string& text,
                                                const std::string& reply_to = "",
                                                ChunkProgress* progress = nullptr);

  // Called (on the sending thread) when Telegram answers a send with migrate_to_chat_id,
  // after the migration was recorded; set before the first Send.
  void SetMigrationListener(std::function<void(const std::string&, const std::string&)> listener) {
    on_migrated_ = std::move(listener);
  }

  // Sends plain text (commands' answers) with pacing and retries, no Markdown.
  absl::StatusOr<std::vector<std::string>> SendPlain(const std::string& chat_key,
                                                     const std::string& text, int64_t reply_to);

  // Messages sent successfully since start (for Status).
  int64_t sent_count() const;

 private:
  struct Delivery;
  absl::StatusOr<std::vector<std::string>> Deliver(const std::string& chat_key,
                                                   const std::vector<Chunk>& chunks, bool markdown,
                                                   int64_t reply_to, ChunkProgress* progress);
  absl::StatusOr<std::string> SendChunk(Delivery& d, const Chunk& chunk, bool markdown,
                                        int64_t reply_to);
  absl::Status HandleError(Delivery& d, const TelegramReply& reply, bool* html);
  absl::Status Backoff(Delivery& d, const absl::Status& cause);
  std::shared_ptr<std::mutex> ChatLock(const std::string& chat_key);

  TelegramClient* client_;
  TelegramState* state_;
  Clock* clock_;
  TelegramSenderOptions options_;
  Wakeup* stop_;
  std::function<void(const std::string&, const std::string&)> on_migrated_;
  Pacer pacer_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::mutex>> chat_locks_;
  int64_t sent_ = 0;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_TELEGRAM_SENDER_H_
