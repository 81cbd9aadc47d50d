// Turns the server-sent events of one streamed model response into a ModelTurn, for the
// Anthropic Messages API (`AnthropicStreamAssembler`) and OpenAI-compatible chat completions
// (`OpenAiStreamAssembler`). Text is reported through a TextSink as it arrives; tool inputs
// that arrive as JSON pieces are joined and parsed when their block ends.
//
// Thread-safety: one assembler per stream, used from one thread.
#ifndef CLAWDIE_CONTAINER_STREAM_ASSEMBLER_H_
#define CLAWDIE_CONTAINER_STREAM_ASSEMBLER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "container/model_types.h"
#include "container/sse_parser.h"

namespace clawdie::agent {

class StreamAssembler {
 public:
  virtual ~StreamAssembler() = default;

  // Consumes one event. Malformed event data is recorded as an error and later events ignored.
  virtual void OnEvent(const SseEvent& event) = 0;

  // True once the provider's terminal event was seen (`message_stop` / `[DONE]`).
  bool complete() const { return complete_; }

  // Set when the stream reported an error or could not be parsed.
  const std::optional<StreamError>& error() const { return error_; }

  // The assembled message; meaningful once complete() is true.
  ModelTurn TakeTurn() { return std::move(turn_); }

 protected:
  void Fail(std::string type, std::string message) {
    if (!error_) error_ = StreamError{std::move(type), std::move(message)};
  }

  ModelTurn turn_;
  bool complete_ = false;
  std::optional<StreamError> error_;
};

class AnthropicStreamAssembler : public StreamAssembler {
 public:
  explicit AnthropicStreamAssembler(TextSink sink) : sink_(std::move(sink)) {}
  void OnEvent(const SseEvent& event) override;

 private:
  void Handle(const nlohmann::json& data);
  void StartBlock(const nlohmann::json& data);
  void Delta(const nlohmann::json& data);
  void StopBlock(const nlohmann::json& data);

  TextSink sink_;
  // Index in the stream -> position in turn_.content, and partial tool input JSON.
  std::map<int, size_t> block_pos_;
  std::map<int, std::string> partial_json_;
};

class OpenAiStreamAssembler : public StreamAssembler {
 public:
  explicit OpenAiStreamAssembler(TextSink sink) : sink_(std::move(sink)) {}
  void OnEvent(const SseEvent& event) override;

 private:
  struct PendingCall {
    std::string id;
    std::string name;
    std::string arguments;
  };

  void Handle(const nlohmann::json& data);
  void Finalize();

  TextSink sink_;
  std::string text_;
  bool text_open_ = false;
  std::map<int, PendingCall> calls_;
  std::string finish_reason_;
};

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_STREAM_ASSEMBLER_H_
