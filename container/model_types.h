// Provider-neutral types shared by the model engines and the agent loop.
//
// The conversation is kept in the Anthropic Messages API shape (role + content blocks of type
// `text`, `tool_use` and `tool_result`) because that shape is the richest of the supported
// providers; the OpenAI engine converts it when it builds a request.
//
// Thread-safety: plain values.
#ifndef CLAWDIE_CONTAINER_MODEL_TYPES_H_
#define CLAWDIE_CONTAINER_MODEL_TYPES_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"

namespace clawdie::agent {

// A tool offered to the model: its name, a description the model can follow and a JSON Schema
// for its input object.
struct ToolSpec {
  std::string name;
  std::string description;
  nlohmann::json input_schema;
};

// Everything one model call needs.
struct ModelRequest {
  std::string model;
  int max_tokens = 8192;
  std::string system;
  nlohmann::json messages = nlohmann::json::array();  // Anthropic-shaped messages
  std::vector<ToolSpec> tools;
};

// The assistant message produced by one model call.
struct ModelTurn {
  nlohmann::json content = nlohmann::json::array();  // Anthropic-shaped content blocks
  std::string stop_reason;                           // end_turn, tool_use, max_tokens, ...
  std::string message_id;
  int input_tokens = 0;
  int output_tokens = 0;
};

// An `error` reported inside a stream (as opposed to an HTTP status).
struct StreamError {
  std::string type;  // e.g. overloaded_error, api_error, invalid_request_error
  std::string message;
};

// Callbacks a stream reports text through while it is parsed.
struct TextSink {
  std::function<void(std::string_view)> on_delta;  // a piece of assistant text
  std::function<void()> on_block_end;              // a text block is complete
  std::function<void()> on_retry;                  // a new attempt starts; drop partial text
};

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_MODEL_TYPES_H_
