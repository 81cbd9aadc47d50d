// Outbound pacing for one channel: at most one message per `per_chat` interval in a chat,
// `group_burst` messages per `group_period` in a group chat, `global_burst` per
// `global_period` overall, and a per-chat pause when the platform answers 429 with
// retry_after. Each limit is a GCRA (virtual scheduling) token bucket, so bursts up to the
// limit go out at once and the long-run rate is exact.
//
// A send books in two steps: first its chat's slot (which may lie seconds ahead), then,
// once that time has come, the shared group and global buckets. Booking the shared buckets
// only at send time keeps one chat's queue from using up the global budget in advance.
//
// Thread-safety: all methods are safe to call from any thread.
#ifndef CLAWDIE_SERVICES_GATEWAY_PACER_H_
#define CLAWDIE_SERVICES_GATEWAY_PACER_H_

#include <map>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "services/gateway/clock.h"

namespace clawdie::gateway {

struct PacerOptions {
  absl::Duration per_chat = absl::Seconds(1);  // one message per second in a chat
  int group_burst = 20;                        // 20 messages per minute in a group
  absl::Duration group_period = absl::Minutes(1);
  int global_burst = 30;  // 30 messages per second overall
  absl::Duration global_period = absl::Seconds(1);
};

class Pacer {
 public:
  Pacer(Clock* clock, PacerOptions options);

  // Books the chat's earliest slot at or after now (per-chat interval and any pause) and
  // returns it; the caller waits until then and calls ReserveShared.
  absl::Time ReserveChat(const std::string& chat_key);
  // Books the earliest time at or after now that the group and global buckets allow; the
  // caller waits until then and sends.
  absl::Time ReserveShared(const std::string& chat_key, bool is_group);

  // Nothing is booked in `chat_key` before now + `pause` (a 429's retry_after). Other
  // chats are not affected.
  void PauseChat(const std::string& chat_key, absl::Duration pause);

  // Earliest time a message to `chat_key` could go out if sent alone, without booking.
  absl::Time NextSlot(const std::string& chat_key, bool is_group);

 private:
  // Theoretical arrival time of one bucket: the bucket allows a send at t when
  // t >= tat - (burst - 1) * interval.
  struct Bucket {
    absl::Time tat = absl::InfinitePast();
  };
  struct ChatState {
    Bucket chat;
    Bucket group;
    absl::Time paused_until = absl::InfinitePast();
  };

  static absl::Time Earliest(const Bucket& b, absl::Time t, absl::Duration interval, int burst);
  static void Book(Bucket* b, absl::Time at, absl::Duration interval);
  absl::Time SharedEarliestLocked(ChatState& chat, bool is_group, absl::Time t);
  void PruneLocked(absl::Time now);

  Clock* clock_;
  PacerOptions options_;
  std::mutex mu_;
  Bucket global_;
  std::map<std::string, ChatState> chats_;
  absl::Time last_prune_ = absl::InfinitePast();
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_PACER_H_
