#include "services/clawctl/doctor_checks.h"

#include <set>

#include "absl/time/time.h"

namespace clawdie::clawctl {
namespace {

Finding Ok(const std::string& check, const std::string& detail) {
  return Finding{check, Severity::kOk, detail, ""};
}

Finding Warn(const std::string& check, const std::string& detail, const std::string& fix) {
  return Finding{check, Severity::kWarn, detail, fix};
}

Finding Fail(const std::string& check, const std::string& detail, const std::string& fix) {
  return Finding{check, Severity::kFail, detail, fix};
}

void CheckDuration(const Config& config, const char* key, std::vector<Finding>* findings) {
  auto value = config.GetDuration(key, absl::ZeroDuration());
  if (!value.ok()) {
    findings->push_back(Fail("config " + std::string(key), std::string(value.status().message()),
                             "use a duration such as 30m, 1h30m or 45s"));
  }
}

void CheckPositive(const Config& config, const char* key, std::vector<Finding>* findings) {
  auto value = config.GetInt(key, 1);
  if (!value.ok() || *value <= 0) {
    findings->push_back(Fail("config " + std::string(key),
                             key + std::string(" must be a positive number"),
                             "set " + std::string(key) + " to a whole number above 0"));
  }
}

void CheckOneOf(const Config& config, const char* key, const std::set<std::string>& allowed,
                std::vector<Finding>* findings) {
  std::string value = config.GetString(key);
  if (allowed.count(value) > 0) return;
  std::string list;
  for (const std::string& option : allowed) list += (list.empty() ? "" : ", ") + option;
  findings->push_back(Fail("config " + std::string(key), "\"" + value + "\" is not one of " + list,
                           "set " + std::string(key) + " to one of " + list));
}

std::string TextOr(const nlohmann::json& json, const char* key, const std::string& fallback) {
  auto it = json.find(key);
  return it != json.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace

std::string SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kOk:
      return "ok";
    case Severity::kWarn:
      return "warn";
    case Severity::kFail:
      break;
  }
  return "FAIL";
}

std::vector<Finding> CheckConfigValues(const Config& config) {
  std::vector<Finding> findings;
  for (const char* key : {"AGENT_TIMEOUT", "IDLE_TIMEOUT", "CLAWDIE_CALL_TIMEOUT"}) {
    CheckDuration(config, key, &findings);
  }
  for (const char* key : {"MAX_CONCURRENT_AGENTS", "CLAWDIE_AGENT_PIDS",
                          "CLAWDIE_PROMPT_MAX_MESSAGES", "CLAWDIE_MAX_MESSAGE_BYTES"}) {
    CheckPositive(config, key, &findings);
  }
  CheckOneOf(config, "CLAWDIE_SANDBOX", {"docker", "jail", "bwrap", "process"}, &findings);
  CheckOneOf(config, "CLAWDIE_MODEL_PROVIDER", {"anthropic", "openai"}, &findings);
  CheckOneOf(config, "TELEGRAM_MODE", {"poll", "webhook"}, &findings);
  for (const std::string& key : config.UnknownKeys()) {
    findings.push_back(Warn("config " + key, "not a clawdie key; it is ignored",
                            "check the spelling against docs/configuration.md"));
  }
  if (findings.empty()) findings.push_back(Ok("config values", "all values parse"));
  return findings;
}

Finding CheckTimeZone(const Config& config) {
  std::string name = config.GetString("TZ");
  absl::TimeZone zone;
  if (absl::LoadTimeZone(name, &zone)) return Ok("time zone", name);
  return Fail("time zone", "TZ \"" + name + "\" is not in the time zone database",
              "set TZ to an IANA name such as Europe/Berlin (see /usr/share/zoneinfo)");
}

Finding CheckModelKey(const Config& config, bool broker_says_present) {
  std::string provider = config.GetString("CLAWDIE_MODEL_PROVIDER");
  std::string key = provider == "openai" ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY";
  if (!config.GetString(key.c_str()).empty()) return Ok("model key", key + " is set");
  if (broker_says_present) return Ok("model key", "the broker reports its key is set");
  if (provider == "openai") {
    return Warn("model key", "OPENAI_API_KEY is not set",
                "set it if the server at CLAWDIE_MODEL_BASE_URL needs a key");
  }
  return Fail("model key", key + " is not set; agents cannot answer",
              "set " + key + " in the broker's configuration file");
}

Finding CheckDockerVersion(long http_code, const std::string& body) {
  constexpr char kCheck[] = "docker";
  if (http_code != 200) {
    return Fail(kCheck, "GET /version answered HTTP " + std::to_string(http_code),
                "check DOCKER_HOST and that dockerd is running");
  }
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("ApiVersion")) {
    return Fail(kCheck, "GET /version: not a Docker Engine answer",
                "check that DOCKER_HOST points at a Docker Engine");
  }
  return Ok(kCheck,
            "Engine " + TextOr(json, "Version", "?") + ", API " + TextOr(json, "ApiVersion", "?"));
}

Finding CheckTelegramGetMe(long http_code, const std::string& body) {
  constexpr char kCheck[] = "telegram";
  if (http_code == 401 || http_code == 404) {
    return Fail(kCheck, "getMe refused the token (HTTP " + std::to_string(http_code) + ")",
                "copy the token again from @BotFather into TELEGRAM_BOT_TOKEN");
  }
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  bool ok = json.is_object() && json.value("ok", false) && json.contains("result");
  if (http_code != 200 || !ok) {
    return Fail(kCheck, "getMe answered HTTP " + std::to_string(http_code),
                "check TELEGRAM_API_BASE and the network");
  }
  return Ok(kCheck, "token valid for @" + TextOr(json["result"], "username", "?"));
}

Finding CheckSocketPath(const std::string& service, const std::string& path, bool exists,
                        bool is_socket, unsigned dir_mode) {
  std::string check = "socket " + service;
  if ((dir_mode & 0002) != 0) {
    return Fail(check, "the directory of " + path + " is writable by everyone",
                "chmod 0750 the socket directory");
  }
  if (!exists) {
    return Fail(check, path + " does not exist",
                "start clawdie-" + service + " (service clawdie_" + service +
                    " start, or systemctl start clawdie-" + service + ")");
  }
  if (!is_socket) {
    return Fail(check, path + " is not a socket", "remove it and restart clawdie-" + service);
  }
  return Ok(check, path);
}

Table FindingsTable(const std::vector<Finding>& findings) {
  Table table({"CHECK", "RESULT", "DETAIL"});
  for (const Finding& finding : findings) {
    table.AddRow({finding.check, SeverityName(finding.severity), finding.detail});
  }
  return table;
}

nlohmann::json FindingsJson(const std::vector<Finding>& findings) {
  nlohmann::json json;
  bool ok = true;
  json["checks"] = nlohmann::json::array();
  for (const Finding& finding : findings) {
    ok = ok && finding.severity != Severity::kFail;
    json["checks"].push_back({{"check", finding.check},
                              {"result", SeverityName(finding.severity)},
                              {"detail", finding.detail},
                              {"fix", finding.fix}});
  }
  json["ok"] = ok;
  return json;
}

}  // namespace clawdie::clawctl
