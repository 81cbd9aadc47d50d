// The agent's settings: sandbox paths (DESIGN.md §6), how to reach the model, and limits.
// Read from the environment by LoadAgentConfig; tests build the struct directly.
//
// Thread-safety: plain value, immutable once the agent starts.
#ifndef CLAWDIE_CONTAINER_AGENT_CONFIG_H_
#define CLAWDIE_CONTAINER_AGENT_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "container/model_client.h"

namespace clawdie::agent {

struct AgentConfig {
  // Sandbox paths.
  std::filesystem::path workspace = "/workspace/group";
  std::filesystem::path conversations_dir = "/workspace/group/conversations";
  std::filesystem::path global_md = "/workspace/global/CLAUDE.md";
  std::filesystem::path extra_dir = "/workspace/extra";
  std::filesystem::path ipc_dir = "/workspace/ipc/input";

  // The model. Empty socket and base URL mean no model is configured.
  std::string provider = "anthropic";  // CLAWDIE_MODEL_PROVIDER
  std::string model;                   // CLAWDIE_MODEL; empty = the engine's default
  std::string model_socket;            // CLAWDIE_MODEL_SOCKET
  std::string model_base_url;          // CLAWDIE_MODEL_BASE_URL
  // Only for direct use without the broker's proxy; never logged.
  std::string anthropic_api_key;  // ANTHROPIC_API_KEY
  std::string openai_api_key;     // OPENAI_API_KEY
  int max_tokens = 8192;          // CLAWDIE_MAX_TOKENS
  RetryPolicy retry;

  // Sessions.
  size_t context_token_budget = 150000;  // CLAWDIE_CONTEXT_TOKENS
  bool summarize_old_turns = true;       // CLAWDIE_SUMMARIZE (0 = drop instead)

  // Tools.
  std::chrono::seconds bash_timeout{300};         // CLAWDIE_BASH_TIMEOUT, seconds
  std::chrono::seconds bash_max_timeout{1800};    // upper bound a model may ask for
  size_t tool_output_cap = 32 * 1024;             // CLAWDIE_TOOL_OUTPUT_CAP, bytes
  std::chrono::seconds tool_result_timeout{600};  // wait for the router's tool_result
  int max_tool_rounds = 100;                      // model calls per turn
  std::chrono::milliseconds ipc_poll_interval{250};
};

// The default model name for `provider`.
std::string DefaultModel(const std::string& provider);

// Parses a KEY=VALUE file (DESIGN.md §2: `#` comments, optional quotes, an `export ` prefix).
// Returns InvalidArgument "config <path> line N: <cause>", or NotFound if it cannot be read.
// The agent keeps its own small reader so that it does not link the services' gRPC-based
// common library.
absl::StatusOr<std::map<std::string, std::string>> ReadConfigFile(const std::string& path);

// Reads the settings from `getenv` (std::getenv in production). Returns InvalidArgument naming
// the variable when a value does not parse.
absl::StatusOr<AgentConfig> LoadAgentConfig(const std::function<const char*(const char*)>& getenv);

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_AGENT_CONFIG_H_
