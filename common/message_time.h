// Which times a chat message may carry. A platform or a client can send any number; one no
// clock could have given would show as nonsense in prompts and break JSON listings (which
// end with the year 9999), so the gateway and the router both replace it with the time the
// message arrived.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_COMMON_MESSAGE_TIME_H_
#define CLAWDIE_COMMON_MESSAGE_TIME_H_

#include "absl/time/time.h"

namespace clawdie {

// True for a time from 2000 on and at most a day after `now` (a sender's clock may run a
// little fast).
inline bool IsPlausibleMessageTime(absl::Time time, absl::Time now) {
  return time >= absl::FromCivil(absl::CivilDay(2000, 1, 1), absl::UTCTimeZone()) &&
         time <= now + absl::Hours(24);
}

}  // namespace clawdie

#endif  // CLAWDIE_COMMON_MESSAGE_TIME_H_
