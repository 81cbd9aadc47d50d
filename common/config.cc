#include "common/config.h"

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "common/schedule.h"

namespace clawdie {
namespace {

bool IsKeyChar(char c, bool first) {
  return c == '_' || std::isupper(static_cast<unsigned char>(c)) ||
         std::islower(static_cast<unsigned char>(c)) ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

std::string Trim(const std::string& s) {
  size_t begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  size_t end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Parses the value part of a line: quoted ("..." with \" \\ \n escapes, or '...' literal)
// or bare (up to an unquoted " #" comment).
absl::StatusOr<std::string> ParseValue(const std::string& raw) {
  std::string v = Trim(raw);
  if (v.empty()) return v;
  char quote = v[0];
  if (quote != '"' && quote != '\'') {
    size_t comment = v.find(" #");
    return Trim(comment == std::string::npos ? v : v.substr(0, comment));
  }

  std::string out;
  for (size_t i = 1; i < v.size(); ++i) {
    char c = v[i];
    if (c == quote) {
      std::string rest = Trim(v.substr(i + 1));
      if (!rest.empty() && rest[0] != '#') {
        return absl::InvalidArgumentError("text after closing quote");
      }
      return out;
    }
    if (quote == '"' && c == '\\' && i + 1 < v.size()) {
      char next = v[++i];
      out.push_back(next == 'n' ? '\n' : next);
    } else {
      out.push_back(c);
    }
  }
  return absl::InvalidArgumentError("unterminated quote");
}

absl::Status LineError(const std::string& origin, int line, const std::string& cause) {
  return absl::InvalidArgumentError("config " + origin + " line " + std::to_string(line) + ": " +
                                    cause);
}

}  // namespace

bool IsSecretKey(const std::string& key) {
  for (const ConfigKey& k : KnownConfigKeys()) {
    if (key == k.name) return k.secret;
  }
  return EndsWith(key, "_TOKEN") || EndsWith(key, "_KEY") || EndsWith(key, "_SECRET") ||
         EndsWith(key, "_PASSWORD");
}

absl::StatusOr<Config> Config::Parse(const std::string& text, const std::string& origin) {
  Config config;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (t.rfind("export ", 0) == 0) t = Trim(t.substr(7));

    size_t eq = t.find('=');
    if (eq == std::string::npos) return LineError(origin, number, "expected KEY=VALUE");
    std::string key = Trim(t.substr(0, eq));
    if (key.empty() || !IsKeyChar(key[0], true)) {
      return LineError(origin, number, "invalid key \"" + key + "\"");
    }
    for (char c : key) {
      if (!IsKeyChar(c, false)) return LineError(origin, number, "invalid key \"" + key + "\"");
    }
    absl::StatusOr<std::string> value = ParseValue(t.substr(eq + 1));
    if (!value.ok())
      return LineError(origin, number, key + ": " + std::string(value.status().message()));
    config.values_[key] = *value;
  }
  return config;
}

absl::StatusOr<Config> Config::Load(const std::string& path, bool required, char** environ) {
  Config config;
  if (!path.empty()) {
    std::ifstream file(path);
    if (file) {
      std::stringstream text;
      text << file.rdbuf();
      absl::StatusOr<Config> parsed = Parse(text.str(), path);
      if (!parsed.ok()) return parsed.status();
      config = std::move(*parsed);
    } else if (required) {
      return absl::NotFoundError("read config " + path + ": file not found or unreadable");
    }
  }

  // The environment overrides known keys and keys the file mentions.
  std::set<std::string> overridable;
  for (const ConfigKey& k : KnownConfigKeys()) overridable.insert(k.name);
  for (const auto& [key, value] : config.values_) overridable.insert(key);
  for (char** env = environ; env != nullptr && *env != nullptr; ++env) {
    std::string entry(*env);
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string key = entry.substr(0, eq);
    if (overridable.count(key)) config.values_[key] = entry.substr(eq + 1);
  }
  return config;
}

void Config::Set(const std::string& key, const std::string& value) { values_[key] = value; }

bool Config::Has(const std::string& key) const { return values_.count(key) > 0; }

std::string Config::GetString(const std::string& key, const char* fallback) const {
  auto it = values_.find(key);
  if (it != values_.end()) return it->second;
  if (fallback != nullptr) return fallback;
  for (const ConfigKey& k : KnownConfigKeys()) {
    if (key == k.name) return k.default_value;
  }
  return "";
}

absl::StatusOr<int64_t> Config::GetInt(const std::string& key, int64_t fallback) const {
  auto it = values_.find(key);
  if (it == values_.end() || it->second.empty()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value)) {
    return absl::InvalidArgumentError("config " + key + ": \"" + it->second +
                                      "\" is not an integer");
  }
  return value;
}

absl::StatusOr<bool> Config::GetBool(const std::string& key, bool fallback) const {
  auto it = values_.find(key);
  if (it == values_.end() || it->second.empty()) return fallback;
  std::string v = it->second;
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  return absl::InvalidArgumentError("config " + key + ": \"" + it->second +
                                    "\" is not a boolean (use true or false)");
}

absl::StatusOr<absl::Duration> Config::GetDuration(const std::string& key,
                                                   absl::Duration fallback) const {
  auto it = values_.find(key);
  if (it == values_.end() || it->second.empty()) return fallback;
  absl::StatusOr<absl::Duration> d = ParseDuration(it->second);
  if (!d.ok())
    return absl::InvalidArgumentError("config " + key + ": " + std::string(d.status().message()));
  return d;
}

std::vector<std::string> Config::UnknownKeys() const {
  std::set<std::string> known;
  for (const ConfigKey& k : KnownConfigKeys()) known.insert(k.name);
  std::vector<std::string> unknown;
  for (const auto& [key, value] : values_) {
    if (!known.count(key)) unknown.push_back(key);
  }
  return unknown;
}

std::string Config::Redacted() const {
  std::string out;
  for (const auto& [key, value] : values_) {
    if (!out.empty()) out += ' ';
    out += key + "=" + (IsSecretKey(key) ? std::string("<redacted>") : value);
  }
  return out;
}

}  // namespace clawdie
