#include "container/json_util.h"

#include "absl/status/status.h"

namespace clawdie::agent {

absl::StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError("parse " + std::string(what) + ": " + e.what());
  }
}

const nlohmann::json& Field(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string StringField(const nlohmann::json& object, std::string_view key,
                        std::string_view fallback) {
  const nlohmann::json& value = Field(object, key);
  return value.is_string() ? value.get<std::string>() : std::string(fallback);
}

long long IntField(const nlohmann::json& object, std::string_view key, long long fallback) {
  const nlohmann::json& value = Field(object, key);
  return value.is_number() ? value.get<long long>() : fallback;
}

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace clawdie::agent
