// The Telegram channel assembled: Bot API client, durable state, send path, typing refresh,
// update dispatch, and either the long-poll loop or the webhook handler.
//
// Thread-safety: Start and Stop from one thread; Send, SetTyping, HandleWebhook and Status
// from any thread.
#ifndef CLAWDIE_SERVICES_GATEWAY_TELEGRAM_CHANNEL_H_
#define CLAWDIE_SERVICES_GATEWAY_TELEGRAM_CHANNEL_H_

#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "services/gateway/channel_status.h"
#include "services/gateway/telegram_dispatch.h"
#include "services/gateway/telegram_poller.h"
#include "services/gateway/typing.h"
#include "services/gateway/whatsapp.h"

namespace clawdie::gateway {

struct TelegramChannelOptions {
  std::string api_base = kDefaultTelegramApiBase;
  std::string token;
  std::string state_path;  // "" keeps the offset in memory only
  bool webhook = false;    // webhook mode instead of long polling
  std::string webhook_url;
  std::string webhook_secret;
  TelegramPollerOptions poll;
  TelegramSenderOptions send;
};

// The last few thousand update ids answered 200 in webhook mode. Telegram may deliver
// updates concurrently and retries only the ones that failed, so the poll offset ("every id
// below was handled") does not describe webhook progress.
class RecentIds {
 public:
  bool Contains(int64_t id) const;
  void Add(int64_t id);

 private:
  mutable std::mutex mu_;
  std::set<int64_t> ids_;
  std::deque<int64_t> order_;
};

class TelegramChannel {
 public:
  // `ingester` and `clock` are not owned and must outlive the channel.
  TelegramChannel(TelegramChannelOptions options, Ingester* ingester, Clock* clock);
  ~TelegramChannel();

  // Opens the state, asks getMe (PermissionDenied naming TELEGRAM_BOT_TOKEN on 401), then
  // deleteWebhook and starts polling, or setWebhook in webhook mode. Unavailable when
  // Telegram cannot be reached.
  absl::Status Start();
  void Stop();

  // As TelegramSender::Send.
  absl::StatusOr<std::vector<std::string>> Send(const std::string& chat_key,
                                                const std::string& text,
                                                const std::string& reply_to,
                                                ChunkProgress* progress = nullptr);
  void SetTyping(const std::string& chat_key, bool on);
  // Webhook mode: one update POSTed by Telegram. 401 on a missing or wrong secret header
  // (checked in constant time; nothing is parsed), 400 for a body that is not an update, 503
  // when the router could not take it (Telegram delivers it again), else 200. An update_id
  // answered 200 before is answered 200 again without being handled twice.
  HttpReply HandleWebhook(const std::string& body, const std::string& secret_header);
  ChannelStatus Status() const;

 private:
  TelegramChannelOptions options_;
  Ingester* ingester_;
  Clock* clock_;
  ChannelHealth health_{"telegram"};
  Wakeup stop_;
  std::unique_ptr<TelegramClient> client_;
  std::unique_ptr<TelegramState> state_;
  std::unique_ptr<TelegramSender> sender_;
  std::unique_ptr<TypingRefresher> typing_;
  std::unique_ptr<TelegramDispatcher> dispatcher_;
  std::unique_ptr<TelegramPoller> poller_;
  std::thread poll_thread_;
  RecentIds webhook_updates_;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_TELEGRAM_CHANNEL_H_
