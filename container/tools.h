// The tools the agent offers the model: built-in tools that run here in the sandbox (`bash`,
// `read_file`, `write_file`, `edit_file`, `list_files`, `grep`) and the clawdie tools that the
// router carries out (`send_message`, `schedule_task`, `list_tasks`, `pause_task`,
// `resume_task`, `cancel_task`, `register_group`), which the agent turns into `tool_call`
// events.
//
// Relative paths are taken from the workspace; absolute paths are allowed because the sandbox,
// not the agent, is the security boundary.
//
// Thread-safety: BuiltinTools is immutable after construction; Run may be called from several
// threads.
#ifndef CLAWDIE_CONTAINER_TOOLS_H_
#define CLAWDIE_CONTAINER_TOOLS_H_

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "container/model_types.h"

namespace clawdie::agent {

// The built-in tools' schemas.
std::vector<ToolSpec> BuiltinToolSpecs();

// The clawdie tools' schemas; `register_group` only for the main group.
std::vector<ToolSpec> ClawdieToolSpecs(bool is_main);

// True for a tool the router carries out.
bool IsClawdieTool(std::string_view name);

// What a tool returns to the model.
struct ToolOutcome {
  std::string content;
  bool is_error = false;
};

struct BuiltinToolLimits {
  std::chrono::seconds bash_timeout{300};
  std::chrono::seconds bash_max_timeout{1800};
  size_t output_cap = 32 * 1024;
};

class BuiltinTools {
 public:
  BuiltinTools(std::filesystem::path workspace, BuiltinToolLimits limits)
      : workspace_(std::move(workspace)), limits_(limits) {}

  // Runs built-in tool `name`; nullopt when `name` is not a built-in tool. Problems (bad
  // input, missing file, ambiguous edit) are returned as an error outcome for the model.
  std::optional<ToolOutcome> Run(std::string_view name, const nlohmann::json& input) const;

 private:
  std::filesystem::path Resolve(const std::string& path) const;
  ToolOutcome Bash(const nlohmann::json& input) const;
  ToolOutcome ReadFile(const nlohmann::json& input) const;
  ToolOutcome WriteFile(const nlohmann::json& input) const;
  ToolOutcome EditFile(const nlohmann::json& input) const;
  ToolOutcome ListFiles(const nlohmann::json& input) const;
  ToolOutcome Grep(const nlohmann::json& input) const;

  std::filesystem::path workspace_;
  BuiltinToolLimits limits_;
};

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_TOOLS_H_
