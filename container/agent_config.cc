#include "container/agent_config.h"

#include <charconv>
#include <fstream>

#include "absl/status/status.h"

namespace clawdie::agent {
namespace {

using Getenv = std::function<const char*(const char*)>;

std::string Env(const Getenv& getenv, const char* name) {
  const char* value = getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// Parses a positive integer variable into `out`; leaves `out` alone when unset.
absl::Status ReadPositive(const Getenv& getenv, const char* name, long long* out) {
  std::string text = Env(getenv, name);
  if (text.empty()) return absl::OkStatus();
  long long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value <= 0) {
    return absl::InvalidArgumentError("environment " + std::string(name) + "=\"" + text +
                                      "\": expected a positive integer");
  }
  *out = value;
  return absl::OkStatus();
}

absl::Status ReadLimits(const Getenv& getenv, AgentConfig& config) {
  long long max_tokens = config.max_tokens;
  long long budget = static_cast<long long>(config.context_token_budget);
  long long bash_timeout = config.bash_timeout.count();
  long long cap = static_cast<long long>(config.tool_output_cap);
  for (auto [name, target] :
       {std::pair{"CLAWDIE_MAX_TOKENS", &max_tokens}, std::pair{"CLAWDIE_CONTEXT_TOKENS", &budget},
        std::pair{"CLAWDIE_BASH_TIMEOUT", &bash_timeout},
        std::pair{"CLAWDIE_TOOL_OUTPUT_CAP", &cap}}) {
    if (absl::Status status = ReadPositive(getenv, name, target); !status.ok()) return status;
  }
  config.max_tokens = static_cast<int>(max_tokens);
  config.context_token_budget = static_cast<size_t>(budget);
  config.bash_timeout = std::chrono::seconds(bash_timeout);
  config.tool_output_cap = static_cast<size_t>(cap);
  std::string summarize = Env(getenv, "CLAWDIE_SUMMARIZE");
  if (!summarize.empty()) config.summarize_old_turns = summarize != "0" && summarize != "false";
  return absl::OkStatus();
}

std::string Unquote(std::string value) {
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) {
    value.pop_back();
  }
  size_t begin = value.find_first_not_of(" \t");
  value = begin == std::string::npos ? "" : value.substr(begin);
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    return value.substr(1, value.size() - 2);
  }
  return value;
}

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> ReadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in.is_open()) return absl::NotFoundError("config " + path + ": cannot open");
  std::map<std::string, std::string> values;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    line = line.substr(start);
    if (line.rfind("export ", 0) == 0) line = line.substr(7);
    size_t equals = line.find('=');
    if (equals == std::string::npos || equals == 0) {
      return absl::InvalidArgumentError("config " + path + " line " + std::to_string(number) +
                                        ": expected KEY=VALUE");
    }
    values[Unquote(line.substr(0, equals))] = Unquote(line.substr(equals + 1));
  }
  return values;
}

std::string DefaultModel(const std::string& provider) {
  return provider == "openai" ? "llama3.1" : "claude-sonnet-4-5";
}

absl::StatusOr<AgentConfig> LoadAgentConfig(const Getenv& getenv) {
  AgentConfig config;
  if (std::string v = Env(getenv, "NANOCLAW_WORKSPACE"); !v.empty()) {
    config.workspace = v;
    config.conversations_dir = config.workspace / "conversations";
  }
  if (std::string v = Env(getenv, "NANOCLAW_CONVERSATIONS_DIR"); !v.empty()) {
    config.conversations_dir = v;
  }
  if (std::string v = Env(getenv, "NANOCLAW_GLOBAL_MD"); !v.empty()) config.global_md = v;
  if (std::string v = Env(getenv, "NANOCLAW_EXTRA_DIR"); !v.empty()) config.extra_dir = v;
  if (std::string v = Env(getenv, "NANOCLAW_IPC_DIR"); !v.empty()) config.ipc_dir = v;

  if (std::string v = Env(getenv, "CLAWDIE_MODEL_PROVIDER"); !v.empty()) {
    if (v != "anthropic" && v != "openai") {
      return absl::InvalidArgumentError("environment CLAWDIE_MODEL_PROVIDER=\"" + v +
                                        "\": expected anthropic or openai");
    }
    config.provider = v;
  }
  config.model = Env(getenv, "CLAWDIE_MODEL");
  config.model_socket = Env(getenv, "CLAWDIE_MODEL_SOCKET");
  config.model_base_url = Env(getenv, "CLAWDIE_MODEL_BASE_URL");
  config.anthropic_api_key = Env(getenv, "ANTHROPIC_API_KEY");
  config.openai_api_key = Env(getenv, "OPENAI_API_KEY");
  if (absl::Status status = ReadLimits(getenv, config); !status.ok()) return status;
  return config;
}

}  // namespace clawdie::agent
