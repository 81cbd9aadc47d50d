// The `bwrap` backend (Linux): each run is a bubblewrap sandbox with new
// user, pid, net (unless the group's policy allows the network), ipc and uts
// namespaces, read-only binds of the system directories and a few /etc files,
// the group folder read-write, the global folder read-only (read-write for
// main), the model socket folder, validated extra mounts, --die-with-parent,
// and rlimits for memory (RLIMIT_AS) and processes (RLIMIT_NPROC). When the
// broker runs as root, bwrap itself runs as the unprivileged sandbox user so
// that RLIMIT_NPROC applies, and binds its sources from a private stage (see
// StageBwrapSources).
//
// Thread-safety: Start may be called from many threads at once.
#ifndef CLAWDIE_SERVICES_BROKER_BWRAP_BACKEND_H_
#define CLAWDIE_SERVICES_BROKER_BWRAP_BACKEND_H_

#include <string>
#include <vector>

#include "services/broker/process_launcher.h"
#include "services/broker/sandbox.h"

namespace clawdie::broker {

struct BwrapOptions {
  // The bwrap program.
  std::string bwrap_path = "/usr/bin/bwrap";
  // Host directories bound read-only at the same place (skipped if missing).
  std::vector<std::string> system_dirs = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64"};
  // Host /etc entries bound read-only (skipped if missing). /etc as a whole is
  // never bound: it holds the broker's configuration.
  std::vector<std::string> etc_entries = {
      "/etc/ld.so.cache", "/etc/ld.so.conf",    "/etc/ld.so.conf.d", "/etc/alternatives",
      "/etc/localtime",   "/etc/nsswitch.conf", "/etc/passwd",       "/etc/group"};
  // Where the agent program appears inside the sandbox.
  std::string agent_path_inside = "/opt/clawdie/bin/clawdie-agent";
};

// The bwrap command line for `spec` (argv[0] is options.bwrap_path).
std::vector<std::string> BuildBwrapArgs(const RunSpec& spec, const SandboxOptions& options,
                                        const BwrapOptions& bwrap);

// When the broker runs as root, bwrap runs as the sandbox user and could not reach sources
// below directories only root may enter. This rewrites each --bind/--ro-bind source in `args`
// (not the system directories, which are world-readable) to a path under a stage the launched
// child prepares while still root (LaunchOptions::stage_root), and records the mounts.
void StageBwrapSources(std::vector<std::string>& args, LaunchOptions& launch);

class BwrapBackend : public SandboxBackend {
 public:
  BwrapBackend(SandboxOptions options, BwrapOptions bwrap,
               ProcessLauncher& launcher = DefaultProcessLauncher());

  std::string name() const override { return "bwrap"; }
  absl::StatusOr<std::string> Version() override;
  absl::Status Init() override;
  absl::StatusOr<std::unique_ptr<Sandbox>> Start(const RunSpec& spec) override;

 private:
  LaunchOptions BuildLaunch(const RunSpec& spec) const;

  const SandboxOptions options_;
  const BwrapOptions bwrap_;
  ProcessLauncher& launcher_;
};

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_BWRAP_BACKEND_H_
