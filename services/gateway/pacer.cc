// GCRA pacing; see pacer.h.
#include "services/gateway/pacer.h"

#include <algorithm>

namespace clawdie::gateway {

Pacer::Pacer(Clock* clock, PacerOptions options) : clock_(clock), options_(options) {}

absl::Time Pacer::Earliest(const Bucket& b, absl::Time t, absl::Duration interval, int burst) {
  if (b.tat == absl::InfinitePast()) return t;
  return std::max(t, b.tat - (burst - 1) * interval);
}

void Pacer::Book(Bucket* b, absl::Time at, absl::Duration interval) {
  b->tat = (b->tat == absl::InfinitePast() ? at : std::max(b->tat, at)) + interval;
}

absl::Time Pacer::SharedEarliestLocked(ChatState& chat, bool is_group, absl::Time t) {
  absl::Duration global_interval = options_.global_period / options_.global_burst;
  absl::Duration group_interval = options_.group_period / options_.group_burst;
  if (is_group) t = Earliest(chat.group, t, group_interval, options_.group_burst);
  return Earliest(global_, t, global_interval, options_.global_burst);
}

absl::Time Pacer::ReserveChat(const std::string& chat_key) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Time now = clock_->Now();
  PruneLocked(now);
  ChatState& chat = chats_[chat_key];
  absl::Time at = Earliest(chat.chat, std::max(now, chat.paused_until), options_.per_chat, 1);
  Book(&chat.chat, at, options_.per_chat);
  return at;
}

absl::Time Pacer::ReserveShared(const std::string& chat_key, bool is_group) {
  std::lock_guard<std::mutex> lock(mu_);
  ChatState& chat = chats_[chat_key];
  absl::Time at = SharedEarliestLocked(chat, is_group, clock_->Now());
  if (is_group) Book(&chat.group, at, options_.group_period / options_.group_burst);
  Book(&global_, at, options_.global_period / options_.global_burst);
  return at;
}

absl::Time Pacer::NextSlot(const std::string& chat_key, bool is_group) {
  std::lock_guard<std::mutex> lock(mu_);
  ChatState& chat = chats_[chat_key];
  absl::Time t =
      Earliest(chat.chat, std::max(clock_->Now(), chat.paused_until), options_.per_chat, 1);
  return SharedEarliestLocked(chat, is_group, t);
}

void Pacer::PauseChat(const std::string& chat_key, absl::Duration pause) {
  std::lock_guard<std::mutex> lock(mu_);
  ChatState& chat = chats_[chat_key];
  chat.paused_until = std::max(chat.paused_until, clock_->Now() + pause);
}

void Pacer::PruneLocked(absl::Time now) {
  // Forget chats whose buckets are full again, at most once a minute.
  if (now - last_prune_ < absl::Minutes(1)) return;
  last_prune_ = now;
  for (auto it = chats_.begin(); it != chats_.end();) {
    const ChatState& c = it->second;
    bool idle =
        c.chat.tat < now && c.group.tat + options_.group_period < now && c.paused_until < now;
    it = idle ? chats_.erase(it) : std::next(it);
  }
}

}  // namespace clawdie::gateway
