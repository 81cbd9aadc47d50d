// Starting and signalling child processes, behind an interface so tests can
// make fork/exec fail. The POSIX implementation forks, puts the child in its
// own session (so the whole tree can be killed as a process group), applies
// rlimits and credentials, connects three pipes and execs.
//
// Thread-safety: PosixProcessLauncher is stateless and safe from any thread.
#ifndef CLAWDIE_SERVICES_BROKER_PROCESS_LAUNCHER_H_
#define CLAWDIE_SERVICES_BROKER_PROCESS_LAUNCHER_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/broker/unique_fd.h"

namespace clawdie::broker {

struct ResourceLimit {
  int resource = 0;  // RLIMIT_*
  rlim_t value = 0;  // soft and hard
};

// A path the child binds into its own mount namespace before it drops privileges.
struct StagedMount {
  std::string source;  // host path, opened by the child while it is still root
  std::string target;  // an absolute path under LaunchOptions::stage_root
  bool directory = true;
};

struct LaunchOptions {
  // argv[0] is the program; it is looked up on the PATH in `env` when it has no slash.
  std::vector<std::string> argv;
  // The complete environment (KEY=VALUE); nothing is inherited.
  std::vector<std::string> env;
  // Working directory; empty keeps the broker's.
  std::string working_dir;
  std::vector<ResourceLimit> rlimits;
  // Switch to these ids before exec (only possible as root).
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  // Give the child pipes for stdin/stdout/stderr; otherwise /dev/null and the
  // broker's stderr.
  bool pipes = true;
  // Send stderr into the stdout pipe.
  bool stderr_to_stdout = false;
  // Linux, root only (see process_stage_linux.cc): before switching to `uid`, the child enters
  // a private mount namespace, mounts a tmpfs at `stage_root` and binds each source at its
  // target there. An unprivileged child can then reach folders whose parent directories only
  // root may traverse. At most kMaxStagedMounts; empty `stage_root` = no staging.
  std::string stage_root;
  std::vector<StagedMount> staged_mounts;
};

inline constexpr size_t kMaxStagedMounts = 32;

// Runs in the forked child (async-signal-safe calls only): performs the staging described in
// LaunchOptions. Returns false with errno set on failure. Platform file: process_stage_*.cc.
bool EnterMountStage(const LaunchOptions& options);

struct LaunchedProcess {
  pid_t pid = -1;
  UniqueFd stdin_fd;
  UniqueFd stdout_fd;
  UniqueFd stderr_fd;
};

class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;

  // Starts the program. Returns the child once exec succeeded; an exec
  // failure is reported as `exec <program>: <cause>` and the child is reaped.
  virtual absl::StatusOr<LaunchedProcess> Launch(const LaunchOptions& options) = 0;

  // Sends `signal` to the process group `pgid` (the child's session).
  virtual void KillGroup(pid_t pgid, int signal) = 0;
};

class PosixProcessLauncher : public ProcessLauncher {
 public:
  absl::StatusOr<LaunchedProcess> Launch(const LaunchOptions& options) override;
  void KillGroup(pid_t pgid, int signal) override;
};

// The process-wide launcher.
ProcessLauncher& DefaultProcessLauncher();

// Runs a program to completion, capturing stdout (capped at `max_output`
// bytes). Returns its exit code and output; used for short helper commands.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
absl::StatusOr<CommandResult> RunCommand(ProcessLauncher& launcher, const LaunchOptions& options,
                                         size_t max_output = 1 << 20);

// Ignores SIGPIPE in the process once, so writes to a closed pipe or socket
// return EPIPE instead of killing the broker.
void IgnoreSigpipe();

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_PROCESS_LAUNCHER_H_
