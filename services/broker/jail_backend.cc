#include "services/broker/jail_backend.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include "common/logging.h"
#include "services/broker/pipe_sandbox.h"

namespace clawdie::broker {
namespace {

std::shared_ptr<spdlog::logger> JailLog() { return GetLogger("jail"); }

// The jail's root inside the run folder.
std::string JailRoot(const RunSpec& spec) { return spec.run_state_dir() + "/root"; }

std::string Join(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
  return text;
}

}  // namespace

std::string JailName(const std::string& run_id) {
  uint32_t hash = 2166136261u;  // FNV-1a keeps names distinct after '.' and '-' become '_'
  for (unsigned char c : run_id) hash = (hash ^ c) * 16777619u;
  std::string name = "clawdie_";
  for (char c : run_id) name.push_back(c == '.' || c == '-' ? '_' : c);
  char suffix[10];
  std::snprintf(suffix, sizeof(suffix), "_%08x", hash);
  return name + suffix;
}

std::vector<std::string> BuildJailParameters(const RunSpec& spec, const std::string& root,
                                             const JailOptions& jail) {
  bool network = spec.network() == NetworkPolicy::kFull;
  return {"-c",
          "name=" + JailName(spec.run_id()),
          "path=" + root,
          "host.hostname=clawdie",
          "persist",
          "securelevel=3",
          "enforce_statfs=2",
          "children.max=0",
          "devfs_ruleset=4",
          "mount.devfs",
          "allow.set_hostname=0",
          "allow.sysvipc=0",
          "allow.raw_sockets=0",
          "allow.chflags=0",
          "allow.mount=0",
          "allow.mlock=0",
          "allow.quotas=0",
          "allow.socket_af=0",
          "allow.reserved_ports=0",
          "allow.read_msgbuf=0",
          "allow.unprivileged_proc_debug=0",
          "allow.suser=0",
          network ? "ip4=inherit" : "ip4=disable",
          network ? "ip6=inherit" : "ip6=disable"};
}

std::vector<std::string> BuildRctlRules(const RunSpec& spec) {
  std::string subject = "jail:" + JailName(spec.run_id()) + ":";
  const Limits& limits = spec.limits();
  return {subject + "memoryuse:deny=" + std::to_string(limits.memory_bytes),
          subject + "maxproc:deny=" + std::to_string(limits.pids),
          subject + "pcpu:deny=" + std::to_string(std::max<int64_t>(1, limits.cpu_millis / 10))};
}

std::vector<std::string> BuildJexecCommand(const RunSpec& spec, const SandboxOptions& options,
                                           const JailOptions& jail) {
  std::vector<std::string> argv = {"jexec",        "-l", "-U", jail.user, JailName(spec.run_id()),
                                   "/usr/bin/env", "-i"};
  for (const auto& entry : AgentEnvironment(AgentPaths(), options)) argv.push_back(entry);
  argv.push_back(jail.agent_path_inside);
  argv.insert(argv.end(), options.agent_args.begin(), options.agent_args.end());
  return argv;
}

JailBackend::JailBackend(SandboxOptions options, JailOptions jail, ProcessLauncher& launcher)
    : options_(std::move(options)), jail_(std::move(jail)), launcher_(launcher) {}

absl::Status JailBackend::Run(const std::vector<std::string>& argv) const {
  LaunchOptions launch;
  launch.argv = argv;
  launch.env = {"PATH=" + jail_.command_path};
  launch.env.insert(launch.env.end(), jail_.command_env.begin(), jail_.command_env.end());
  auto result = RunCommand(launcher_, launch, 4096);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    std::string output = result->output;
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return absl::InternalError(Join(argv) + ": exit code " + std::to_string(result->exit_code) +
                               (output.empty() ? "" : ": " + output));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> JailBackend::Version() {
  LaunchOptions launch;
  launch.argv = {"uname", "-r"};
  launch.env = {"PATH=" + jail_.command_path};
  auto result = RunCommand(launcher_, launch, 256);
  if (!result.ok()) return result.status();
  std::string release = result->output;
  while (!release.empty() && release.back() == '\n') release.pop_back();
  return "jail on " + release;
}

absl::Status JailBackend::Init() {
  struct stat info = {};
  if (::stat(jail_.base_path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError("open jail base " + jail_.base_path + ": " +
                                         (errno != 0 ? strerror(errno) : "not a directory"));
  }
  JailLog()->info("sandbox backend jail: base {}", jail_.base_path);
  return absl::OkStatus();
}

absl::Status JailBackend::Mount(StepRunner& steps, const std::vector<std::string>& argv,
                                const std::string& target) const {
  return steps.Run(
      "mount " + target, [&] { return Run(argv); },
      [this, target] {
        if (auto status = Run({"umount", "-f", target}); !status.ok()) {
          JailLog()->warn("{}", std::string(status.message()));
        }
      });
}

absl::Status JailBackend::MountAll(StepRunner& steps, const RunSpec& spec,
                                   const std::string& root) const {
  AgentPaths paths;
  std::vector<std::vector<std::string>> mounts = {
      {"mount_nullfs", "-o", "ro", jail_.base_path, root},
      {"mount", "-t", "tmpfs", "-o", "size=" + std::to_string(jail_.tmp_bytes), "tmpfs",
       root + "/tmp"},
      {"mount_nullfs", "-o", "rw", spec.group_dir(), root + paths.workspace},
      {"mount_nullfs", "-o", spec.is_main() ? "rw" : "ro", spec.global_dir(),
       root + paths.global_dir},
      {"mount_nullfs", "-o", "rw", spec.run_state_dir() + "/ipc", root + paths.ipc_dir},
      {"mount_nullfs", "-o", "ro", spec.run_state_dir() + "/sock", root + "/run/clawdie"}};
  if (!spec.mounts().empty()) {
    mounts.push_back({"mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", root + paths.extra_dir});
  }
  for (const auto& argv : mounts) {
    if (auto status = Mount(steps, argv, argv.back()); !status.ok()) return status;
  }
  for (const auto& mount : spec.mounts()) {
    std::string target = root + mount.sandbox_path;
    // The tmpfs is fresh and the jail does not exist yet: nothing can race this mkdir.
    ::mkdir(target.c_str(), 0755);
    std::vector<std::string> argv = {"mount_nullfs", "-o", mount.read_write ? "rw" : "ro",
                                     mount.host_path, target};
    if (auto status = Mount(steps, argv, target); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Sandbox>> JailBackend::Start(const RunSpec& spec) {
  auto steps = std::make_unique<StepRunner>("sandbox " + spec.run_id(), options_.step_hook);
  if (auto status = RunCommonSteps(*steps, spec, options_); !status.ok()) return status;
  const std::string root = JailRoot(spec);
  const std::string name = JailName(spec.run_id());

  absl::Status status = steps->Run(
      "create jail root",
      [&]() -> absl::Status {
        if (::mkdir(root.c_str(), 0755) == 0) return absl::OkStatus();
        return absl::InternalError("create folder " + root + ": " + strerror(errno));
      },
      [root] { ::rmdir(root.c_str()); });
  if (!status.ok()) return status;
  if (status = MountAll(*steps, spec, root); !status.ok()) return status;

  std::vector<std::string> create = {"jail"};
  for (auto& param : BuildJailParameters(spec, root, jail_)) create.push_back(param);
  // Kill and teardown both remove the jail; only the first does it.
  auto removed = std::make_shared<std::atomic<bool>>(false);
  auto remove_jail = [this, name, removed] {
    if (removed->exchange(true)) return;
    if (auto status = Run({"jail", "-r", name}); !status.ok()) {
      JailLog()->warn("{}", std::string(status.message()));
    }
  };
  status = steps->Run(
      "create jail", [&] { return Run(create); }, remove_jail);
  if (!status.ok()) return status;

  status = steps->Run(
      "add rctl rules",
      [&]() -> absl::Status {
        for (const auto& rule : BuildRctlRules(spec)) {
          if (auto added = Run({"rctl", "-a", rule}); !added.ok()) return added;
        }
        return absl::OkStatus();
      },
      [this, name] {
        Run({"rctl", "-r", "jail:" + name}).IgnoreError();
      });
  if (!status.ok()) return status;

  LaunchOptions launch;
  launch.argv = BuildJexecCommand(spec, options_, jail_);
  launch.env = {"PATH=" + jail_.command_path};
  launch.env.insert(launch.env.end(), jail_.command_env.begin(), jail_.command_env.end());
  LaunchedProcess process;
  status = steps->Run("start agent", [&]() -> absl::Status {
    auto launched = launcher_.Launch(launch);
    if (!launched.ok()) return launched.status();
    process = *std::move(launched);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return std::make_unique<PipeSandbox>(name, std::move(process), launcher_, std::move(steps),
                                       remove_jail);
}

}  // namespace clawdie::broker
