// The start object: the first stdin line the broker writes (DESIGN.md §6), validated.
//
// Thread-safety: plain value and a pure parse function.
#ifndef CLAWDIE_CONTAINER_START_REQUEST_H_
#define CLAWDIE_CONTAINER_START_REQUEST_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace clawdie::agent {

// The group's model settings from the start object's `model` field: either a model name
// string, or an object {"provider": "anthropic"|"openai", "name": "...", "maxTokens": N}.
// Empty members mean "use the environment's setting".
struct ModelSettings {
  std::string provider;
  std::string name;
  int max_tokens = 0;
};

struct StartRequest {
  std::string prompt;
  std::string group_folder;
  std::string chat_jid;
  bool is_main = false;
  std::string session_id;  // empty = start a new session
  bool is_scheduled_task = false;
  std::string assistant_name = "Andy";
  std::string timezone = "UTC";
  ModelSettings model;
};

// Parses and validates one JSON line. `prompt`, `groupFolder` and `chatJid` are required
// strings; the other fields are optional but must have the right type. Returns
// InvalidArgument "start object: field \"name\" ..." naming the first bad field.
absl::StatusOr<StartRequest> ParseStartRequest(std::string_view line);

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_START_REQUEST_H_
