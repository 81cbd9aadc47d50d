#include "container/protocol.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "container/json_util.h"

namespace clawdie::agent {
namespace {

absl::Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(std::string("write stdout: ") + strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<InputEvent> ParseInputLine(std::string_view line) {
  absl::StatusOr<nlohmann::json> parsed = ParseJson(line, "input line");
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) return absl::InvalidArgumentError("input line: not a JSON object");
  std::string type = StringField(*parsed, "type");

  InputEvent event;
  if (type == "message") {
    const nlohmann::json& text = Field(*parsed, "text");
    if (!text.is_string())
      return absl::InvalidArgumentError("input line message: \"text\" must be a string");
    event.kind = InputEvent::Kind::kMessage;
    event.text = text.get<std::string>();
  } else if (type == "tool_result") {
    const nlohmann::json& id = Field(*parsed, "id");
    const nlohmann::json& ok = Field(*parsed, "ok");
    if (!id.is_string())
      return absl::InvalidArgumentError("input line tool_result: \"id\" must be a string");
    if (!ok.is_null() && !ok.is_boolean()) {
      return absl::InvalidArgumentError("input line tool_result: \"ok\" must be true or false");
    }
    event.kind = InputEvent::Kind::kToolResult;
    event.id = id.get<std::string>();
    event.ok = ok.is_null() ? true : ok.get<bool>();
    event.content = Field(*parsed, "content");
  } else if (type == "close") {
    event.kind = InputEvent::Kind::kClose;
  } else {
    return absl::InvalidArgumentError("input line: unknown type \"" + type + "\"");
  }
  return event;
}

absl::Status EventWriter::Output(std::string_view text) {
  return Write({{"type", "output"}, {"text", text}});
}

absl::Status EventWriter::ToolCall(std::string_view id, std::string_view name,
                                   const nlohmann::json& input) {
  return Write({{"type", "tool_call"},
                {"id", id},
                {"name", name},
                {"input", nlohmann::ordered_json(input)}});
}

absl::Status EventWriter::Session(std::string_view session_id) {
  return Write({{"type", "session"}, {"sessionId", session_id}});
}

absl::Status EventWriter::Done(std::string_view status, std::string_view error) {
  nlohmann::ordered_json event = {{"type", "done"}, {"status", status}};
  if (!error.empty()) event["error"] = error;
  return Write(event);
}

absl::Status EventWriter::Write(const nlohmann::ordered_json& event) {
  // Ordered so that "type" comes first, which reads better in logs.
  std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status status = WriteAll(fd_, line);
  if (observer_) observer_(nlohmann::json(event));
  return status;
}

}  // namespace clawdie::agent
