#include "container/stream_assembler.h"

#include "container/json_util.h"

namespace clawdie::agent {
namespace {

// Parses a tool's accumulated input; an empty input means an empty object.
nlohmann::json ParseToolInput(const std::string& partial, std::string* error) {
  if (partial.empty()) return nlohmann::json::object();
  absl::StatusOr<nlohmann::json> parsed = ParseJson(partial, "tool input");
  if (!parsed.ok() || !parsed->is_object()) {
    *error =
        parsed.ok() ? "tool input is not a JSON object" : std::string(parsed.status().message());
    return nlohmann::json::object();
  }
  return *std::move(parsed);
}

}  // namespace

void AnthropicStreamAssembler::OnEvent(const SseEvent& event) {
  if (error_ || complete_) return;
  absl::StatusOr<nlohmann::json> data = ParseJson(event.data, "event " + event.event);
  if (!data.ok()) {
    Fail("stream_parse_error", std::string(data.status().message()));
    return;
  }
  Handle(*data);
}

void AnthropicStreamAssembler::Handle(const nlohmann::json& data) {
  std::string type = StringField(data, "type");
  if (type == "message_start") {
    const nlohmann::json& message = Field(data, "message");
    turn_.message_id = StringField(message, "id");
    turn_.input_tokens = IntField(Field(message, "usage"), "input_tokens");
  } else if (type == "content_block_start") {
    StartBlock(data);
  } else if (type == "content_block_delta") {
    Delta(data);
  } else if (type == "content_block_stop") {
    StopBlock(data);
  } else if (type == "message_delta") {
    turn_.stop_reason = StringField(Field(data, "delta"), "stop_reason", turn_.stop_reason);
    turn_.output_tokens = IntField(Field(data, "usage"), "output_tokens", turn_.output_tokens);
  } else if (type == "message_stop") {
    complete_ = true;
  } else if (type == "error") {
    const nlohmann::json& error = Field(data, "error");
    Fail(StringField(error, "type", "api_error"), StringField(error, "message"));
  }
  // `ping` and event types added to the API later are ignored.
}

void AnthropicStreamAssembler::StartBlock(const nlohmann::json& data) {
  int index = IntField(data, "index");
  nlohmann::json block = Field(data, "content_block");
  if (!block.is_object()) {
    Fail("stream_parse_error", "content_block_start without content_block");
    return;
  }
  block_pos_[index] = turn_.content.size();
  if (StringField(block, "type") == "tool_use") partial_json_[index].clear();
  turn_.content.push_back(std::move(block));
}

void AnthropicStreamAssembler::Delta(const nlohmann::json& data) {
  int index = IntField(data, "index");
  auto pos = block_pos_.find(index);
  if (pos == block_pos_.end()) {
    Fail("stream_parse_error", "content_block_delta for unknown block " + std::to_string(index));
    return;
  }
  const nlohmann::json& delta = Field(data, "delta");
  std::string type = StringField(delta, "type");
  nlohmann::json& block = turn_.content[pos->second];
  if (type == "text_delta") {
    std::string text = StringField(delta, "text");
    block["text"] = StringField(block, "text") + text;
    if (sink_.on_delta) sink_.on_delta(text);
  } else if (type == "input_json_delta") {
    partial_json_[index] += StringField(delta, "partial_json");
  }
  // Thinking and signature deltas are not used by the agent.
}

void AnthropicStreamAssembler::StopBlock(const nlohmann::json& data) {
  int index = IntField(data, "index");
  auto pos = block_pos_.find(index);
  if (pos == block_pos_.end()) return;
  nlohmann::json& block = turn_.content[pos->second];
  std::string type = StringField(block, "type");
  if (type == "text") {
    if (sink_.on_block_end) sink_.on_block_end();
  } else if (type == "tool_use") {
    std::string error;
    block["input"] = ParseToolInput(partial_json_[index], &error);
    if (!error.empty())
      Fail("stream_parse_error", "tool " + StringField(block, "name") + ": " + error);
  }
}

void OpenAiStreamAssembler::OnEvent(const SseEvent& event) {
  if (error_ || complete_) return;
  if (event.data == "[DONE]") {
    Finalize();
    return;
  }
  absl::StatusOr<nlohmann::json> data = ParseJson(event.data, "chat completion chunk");
  if (!data.ok()) {
    Fail("stream_parse_error", std::string(data.status().message()));
    return;
  }
  Handle(*data);
}

void OpenAiStreamAssembler::Handle(const nlohmann::json& data) {
  if (const nlohmann::json& error = Field(data, "error"); !error.is_null()) {
    Fail(StringField(error, "type", "api_error"),
         error.is_string() ? error.get<std::string>() : StringField(error, "message"));
    return;
  }
  if (turn_.message_id.empty()) turn_.message_id = StringField(data, "id");
  const nlohmann::json& choices = Field(data, "choices");
  if (!choices.is_array() || choices.empty()) return;
  const nlohmann::json& choice = choices[0];
  const nlohmann::json& delta = Field(choice, "delta");

  std::string text = StringField(delta, "content");
  if (!text.empty()) {
    text_ += text;
    text_open_ = true;
    if (sink_.on_delta) sink_.on_delta(text);
  }
  const nlohmann::json& tool_calls = Field(delta, "tool_calls");
  if (tool_calls.is_array()) {
    for (const nlohmann::json& call : tool_calls) {
      PendingCall& pending = calls_[static_cast<int>(IntField(call, "index"))];
      if (std::string id = StringField(call, "id"); !id.empty()) pending.id = id;
      const nlohmann::json& function = Field(call, "function");
      pending.name += StringField(function, "name");
      pending.arguments += StringField(function, "arguments");
    }
  }
  if (std::string reason = StringField(choice, "finish_reason"); !reason.empty()) {
    finish_reason_ = reason;
  }
}

void OpenAiStreamAssembler::Finalize() {
  if (!text_.empty()) {
    turn_.content.push_back({{"type", "text"}, {"text", text_}});
  }
  if (text_open_ && sink_.on_block_end) sink_.on_block_end();
  for (auto& [index, call] : calls_) {
    std::string error;
    nlohmann::json input = ParseToolInput(call.arguments, &error);
    if (!error.empty()) Fail("stream_parse_error", "tool " + call.name + ": " + error);
    std::string id = call.id.empty() ? "call_" + std::to_string(index) : call.id;
    turn_.content.push_back(
        {{"type", "tool_use"}, {"id", id}, {"name", call.name}, {"input", std::move(input)}});
  }
  // Some local servers report "stop" even when the message carries tool calls.
  if (!calls_.empty() || finish_reason_ == "tool_calls") {
    turn_.stop_reason = "tool_use";
  } else if (finish_reason_ == "length") {
    turn_.stop_reason = "max_tokens";
  } else {
    turn_.stop_reason = "end_turn";
  }
  complete_ = true;
}

}  // namespace clawdie::agent
