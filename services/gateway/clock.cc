// Real and fake clocks; see clock.h.
#include "services/gateway/clock.h"

#include <chrono>

#include "absl/time/clock.h"

namespace clawdie::gateway {

void Wakeup::Notify() {
  std::lock_guard<std::mutex> lock(mu_);
  notified_ = true;
  cv_.notify_all();
}

void Wakeup::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  notified_ = false;
}

bool Wakeup::notified() const {
  std::lock_guard<std::mutex> lock(mu_);
  return notified_;
}

bool Wakeup::WaitFor(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  unsigned pokes = pokes_;
  auto until = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  cv_.wait_until(lock, until, [&] { return notified_ || pokes_ != pokes; });
  return notified_;
}

void Wakeup::Poke() {
  std::lock_guard<std::mutex> lock(mu_);
  ++pokes_;
  cv_.notify_all();
}

namespace {

class SystemClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }

  bool SleepUntil(absl::Time deadline, Wakeup* wakeup) override {
    Wakeup local;
    Wakeup* w = wakeup != nullptr ? wakeup : &local;
    while (true) {
      if (w->notified()) return true;
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      w->WaitFor(left);
    }
  }
};

}  // namespace

Clock* RealClock() {
  static SystemClock* clock = new SystemClock();
  return clock;
}

FakeClock::FakeClock(absl::Time start, bool auto_advance)
    : now_(start), auto_advance_(auto_advance) {}

absl::Time FakeClock::Now() {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

bool FakeClock::SleepUntil(absl::Time deadline, Wakeup* wakeup) {
  Wakeup local;
  Wakeup* w = wakeup != nullptr ? wakeup : &local;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (w->notified()) return true;
    if (deadline <= now_) return false;
    if (auto_advance_) {
      slept_ += deadline - now_;
      now_ = deadline;
      return false;
    }
    sleeping_.insert(w);
    ++sleepers_;
    changed_.notify_all();
  }
  bool woken = false;
  while (true) {
    if (w->notified()) {
      woken = true;
      break;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (now_ >= deadline) break;
    }
    w->WaitFor(absl::Milliseconds(50));
  }
  std::lock_guard<std::mutex> lock(mu_);
  sleeping_.erase(sleeping_.find(w));
  --sleepers_;
  changed_.notify_all();
  return woken;
}

void FakeClock::Advance(absl::Duration d) {
  std::lock_guard<std::mutex> lock(mu_);
  now_ += d;
  slept_ += d;
  for (Wakeup* w : sleeping_) w->Poke();
}

int FakeClock::sleepers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sleepers_;
}

bool FakeClock::AwaitSleepers(int n, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [&] { return sleepers_ >= n; });
}

absl::Duration FakeClock::total_slept() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slept_;
}

}  // namespace clawdie::gateway
