// The local chat channel: clients (clawctl chat, tests) type into `local:<name>` over the
// gateway's own socket and receive every reply sent to that chat. Replies sent while no
// client is attached wait in a small per-chat backlog for the next one.
//
// Thread-safety: all methods are safe to call from any thread.
#ifndef CLAWDIE_SERVICES_GATEWAY_LOCAL_CHANNEL_H_
#define CLAWDIE_SERVICES_GATEWAY_LOCAL_CHANNEL_H_

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/gateway/channel_status.h"
#include "services/gateway/clock.h"
#include "services/gateway/inbound.h"

namespace clawdie::gateway {

struct LocalEvent {
  std::string text;                     // a reply, empty for an acknowledgement
  std::string platform_message_id;      // the reply's id
  std::string ack_platform_message_id;  // the id given to the client's own message
};

// One attached client's queue of events.
class LocalSubscription {
 public:
  // Waits up to `timeout` for the next event; nullopt on timeout or after Close().
  std::optional<LocalEvent> Next(absl::Duration timeout);
  void Push(LocalEvent event);
  void Close();
  bool closed() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<LocalEvent> events_;
  bool closed_ = false;
};

class LocalChannel {
 public:
  // `ingester` and `clock` are not owned.
  LocalChannel(Ingester* ingester, Clock* clock);

  // A valid local name: 1–64 of [A-Za-z0-9_.-].
  static bool ValidName(const std::string& name);

  // Attaches a client to local:<name>; backlog replies are queued to it first.
  std::shared_ptr<LocalSubscription> Subscribe(const std::string& name);
  void Unsubscribe(const std::string& name, const std::shared_ptr<LocalSubscription>& sub);

  // A message typed by the client: ingested as local:<name>. Returns its platform id.
  absl::StatusOr<std::string> Receive(const std::string& name, const std::string& text);

  // A reply to local:<name>: goes to every attached client. Returns its platform id.
  absl::StatusOr<std::vector<std::string>> Send(const std::string& chat_key,
                                                const std::string& text);
  ChannelStatus Status() const;

 private:
  static constexpr size_t kBacklog = 100;

  Ingester* ingester_;
  Clock* clock_;
  ChannelHealth health_{"local"};
  mutable std::mutex mu_;
  int64_t next_id_ = 1;
  std::map<std::string, std::vector<std::shared_ptr<LocalSubscription>>> subscribers_;
  std::map<std::string, std::deque<LocalEvent>> backlog_;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_LOCAL_CHANNEL_H_
