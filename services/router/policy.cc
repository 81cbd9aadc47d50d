#include "services/router/policy.h"

#include <algorithm>
#include <cctype>

#include "services/router/trigger.h"

namespace clawdie::router {
namespace {

std::string Lower(const std::string& text) {
  std::string out = text;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string EffectiveTrigger(const clawdie::v1::Group& group, const std::string& assistant_name) {
  return group.trigger().empty() ? "@" + assistant_name : group.trigger();
}

bool MessageTriggers(const clawdie::v1::Group& group, const clawdie::v1::Message& message,
                     const std::string& assistant_name) {
  if (message.is_own()) return false;
  if (group.is_main() || !group.requires_trigger()) return true;
  if (message.mentions_bot() || message.reply_to_bot()) return true;
  return MatchesTrigger(message.text(), EffectiveTrigger(group, assistant_name));
}

bool IsUnknownSessionError(const std::string& error) {
  std::string text = Lower(error);
  if (text.find("session") == std::string::npos && text.find("conversation") == std::string::npos) {
    return false;
  }
  for (const char* phrase :
       {"unknown session", "session not found", "no such session", "no conversation found",
        "session does not exist", "invalid session"}) {
    if (text.find(phrase) != std::string::npos) return true;
  }
  return false;
}

std::optional<absl::Duration> RunRetryDelay(const std::vector<absl::Duration>& delays,
                                            int failures) {
  if (failures < 1 || failures > static_cast<int>(delays.size())) return std::nullopt;
  return delays[failures - 1];
}

std::vector<absl::Duration> DefaultRunRetryDelays() {
  return {absl::Seconds(5), absl::Seconds(10), absl::Seconds(20), absl::Seconds(40),
          absl::Seconds(80)};
}

bool IsPermanentDeliveryError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

absl::Duration DeliveryRetryDelay(int attempts) {
  int shift = std::clamp(attempts - 1, 0, 10);
  return std::min(absl::Seconds(5) * (1 << shift), absl::Minutes(5));
}

}  // namespace clawdie::router
