// Parsing JSON that arrives from outside (webhook bodies, Bot API and Graph API replies).
// nlohmann's parser is iterative, but copying, dumping or comparing a value recurses once
// per nesting level, so a small body nested 100,000 levels deep would overflow the stack
// later. Such documents are refused before they are parsed.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_GATEWAY_UNTRUSTED_JSON_H_
#define CLAWDIE_SERVICES_GATEWAY_UNTRUSTED_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace clawdie::gateway {

// Deepest nesting of objects and arrays accepted; the platforms' documents use under 10.
inline constexpr int kMaxJsonDepth = 64;

// True when no object or array in `text` is nested deeper than `max_depth` (brackets
// inside strings do not count). Does not check that `text` is valid JSON.
bool JsonDepthWithin(std::string_view text, int max_depth = kMaxJsonDepth);

// The parsed document, or a discarded value (`is_discarded()`) when `text` is not JSON or
// is nested deeper than kMaxJsonDepth. Never throws.
nlohmann::json ParseUntrustedJson(std::string_view text);

// Field accessors that never throw, for documents of any shape: the value at `key` when
// `obj` is an object holding one of that type, else nothing.

// The integer at `key` when it is one that fits int64_t, else nullopt (missing, a string,
// a fraction, or an unsigned value above INT64_MAX).
std::optional<int64_t> JsonInt64(const nlohmann::json& obj, const char* key);
// The string at `key`, or "".
std::string JsonString(const nlohmann::json& obj, const char* key);
// True only for the boolean true at `key`.
bool JsonBool(const nlohmann::json& obj, const char* key);
// The object or array at `key`, or null.
const nlohmann::json* JsonObject(const nlohmann::json& obj, const char* key);
const nlohmann::json* JsonArray(const nlohmann::json& obj, const char* key);

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_UNTRUSTED_JSON_H_
