// The router's source of time. Everything time-dependent in the router (retry
// backoff, idle timeouts, scheduled tasks, outbox retries) asks a Clock, so unit
// tests drive time by hand instead of sleeping.
//
// Thread-safety: implementations must be safe to call from any thread.
#ifndef CLAWDIE_SERVICES_ROUTER_CLOCK_H_
#define CLAWDIE_SERVICES_ROUTER_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace clawdie::router {

class Clock {
 public:
  virtual ~Clock() = default;

  // The current time.
  virtual absl::Time Now() const = 0;
};

// The system's wall clock.
class SystemClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_CLOCK_H_
