#include "container/start_request.h"

#include "absl/status/status.h"
#include "container/json_util.h"

namespace clawdie::agent {
namespace {

absl::Status FieldError(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError("start object: field \"" + std::string(field) + "\" " +
                                    std::string(problem));
}

// Reads an optional string member; null counts as absent.
absl::Status OptionalString(const nlohmann::json& object, const char* field, std::string* out) {
  const nlohmann::json& value = Field(object, field);
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_string()) return FieldError(field, "must be a string");
  *out = value.get<std::string>();
  return absl::OkStatus();
}

absl::Status RequiredString(const nlohmann::json& object, const char* field, std::string* out) {
  const nlohmann::json& value = Field(object, field);
  if (value.is_null()) return FieldError(field, "is missing");
  if (!value.is_string()) return FieldError(field, "must be a string");
  *out = value.get<std::string>();
  if (out->empty()) return FieldError(field, "is empty");
  return absl::OkStatus();
}

absl::Status OptionalBool(const nlohmann::json& object, const char* field, bool* out) {
  const nlohmann::json& value = Field(object, field);
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_boolean()) return FieldError(field, "must be true or false");
  *out = value.get<bool>();
  return absl::OkStatus();
}

absl::Status ParseModel(const nlohmann::json& value, ModelSettings* out) {
  if (value.is_null()) return absl::OkStatus();
  if (value.is_string()) {
    out->name = value.get<std::string>();
    return absl::OkStatus();
  }
  if (!value.is_object()) return FieldError("model", "must be a string or an object");
  if (absl::Status s = OptionalString(value, "provider", &out->provider); !s.ok()) {
    return FieldError("model.provider", "must be a string");
  }
  if (!out->provider.empty() && out->provider != "anthropic" && out->provider != "openai") {
    return FieldError("model.provider", "must be \"anthropic\" or \"openai\"");
  }
  if (absl::Status s = OptionalString(value, "name", &out->name); !s.ok()) {
    return FieldError("model.name", "must be a string");
  }
  const nlohmann::json& max_tokens = Field(value, "maxTokens");
  if (!max_tokens.is_null()) {
    if (!max_tokens.is_number_integer() || max_tokens.get<long long>() <= 0) {
      return FieldError("model.maxTokens", "must be a positive integer");
    }
    out->max_tokens = max_tokens.get<int>();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<StartRequest> ParseStartRequest(std::string_view line) {
  absl::StatusOr<nlohmann::json> parsed = ParseJson(line, "start object");
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) return absl::InvalidArgumentError("start object: not a JSON object");
  const nlohmann::json& object = *parsed;

  StartRequest request;
  for (absl::Status status : {RequiredString(object, "prompt", &request.prompt),
                              RequiredString(object, "groupFolder", &request.group_folder),
                              RequiredString(object, "chatJid", &request.chat_jid),
                              OptionalBool(object, "isMain", &request.is_main),
                              OptionalString(object, "sessionId", &request.session_id),
                              OptionalBool(object, "isScheduledTask", &request.is_scheduled_task),
                              OptionalString(object, "assistantName", &request.assistant_name),
                              OptionalString(object, "timezone", &request.timezone),
                              ParseModel(Field(object, "model"), &request.model)}) {
    if (!status.ok()) return status;
  }
  return request;
}

}  // namespace clawdie::agent
