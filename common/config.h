// Configuration for every clawdie binary (DESIGN.md §2): one KEY=VALUE file
// (`#` comments, optional single or double quotes, an `export ` prefix is
// tolerated), overridden by the process environment, overridden by
// command-line flags. Typed getters fail with an error naming the key.
//
// Thread-safety: a Config is immutable after loading except for Set(), which
// must happen before it is shared between threads.
#ifndef CLAWDIE_COMMON_CONFIG_H_
#define CLAWDIE_COMMON_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace clawdie {

// A documented configuration key.
struct ConfigKey {
  const char* name;
  const char* default_value;  // "" when there is none
  bool secret;                // never logged
  const char* description;
};

// Every key any clawdie binary reads (docs/configuration.md lists the same).
const std::vector<ConfigKey>& KnownConfigKeys();

// True for keys whose values must never be logged: the known secret keys and any
// key ending in _TOKEN, _KEY, _SECRET or _PASSWORD.
bool IsSecretKey(const std::string& key);

class Config {
 public:
  Config() = default;

  // Parses file text. Returns InvalidArgument "config <origin> line N: <cause>" for a
  // line that is not KEY=VALUE, a bad key name or an unterminated quote.
  static absl::StatusOr<Config> Parse(const std::string& text, const std::string& origin);

  // Reads `path` (NotFound if it does not exist and `required`; an absent optional file
  // gives an empty config), then applies overrides from `environ` for every known key and
  // every key the file set.
  static absl::StatusOr<Config> Load(const std::string& path, bool required, char** environ);

  // Overrides one key (used for command-line flags).
  void Set(const std::string& key, const std::string& value);

  bool Has(const std::string& key) const;

  // The value, or `fallback` (or the key's documented default when fallback is null).
  std::string GetString(const std::string& key, const char* fallback = nullptr) const;

  // Typed getters: InvalidArgument "config KEY: ..." when the value does not parse.
  absl::StatusOr<int64_t> GetInt(const std::string& key, int64_t fallback) const;
  absl::StatusOr<bool> GetBool(const std::string& key, bool fallback) const;
  // Durations as clawdie::ParseDuration reads them: "30m", "1h30m", "45s", "2d", "90".
  absl::StatusOr<absl::Duration> GetDuration(const std::string& key, absl::Duration fallback) const;

  // Keys set that no clawdie binary knows, for a one-time warning.
  std::vector<std::string> UnknownKeys() const;

  // "KEY=value KEY2=<redacted> ..." for logging: secrets are replaced.
  std::string Redacted() const;

  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace clawdie

#endif  // CLAWDIE_COMMON_CONFIG_H_
