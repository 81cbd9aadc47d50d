// Small, non-throwing accessors for nlohmann::json values read from untrusted input
// (model streams, stdin lines, session files). nlohmann-json throws on type mismatches;
// these return a default instead so no exception crosses a function boundary.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_CONTAINER_JSON_UTIL_H_
#define CLAWDIE_CONTAINER_JSON_UTIL_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace clawdie::agent {

// Parses `text` as JSON; InvalidArgument "parse <what>: <cause>" on malformed input.
absl::StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view what);

// The string member `key` of `object`, or `fallback` when absent or not a string.
std::string StringField(const nlohmann::json& object, std::string_view key,
                        std::string_view fallback = "");

// The integer member `key`, or `fallback`.
long long IntField(const nlohmann::json& object, std::string_view key, long long fallback = 0);

// The member `key` or a null json when `object` is not an object or lacks it.
const nlohmann::json& Field(const nlohmann::json& object, std::string_view key);

// Serializes without throwing on invalid UTF-8 (replaced with U+FFFD).
std::string DumpJson(const nlohmann::json& value);

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_JSON_UTIL_H_
