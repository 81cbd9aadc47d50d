// Turning clawctl's command-line arguments into the requests the services
// take. Everything a person can get wrong on the command line is checked here,
// before any call, with an error that names the flag: the chat key, the folder
// name, and exactly one schedule out of --cron, --every and --at.
//
// The router checks everything again (it is the authority); these checks exist
// so a typo gets a precise message without a round trip.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_CLAWCTL_REQUESTS_H_
#define CLAWDIE_SERVICES_CLAWCTL_REQUESTS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clawdie/v1/router.pb.h"
#include "clawdie/v1/types.pb.h"
#include "common/chat_key.h"

namespace clawdie::clawctl {

// Checks that a message text is valid UTF-8, as every text field on the wire must be.
// InvalidArgument naming the first bad byte's offset otherwise.
absl::Status ValidateText(const std::string& text);

// Checks a group folder name: ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ and not "global".
absl::Status ValidateFolder(const std::string& folder);

// Arguments of `groups add`.
struct GroupArgs {
  std::string chat;
  std::string name;
  std::string folder;
  // Empty means "@<assistant name>".
  std::string trigger;
  bool no_trigger = false;
  bool main = false;
  // IANA zone; empty means the system default TZ.
  std::string timezone;
};

// The group to register. Main groups and --no-trigger groups answer every message.
absl::StatusOr<v1::Group> BuildGroup(const GroupArgs& args, const std::string& assistant_name);

// Arguments of `tasks add`.
struct TaskArgs {
  std::string group;
  std::string cron;
  std::string every;
  std::string at;
  std::string prompt;
  // "group" (continue the group's session) or "isolated" (fresh session each run).
  std::string context = "group";
  // IANA zone; empty means the group's.
  std::string timezone;
};

// The task to create for `group_chat` (the chat the group's output goes to). The schedule
// becomes kind + expression: --cron with its fields joined by single spaces (or @daily…),
// --every as a canonical duration ("90m" → "1h30m", at least 1m), --at as given (a local
// date-time or an RFC 3339 instant). Each is checked with the scheduler's own parser
// (common/schedule.h), in --timezone or UTC; whether an --at time is in the past is left to
// the router, which knows the group's zone.
// InvalidArgument naming the flag for a missing or doubled schedule, an empty prompt, an
// unparsable value, or a bad --context.
absl::StatusOr<v1::Task> BuildTask(const TaskArgs& args, const std::string& group_chat);

// Parses a task id ("17"). InvalidArgument "task id TEXT: ..." unless it is a positive
// decimal integer.
absl::StatusOr<int64_t> ParseTaskId(const std::string& text);

// The local chat name of a `local:<name>` key, or "" for other channels.
std::string LocalChatName(const std::string& chat);

// The message `clawctl send` injects through Router.Ingest for a non-local chat.
// `unique` makes its platform id unique ("clawctl-<unique>"); `now` is its time.
v1::IngestRequest BuildIngest(const std::string& chat, const std::string& text,
                              const std::string& sender, const std::string& unique, absl::Time now);

}  // namespace clawdie::clawctl

#endif  // CLAWDIE_SERVICES_CLAWCTL_REQUESTS_H_
