// The wire formats of the supported providers; see model_client.h.
#include "container/json_util.h"
#include "container/model_client.h"

namespace clawdie::agent {
namespace {

class AnthropicEngine : public ModelEngine {
 public:
  std::string_view provider() const override { return "anthropic"; }
  std::string_view path() const override { return "/v1/messages"; }
  std::string_view credential_hint() const override { return "ANTHROPIC_API_KEY"; }

  std::string BuildBody(const ModelRequest& request) const override {
    nlohmann::json tools = nlohmann::json::array();
    for (const ToolSpec& tool : request.tools) {
      tools.push_back({{"name", tool.name},
                       {"description", tool.description},
                       {"input_schema", tool.input_schema}});
    }
    nlohmann::json body = {{"model", request.model},
                           {"max_tokens", request.max_tokens},
                           {"stream", true},
                           {"messages", request.messages}};
    if (!request.system.empty()) body["system"] = request.system;
    if (!tools.empty()) body["tools"] = std::move(tools);
    return DumpJson(body);
  }

  std::vector<std::string> Headers(const std::string& api_key) const override {
    std::vector<std::string> headers = {"content-type: application/json",
                                        "accept: text/event-stream",
                                        "anthropic-version: 2023-06-01", "expect:"};
    if (!api_key.empty()) headers.push_back("x-api-key: " + api_key);
    return headers;
  }

  std::unique_ptr<StreamAssembler> NewAssembler(TextSink sink) const override {
    return std::make_unique<AnthropicStreamAssembler>(std::move(sink));
  }
};

class OpenAiEngine : public ModelEngine {
 public:
  std::string_view provider() const override { return "openai"; }
  std::string_view path() const override { return "/v1/chat/completions"; }
  std::string_view credential_hint() const override {
    return "OPENAI_API_KEY (or the key the broker's model proxy sends to CLAWDIE_MODEL_BASE_URL)";
  }

  std::string BuildBody(const ModelRequest& request) const override {
    nlohmann::json tools = nlohmann::json::array();
    for (const ToolSpec& tool : request.tools) {
      tools.push_back({{"type", "function"},
                       {"function",
                        {{"name", tool.name},
                         {"description", tool.description},
                         {"parameters", tool.input_schema}}}});
    }
    nlohmann::json body = {{"model", request.model},
                           {"max_tokens", request.max_tokens},
                           {"stream", true},
                           {"messages", ToOpenAiMessages(request.system, request.messages)}};
    if (!tools.empty()) body["tools"] = std::move(tools);
    return DumpJson(body);
  }

  std::vector<std::string> Headers(const std::string& api_key) const override {
    std::vector<std::string> headers = {"content-type: application/json",
                                        "accept: text/event-stream", "expect:"};
    if (!api_key.empty()) headers.push_back("authorization: Bearer " + api_key);
    return headers;
  }

  std::unique_ptr<StreamAssembler> NewAssembler(TextSink sink) const override {
    return std::make_unique<OpenAiStreamAssembler>(std::move(sink));
  }
};

// The text of a tool_result's content, which may be a string or a list of text blocks.
std::string ToolResultText(const nlohmann::json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (content.is_array()) {
    for (const nlohmann::json& block : content) text += StringField(block, "text");
  }
  return text;
}

void AppendUserMessage(const nlohmann::json& content, nlohmann::json& out) {
  if (content.is_string()) {
    out.push_back({{"role", "user"}, {"content", content}});
    return;
  }
  // Tool results must directly follow the assistant message that asked for them.
  std::string text;
  for (const nlohmann::json& block : content) {
    std::string type = StringField(block, "type");
    if (type == "tool_result") {
      out.push_back({{"role", "tool"},
                     {"tool_call_id", StringField(block, "tool_use_id")},
                     {"content", ToolResultText(Field(block, "content"))}});
    } else if (type == "text") {
      text += (text.empty() ? "" : "\n\n") + StringField(block, "text");
    }
  }
  if (!text.empty()) out.push_back({{"role", "user"}, {"content", text}});
}

void AppendAssistantMessage(const nlohmann::json& content, nlohmann::json& out) {
  if (content.is_string()) {
    out.push_back({{"role", "assistant"}, {"content", content}});
    return;
  }
  std::string text;
  nlohmann::json calls = nlohmann::json::array();
  for (const nlohmann::json& block : content) {
    std::string type = StringField(block, "type");
    if (type == "text") {
      text += StringField(block, "text");
    } else if (type == "tool_use") {
      calls.push_back({{"id", StringField(block, "id")},
                       {"type", "function"},
                       {"function",
                        {{"name", StringField(block, "name")},
                         {"arguments", DumpJson(Field(block, "input"))}}}});
    }
  }
  nlohmann::json message = {{"role", "assistant"}, {"content", text}};
  if (!calls.empty()) message["tool_calls"] = std::move(calls);
  out.push_back(std::move(message));
}

}  // namespace

nlohmann::json ToOpenAiMessages(const std::string& system, const nlohmann::json& messages) {
  nlohmann::json out = nlohmann::json::array();
  if (!system.empty()) out.push_back({{"role", "system"}, {"content", system}});
  for (const nlohmann::json& message : messages) {
    const nlohmann::json& content = Field(message, "content");
    if (StringField(message, "role") == "assistant") {
      AppendAssistantMessage(content, out);
    } else {
      AppendUserMessage(content, out);
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<ModelEngine>> MakeEngine(std::string_view provider) {
  if (provider == "anthropic") return std::make_unique<AnthropicEngine>();
  if (provider == "openai") return std::make_unique<OpenAiEngine>();
  return absl::InvalidArgumentError("model provider \"" + std::string(provider) +
                                    "\": expected anthropic or openai");
}

}  // namespace clawdie::agent
