// The getUpdates long-poll loop. Each update is handed to the dispatcher in order; the
// offset is advanced (and saved) only after the dispatcher returned OK, so an update is
// never confirmed before the router has it. While the router is unavailable the loop
// re-polls the same offset with backoff (Telegram keeps updates for 24 h). Network errors
// and 409 (another poller) back off with a cap and show in the channel status.
//
// Thread-safety: Run blocks on the calling thread; Stop may be called from any thread.
#ifndef CLAWDIE_SERVICES_GATEWAY_TELEGRAM_POLLER_H_
#define CLAWDIE_SERVICES_GATEWAY_TELEGRAM_POLLER_H_

#include <atomic>

#include "absl/time/time.h"
#include "services/gateway/channel_status.h"
#include "services/gateway/clock.h"
#include "services/gateway/telegram_client.h"
#include "services/gateway/telegram_dispatch.h"
#include "services/gateway/telegram_state.h"

namespace clawdie::gateway {

struct TelegramPollerOptions {
  absl::Duration poll_timeout = absl::Seconds(30);  // getUpdates timeout, 25–50 s upstream
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(60);
};

class TelegramPoller {
 public:
  // Nothing is owned; everything must outlive the poller.
  TelegramPoller(TelegramClient* client, TelegramState* state, TelegramDispatcher* dispatcher,
                 ChannelHealth* health, Clock* clock, TelegramPollerOptions options);

  // Polls until Stop().
  void Run();
  // Makes Run return soon: aborts a long poll in flight and any backoff wait.
  void Stop();

 private:
  // One getUpdates round. Returns false when the loop should back off.
  bool PollOnce();
  // Dispatches a batch in order. Returns false when an update could not be handed over.
  bool HandleBatch(const nlohmann::json& updates);
  void BackOff();

  TelegramClient* client_;
  TelegramState* state_;
  TelegramDispatcher* dispatcher_;
  ChannelHealth* health_;
  Clock* clock_;
  TelegramPollerOptions options_;
  std::atomic<bool> stopping_{false};
  Wakeup wakeup_;
  absl::Duration backoff_;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_TELEGRAM_POLLER_H_
