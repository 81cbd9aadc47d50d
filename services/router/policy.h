// The router's decision rules as pure functions (docs/router.md): which
// messages trigger, which agent errors mean a lost session, how long to wait
// before retrying a run or a delivery, and which delivery errors are final.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_ROUTER_POLICY_H_
#define CLAWDIE_SERVICES_ROUTER_POLICY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "clawdie/v1/types.pb.h"

namespace clawdie::router {

// The trigger a group answers to: its own, or "@<assistant name>" when it has none.
std::string EffectiveTrigger(const clawdie::v1::Group& group, const std::string& assistant_name);

// Whether `message` starts a run for `group` (DESIGN.md §4 step 3): never for the assistant's
// own messages; always in the main group and in groups that do not require the trigger;
// otherwise when the text starts with the trigger or the gateway saw a mention of the bot or
// a reply to it.
bool MessageTriggers(const clawdie::v1::Group& group, const clawdie::v1::Message& message,
                     const std::string& assistant_name);

// True when an agent's error says the session it was asked to continue does not exist (so a
// fresh session may succeed).
bool IsUnknownSessionError(const std::string& error);

// The delay before retry number `failures` (1-based) of a run that failed before delivering
// anything, or nothing when the run should be given up.
std::optional<absl::Duration> RunRetryDelay(const std::vector<absl::Duration>& delays,
                                            int failures);

// The run retry delays of issue #5: 5 s, 10 s, 20 s, 40 s, 80 s.
std::vector<absl::Duration> DefaultRunRetryDelays();

// True when a Gateway.Send error will not go away by retrying (bot blocked, chat gone,
// outside the WhatsApp window, malformed request).
bool IsPermanentDeliveryError(const absl::Status& status);

// Delivery attempts of one outbox entry before it is marked failed.
inline constexpr int kMaxDeliveryAttempts = 12;

// The delay after failed delivery attempt number `attempts` (1-based): 5 s doubling, at most
// 5 minutes.
absl::Duration DeliveryRetryDelay(int attempts);

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_POLICY_H_
