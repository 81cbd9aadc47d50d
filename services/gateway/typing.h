// Keeps a "typing…" indicator alive in the chats the router asked for: the action is sent
// at once and then every `interval` (Telegram shows it for about 5 s), until turned off or
// until `max_duration` passes (a safety net should the router forget). Runs on its own
// thread, so a slow sendChatAction never delays a reply.
//
// Thread-safety: SetTyping may be called from any thread.
#ifndef CLAWDIE_SERVICES_GATEWAY_TYPING_H_
#define CLAWDIE_SERVICES_GATEWAY_TYPING_H_

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "services/gateway/clock.h"

namespace clawdie::gateway {

class TypingRefresher {
 public:
  // `send` delivers one typing action to a chat; its errors are its own to log.
  using SendAction = std::function<void(const std::string& chat_key)>;

  TypingRefresher(Clock* clock, SendAction send, absl::Duration interval = absl::Seconds(4),
                  absl::Duration max_duration = absl::Minutes(10));
  ~TypingRefresher();  // stops the thread

  void SetTyping(const std::string& chat_key, bool on);
  // Chats currently kept typing.
  size_t active() const;

 private:
  struct Entry {
    absl::Time next;
    absl::Time until;
  };
  void Run();
  // Sends every due action; returns when the next one is due.
  absl::Time Tick();

  Clock* clock_;
  SendAction send_;
  absl::Duration interval_;
  absl::Duration max_duration_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> chats_;
  bool stopping_ = false;
  Wakeup wakeup_;
  std::thread thread_;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_TYPING_H_
