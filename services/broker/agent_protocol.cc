#include "services/broker/agent_protocol.h"

#include "nlohmann/json.hpp"

namespace clawdie::broker {
namespace {

using Json = nlohmann::json;

std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

absl::Status Invalid(const std::string& cause) {
  return absl::InvalidArgumentError("parse agent event: " + cause);
}

// Reads a string field; false if missing or not a string.
bool GetString(const Json& json, const char* key, std::string* out) {
  auto it = json.find(key);
  if (it == json.end() || !it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

}  // namespace

absl::StatusOr<AgentEvent> ParseAgentEvent(std::string_view line) {
  Json json = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return Invalid("not a JSON object");
  std::string type;
  if (!GetString(json, "type", &type)) return Invalid("no type");

  AgentEvent event;
  if (type == "output") {
    event.kind = AgentEvent::Kind::kOutput;
    if (!GetString(json, "text", &event.text)) return Invalid("output without text");
  } else if (type == "tool_call") {
    event.kind = AgentEvent::Kind::kToolCall;
    if (!GetString(json, "id", &event.tool_id) || !GetString(json, "name", &event.tool_name)) {
      return Invalid("tool_call without id or name");
    }
    auto input = json.find("input");
    event.tool_input_json = input == json.end() ? "{}" : input->dump();
  } else if (type == "session") {
    event.kind = AgentEvent::Kind::kSession;
    if (!GetString(json, "sessionId", &event.session_id)) return Invalid("session without id");
  } else if (type == "done") {
    event.kind = AgentEvent::Kind::kDone;
    if (!GetString(json, "status", &event.status)) return Invalid("done without status");
    GetString(json, "error", &event.error);
  } else {
    return Invalid("unknown type " + type);
  }
  return event;
}

std::string EncodeFollowUp(std::string_view text) {
  return Dump({{"type", "message"}, {"text", std::string(text)}});
}

std::string EncodeToolResult(std::string_view id, bool ok, std::string_view content) {
  return Dump({{"type", "tool_result"},
               {"id", std::string(id)},
               {"ok", ok},
               {"content", std::string(content)}});
}

std::string EncodeClose() { return Dump({{"type", "close"}}); }

}  // namespace clawdie::broker
