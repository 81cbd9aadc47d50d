// The agent's side of the stdio protocol (DESIGN.md §6): parsing the lines the broker writes
// after the start object, and writing events to stdout one JSON object per line.
//
// Thread-safety: EventWriter is safe from any thread (lines never interleave). ParseInputLine
// is a pure function.
#ifndef CLAWDIE_CONTAINER_PROTOCOL_H_
#define CLAWDIE_CONTAINER_PROTOCOL_H_

#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace clawdie::agent {

// One thing that arrived for the agent after the start object.
struct InputEvent {
  enum class Kind { kMessage, kToolResult, kClose, kEndOfInput };
  Kind kind = Kind::kMessage;
  std::string text;        // kMessage
  std::string id;          // kToolResult
  bool ok = true;          // kToolResult
  nlohmann::json content;  // kToolResult: string or any JSON value
};

// Parses `{"type":"message","text":…}`,
// `{"type":"tool_result","id":…,"ok":…,"content":…}` or `{"type":"close"}`.
// Returns InvalidArgument "input line: <cause>" otherwise.
absl::StatusOr<InputEvent> ParseInputLine(std::string_view line);

// Writes events as single lines to a file descriptor, each with one write(2) call sequence so
// that a reader sees it as soon as it is complete (no stdio buffering).
class EventWriter {
 public:
  // `fd` is not owned.
  explicit EventWriter(int fd) : fd_(fd) {}

  absl::Status Output(std::string_view text);
  absl::Status ToolCall(std::string_view id, std::string_view name, const nlohmann::json& input);
  absl::Status Session(std::string_view session_id);
  // `status` is "success" or "error"; `error` is omitted when empty.
  absl::Status Done(std::string_view status, std::string_view error);

  // Called after each line is written (the benchmark hooks its clock here).
  void set_observer(std::function<void(const nlohmann::json&)> observer) {
    observer_ = std::move(observer);
  }

 private:
  absl::Status Write(const nlohmann::ordered_json& event);

  int fd_;
  std::mutex mu_;
  std::function<void(const nlohmann::json&)> observer_;
};

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_PROTOCOL_H_
