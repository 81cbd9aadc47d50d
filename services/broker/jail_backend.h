// The `jail` backend (FreeBSD): one jail per run, created with `jail -c`
// from generated parameters on a thin root — the read-only base nullfs-mounted
// at the run's root, a tmpfs /tmp, nullfs mounts of the group folder (rw),
// the global folder (ro, rw for main), the IPC and model-socket folders and
// validated extra mounts; securelevel 3, enforce_statfs=2, children.max=0,
// every allow.* off, no IP unless the group's policy allows the network;
// rctl limits keyed by the jail name. The agent starts with `jexec` and
// pipes; teardown is `jail -r`, `rctl -r` and the unmounts in reverse order.
//
// With `persistent_jail` set (CLAWDIE_BASTILLE_JAIL) the backend creates no
// jail: agents run with jexec in the operator's existing jail (usually one
// managed by bastille). Each run gets /var/clawdie/<run id> in that jail with
// its group, global, IPC and socket folders nullfs-mounted for the run and
// unmounted after; memory and processes are limited by rlimits, the jail's
// own rctl rules apply to all runs together.
//
// The backend only runs jail(8), jexec(8), jls(8), mount_nullfs(8), mount(8),
// umount(8) and rctl(8) found on `command_path`, so on Linux its whole
// lifecycle is exercised with recording stand-ins for those programs
// (tests/fixtures/broker/jail-harness; see docs/broker.md).
//
// Thread-safety: Start may be called from many threads at once.
#ifndef CLAWDIE_SERVICES_BROKER_JAIL_BACKEND_H_
#define CLAWDIE_SERVICES_BROKER_JAIL_BACKEND_H_

#include <string>
#include <vector>

#include "services/broker/process_launcher.h"
#include "services/broker/sandbox.h"

namespace clawdie::broker {

struct JailOptions {
  // Read-only base root (CLAWDIE_JAIL_BASE); must hold the mount points
  // /tmp, /dev, /workspace/{group,global,ipc,extra} and /run/clawdie.
  std::string base_path = "/usr/local/clawdie/base";
  // User the agent runs as inside the jail (jexec -U).
  std::string user = "nobody";
  // Where the agent program is inside the base.
  std::string agent_path_inside = "/usr/local/bin/clawdie-agent";
  // PATH used to find jail, jexec, mount_nullfs, mount, umount and rctl.
  std::string command_path = "/usr/sbin:/sbin:/usr/bin:/bin";
  // Extra KEY=VALUE entries for those commands' environment (tests).
  std::vector<std::string> command_env;
  // Size of the jail's /tmp.
  int64_t tmp_bytes = 64 << 20;
  // Name of an existing, persistent jail the agents run in instead of one
  // jail per run (CLAWDIE_BASTILLE_JAIL); empty for a jail per run.
  std::string persistent_jail;
};

// Where a run's folders are inside a persistent jail.
inline constexpr char kRunsInPersistentJail[] = "/var/clawdie";

// The agent's paths for a run in a persistent jail: /var/clawdie/<run id>/
// group, global, extra, ipc and sock/model.sock.
AgentPaths PersistentJailPaths(const RunSpec& spec);

// The jail's name for a run: "clawdie_<run id with [.-] as _>_<8 hex of a hash>".
std::string JailName(const std::string& run_id);

// The `jail -c` arguments (after "jail") for `spec` rooted at `root`.
std::vector<std::string> BuildJailParameters(const RunSpec& spec, const std::string& root,
                                             const JailOptions& jail);

// The rctl rules for `spec`.
std::vector<std::string> BuildRctlRules(const RunSpec& spec);

// The jexec command line that starts the agent (in the run's jail, or in the
// persistent jail with the paths of PersistentJailPaths).
std::vector<std::string> BuildJexecCommand(const RunSpec& spec, const SandboxOptions& options,
                                           const JailOptions& jail);

class JailBackend : public SandboxBackend {
 public:
  JailBackend(SandboxOptions options, JailOptions jail,
              ProcessLauncher& launcher = DefaultProcessLauncher());

  std::string name() const override { return "jail"; }
  absl::StatusOr<std::string> Version() override;
  absl::Status Init() override;
  absl::StatusOr<std::unique_ptr<Sandbox>> Start(const RunSpec& spec) override;

 private:
  // Runs a helper command; errors carry its output.
  absl::Status Run(const std::vector<std::string>& argv) const;
  // Runs a helper command and returns what it printed, without the last newline.
  absl::StatusOr<std::string> RunForOutput(const std::vector<std::string>& argv) const;
  // The root folder of the persistent jail (jls); FailedPrecondition when it is not running.
  absl::StatusOr<std::string> PersistentJailRoot() const;
  absl::StatusOr<std::unique_ptr<Sandbox>> StartInPersistentJail(const RunSpec& spec);
  absl::Status StartAgent(StepRunner& steps, const RunSpec& spec, LaunchedProcess* process) const;
  // Adds a mount step whose undo unmounts.
  absl::Status Mount(StepRunner& steps, const std::vector<std::string>& argv,
                     const std::string& target) const;
  absl::Status MountAll(StepRunner& steps, const RunSpec& spec, const std::string& root) const;

  const SandboxOptions options_;
  const JailOptions jail_;
  ProcessLauncher& launcher_;
};

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_JAIL_BACKEND_H_
