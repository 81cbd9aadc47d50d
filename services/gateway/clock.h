// Time source for the gateway's time-dependent logic (pacing, retries, typing refresh,
// poll backoff), so tests drive time by hand instead of sleeping.
//
// Thread-safety: RealClock and FakeClock are safe to use from any thread. A Wakeup may be
// notified from any thread while another thread sleeps on it.
#ifndef CLAWDIE_SERVICES_GATEWAY_CLOCK_H_
#define CLAWDIE_SERVICES_GATEWAY_CLOCK_H_

#include <condition_variable>
#include <mutex>
#include <set>

#include "absl/time/time.h"

namespace clawdie::gateway {

// Lets another thread cut a sleep short (shutdown, new work). The flag stays set until
// Reset(), so a Notify() that comes before the sleep starts is not lost.
class Wakeup {
 public:
  // Sets the flag and wakes every sleeper.
  void Notify();
  // Clears the flag.
  void Reset();
  bool notified() const;

  // Blocks until notified or until the steady-clock `timeout` elapses, or until Poke().
  // Returns true when notified.
  bool WaitFor(absl::Duration timeout);
  // Wakes sleepers without setting the flag, so they re-check their condition.
  void Poke();

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
  unsigned pokes_ = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  // Blocks until `deadline` has passed or `wakeup` (may be null) is notified.
  // Returns true when woken by `wakeup`, false when the deadline passed.
  virtual bool SleepUntil(absl::Time deadline, Wakeup* wakeup = nullptr) = 0;
  bool SleepFor(absl::Duration d, Wakeup* wakeup = nullptr) {
    return SleepUntil(Now() + d, wakeup);
  }
};

// The system clock. Never null, lives forever.
Clock* RealClock();

// A clock for tests. Time moves only through Advance(), or, in auto-advance mode, when a
// sleeper asks for a later time (then time jumps to the deadline at once).
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1767949200),
                     bool auto_advance = false);

  absl::Time Now() override;
  bool SleepUntil(absl::Time deadline, Wakeup* wakeup = nullptr) override;

  // Moves time forward and wakes sleepers whose deadline passed.
  void Advance(absl::Duration d);
  // Number of threads currently blocked in SleepUntil.
  int sleepers() const;
  // Blocks (in real time, at most `timeout`) until at least `n` threads sleep. Returns
  // whether they do.
  bool AwaitSleepers(int n, absl::Duration timeout = absl::Seconds(10));
  // Sum of every duration slept so far (auto-advance mode and Advance alike).
  absl::Duration total_slept() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  absl::Time now_;
  bool auto_advance_;
  std::multiset<Wakeup*> sleeping_;
  int sleepers_ = 0;
  absl::Duration slept_ = absl::ZeroDuration();
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_CLOCK_H_
