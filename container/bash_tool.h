// Runs one shell command for the `bash` tool: `/bin/sh -c` in its own process group, in the
// workspace, stdin from /dev/null, stdout and stderr merged, with a timeout (the whole group is
// killed) and an output cap (the rest is counted, not kept).
//
// Thread-safety: RunShellCommand may be called from several threads; it only forks and execs
// between fork and exec.
#ifndef CLAWDIE_CONTAINER_BASH_TOOL_H_
#define CLAWDIE_CONTAINER_BASH_TOOL_H_

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"

namespace clawdie::agent {

struct ShellResult {
  std::string output;      // at most the cap, merged stdout + stderr
  size_t total_bytes = 0;  // everything the command printed
  bool truncated = false;
  bool timed_out = false;
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
};

// Returns Internal "spawn /bin/sh: <cause>" when the process cannot be started.
absl::StatusOr<ShellResult> RunShellCommand(const std::string& command,
                                            const std::filesystem::path& cwd,
                                            std::chrono::milliseconds timeout, size_t output_cap);

// The text the model sees: the output, then bracketed notes on truncation, timeout and exit.
std::string DescribeShellResult(const ShellResult& result, std::chrono::milliseconds timeout);

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_BASH_TOOL_H_
