// getUpdates loop; see telegram_poller.h.
#include "services/gateway/telegram_poller.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "common/logging.h"
#include "services/gateway/untrusted_json.h"

namespace clawdie::gateway {

TelegramPoller::TelegramPoller(TelegramClient* client, TelegramState* state,
                               TelegramDispatcher* dispatcher, ChannelHealth* health, Clock* clock,
                               TelegramPollerOptions options)
    : client_(client),
      state_(state),
      dispatcher_(dispatcher),
      health_(health),
      clock_(clock),
      options_(options),
      backoff_(options.initial_backoff) {}

void TelegramPoller::Run() {
  GetLogger("telegram")->info("polling getUpdates from offset {}", state_->offset());
  while (!stopping_.load()) {
    if (PollOnce()) {
      backoff_ = options_.initial_backoff;
    } else if (!stopping_.load()) {
      BackOff();
    }
  }
}

void TelegramPoller::Stop() {
  stopping_.store(true);
  wakeup_.Notify();
}

bool TelegramPoller::PollOnce() {
  auto log = GetLogger("telegram");
  absl::StatusOr<TelegramReply> reply =
      client_->GetUpdates(state_->offset(), options_.poll_timeout, &stopping_);
  if (!reply.ok()) {
    if (stopping_.load()) return true;
    log->warn("{}", std::string(reply.status().message()));
    health_->Failed(std::string(reply.status().message()), clock_->Now());
    return false;
  }
  if (!reply->ok) {
    std::string error = "telegram getUpdates: " + reply->description;
    if (reply->error_code == 409) error += " (another poller or a webhook is active)";
    if (reply->error_code == 401) error += " (check TELEGRAM_BOT_TOKEN)";
    log->error("{}", error);
    health_->Failed(error, clock_->Now());
    return false;
  }
  health_->Connected();
  return reply->result.is_array() ? HandleBatch(reply->result) : true;
}

bool TelegramPoller::HandleBatch(const nlohmann::json& updates) {
  auto log = GetLogger("telegram");
  int64_t waiting = static_cast<int64_t>(updates.size());
  int64_t skipped = 0;
  int64_t confirmed = 0;
  for (const nlohmann::json& update : updates) {
    health_->SetQueueDepth(waiting--);
    std::optional<int64_t> id = JsonInt64(update, "update_id");
    if (!id || *id < 0 || *id == std::numeric_limits<int64_t>::max()) {
      // It cannot be confirmed on its own; the next valid id in the batch confirms it.
      log->warn("skipping an update without a valid update_id (not an integer below 2^63)");
      ++skipped;
      continue;
    }
    if (*id < state_->offset()) continue;  // confirmed already (a re-delivery)
    absl::Status handled = dispatcher_->Handle(update);
    if (!handled.ok()) {
      // Leave the update unconfirmed; the next poll returns it again.
      std::string error =
          "ingest update " + std::to_string(*id) + ": " + std::string(handled.message());
      log->warn("{}", error);
      health_->Failed(error, clock_->Now());
      return false;
    }
    absl::Status saved = state_->ConfirmUpTo(*id + 1);
    if (!saved.ok()) log->error("{}", std::string(saved.message()));
    ++confirmed;
  }
  health_->SetQueueDepth(0);
  if (skipped > 0 && confirmed == 0) {
    // Polling the same offset again would return the same batch at once: back off instead.
    health_->Failed("telegram getUpdates: updates without a valid update_id", clock_->Now());
    return false;
  }
  return true;
}

void TelegramPoller::BackOff() {
  clock_->SleepFor(backoff_, &wakeup_);
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
}

}  // namespace clawdie::gateway
