// The agent's stdio protocol (DESIGN.md §6): parsing the JSON lines the
// agent writes to stdout into typed events, and encoding the lines the broker
// writes to its stdin.
//
// Thread-safety: pure functions, safe from any thread.
#ifndef CLAWDIE_SERVICES_BROKER_AGENT_PROTOCOL_H_
#define CLAWDIE_SERVICES_BROKER_AGENT_PROTOCOL_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace clawdie::broker {

// One stdout line of the agent.
struct AgentEvent {
  enum class Kind { kOutput, kToolCall, kSession, kDone };
  Kind kind = Kind::kOutput;
  // kOutput: the text for the chat.
  std::string text;
  // kToolCall.
  std::string tool_id;
  std::string tool_name;
  std::string tool_input_json;
  // kSession.
  std::string session_id;
  // kDone: "success" or "error", and the error text.
  std::string status;
  std::string error;

  bool operator==(const AgentEvent&) const = default;
};

// Parses one stdout line (without the newline). InvalidArgument for lines
// that are not a JSON object of a known type with the required fields.
absl::StatusOr<AgentEvent> ParseAgentEvent(std::string_view line);

// Input for the agent, one line each (with the trailing newline).
std::string EncodeFollowUp(std::string_view text);
std::string EncodeToolResult(std::string_view id, bool ok, std::string_view content);
std::string EncodeClose();

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_AGENT_PROTOCOL_H_
