// Typing indicator refresh; see typing.h.
#include "services/gateway/typing.h"

#include <vector>

namespace clawdie::gateway {

TypingRefresher::TypingRefresher(Clock* clock, SendAction send, absl::Duration interval,
                                 absl::Duration max_duration)
    : clock_(clock),
      send_(std::move(send)),
      interval_(interval),
      max_duration_(max_duration),
      thread_([this] { Run(); }) {}

TypingRefresher::~TypingRefresher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wakeup_.Notify();
  thread_.join();
}

void TypingRefresher::SetTyping(const std::string& chat_key, bool on) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!on) {
      chats_.erase(chat_key);
      return;
    }
    absl::Time now = clock_->Now();
    auto [it, inserted] = chats_.try_emplace(chat_key, Entry{now, now + max_duration_});
    if (!inserted) {
      it->second.until = now + max_duration_;
      return;  // already refreshing on its own schedule
    }
  }
  wakeup_.Notify();
}

size_t TypingRefresher::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return chats_.size();
}

absl::Time TypingRefresher::Tick() {
  std::vector<std::string> due;
  absl::Time next = absl::InfiniteFuture();
  {
    std::lock_guard<std::mutex> lock(mu_);
    absl::Time now = clock_->Now();
    for (auto it = chats_.begin(); it != chats_.end();) {
      if (it->second.until <= now) {
        it = chats_.erase(it);
        continue;
      }
      if (it->second.next <= now) {
        due.push_back(it->first);
        it->second.next = now + interval_;
      }
      next = std::min(next, it->second.next);
      ++it;
    }
  }
  for (const std::string& chat : due) send_(chat);
  return next;
}

void TypingRefresher::Run() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    absl::Time next = Tick();
    wakeup_.Reset();
    // A chat added between Tick and Reset must not wait a whole interval.
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [key, entry] : chats_) next = std::min(next, entry.next);
      if (stopping_) return;
    }
    if (next == absl::InfiniteFuture()) next = clock_->Now() + absl::Hours(1);
    clock_->SleepUntil(next, &wakeup_);
  }
}

}  // namespace clawdie::gateway
