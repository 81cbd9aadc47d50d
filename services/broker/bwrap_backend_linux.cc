#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logging.h"
#include "services/broker/bwrap_backend.h"
#include "services/broker/pipe_sandbox.h"

namespace clawdie::broker {
namespace {

void Add(std::vector<std::string>& args, std::initializer_list<std::string> more) {
  args.insert(args.end(), more.begin(), more.end());
}

}  // namespace

void StageBwrapSources(std::vector<std::string>& args, LaunchOptions& launch) {
  launch.stage_root = "/tmp";
  for (size_t i = 1; i + 2 < args.size(); ++i) {
    if (args[i] == "--") break;
    if (args[i] != "--bind" && args[i] != "--ro-bind") continue;
    StagedMount staged;
    staged.source = args[i + 1];
    staged.target = "/tmp/" + std::to_string(launch.staged_mounts.size());
    struct stat info;
    staged.directory = ::stat(staged.source.c_str(), &info) != 0 || S_ISDIR(info.st_mode);
    args[i + 1] = staged.target;
    launch.staged_mounts.push_back(std::move(staged));
    i += 2;
  }
}

std::vector<std::string> BuildBwrapArgs(const RunSpec& spec, const SandboxOptions& options,
                                        const BwrapOptions& bwrap) {
  AgentPaths paths;
  std::vector<std::string> args = {bwrap.bwrap_path, "--die-with-parent",   "--new-session",
                                   "--unshare-user", "--unshare-pid",       "--unshare-ipc",
                                   "--unshare-uts",  "--unshare-cgroup-try"};
  if (spec.network() == NetworkPolicy::kNone) args.push_back("--unshare-net");
  Add(args, {"--hostname", "clawdie"});
  for (const auto& dir : bwrap.system_dirs) Add(args, {"--ro-bind-try", dir, dir});
  for (const auto& entry : bwrap.etc_entries) Add(args, {"--ro-bind-try", entry, entry});
  Add(args, {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"});

  Add(args, {"--bind", spec.group_dir(), paths.workspace});
  Add(args, {spec.is_main() ? "--bind" : "--ro-bind", spec.global_dir(), paths.global_dir});
  Add(args, {"--bind", spec.run_state_dir() + "/ipc", paths.ipc_dir});
  Add(args, {"--ro-bind", spec.run_state_dir() + "/sock", "/run/clawdie"});
  for (const auto& mount : spec.mounts()) {
    Add(args, {mount.read_write ? "--bind" : "--ro-bind", mount.host_path, mount.sandbox_path});
  }
  Add(args, {"--ro-bind", options.agent_command, bwrap.agent_path_inside});
  Add(args, {"--chdir", paths.workspace, "--", bwrap.agent_path_inside});
  args.insert(args.end(), options.agent_args.begin(), options.agent_args.end());
  return args;
}

BwrapBackend::BwrapBackend(SandboxOptions options, BwrapOptions bwrap, ProcessLauncher& launcher)
    : options_(std::move(options)), bwrap_(std::move(bwrap)), launcher_(launcher) {}

absl::StatusOr<std::string> BwrapBackend::Version() {
  LaunchOptions launch;
  launch.argv = {bwrap_.bwrap_path, "--version"};
  auto result = RunCommand(launcher_, launch, 4096);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return absl::UnavailableError("run " + bwrap_.bwrap_path + " --version: exit code " +
                                  std::to_string(result->exit_code));
  }
  std::string version = result->output;
  while (!version.empty() && (version.back() == '\n' || version.back() == ' ')) version.pop_back();
  return version;
}

absl::Status BwrapBackend::Init() {
  auto version = Version();
  if (!version.ok()) return version.status();
  GetLogger("broker")->info("sandbox backend bwrap: {}", *version);
  return absl::OkStatus();
}

LaunchOptions BwrapBackend::BuildLaunch(const RunSpec& spec) const {
  LaunchOptions launch;
  launch.argv = BuildBwrapArgs(spec, options_, bwrap_);
  launch.env = AgentEnvironment(AgentPaths(), options_);
  const Limits& limits = spec.limits();
  launch.rlimits = {{RLIMIT_CORE, 0},
                    {RLIMIT_NPROC, static_cast<rlim_t>(limits.pids)},
                    {RLIMIT_AS, static_cast<rlim_t>(limits.memory_bytes)}};
  if (::geteuid() == 0) {
    launch.uid = options_.sandbox_uid;
    launch.gid = options_.sandbox_gid;
    StageBwrapSources(launch.argv, launch);
  }
  return launch;
}

absl::StatusOr<std::unique_ptr<Sandbox>> BwrapBackend::Start(const RunSpec& spec) {
  auto steps = std::make_unique<StepRunner>("sandbox " + spec.run_id(), options_.step_hook);
  if (auto status = RunCommonSteps(*steps, spec, options_); !status.ok()) return status;

  LaunchedProcess process;
  absl::Status status = steps->Run("start bwrap", [&]() -> absl::Status {
    auto launched = launcher_.Launch(BuildLaunch(spec));
    if (!launched.ok()) return launched.status();
    process = *std::move(launched);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  std::string id = "bwrap-" + std::to_string(process.pid);
  return std::make_unique<PipeSandbox>(id, std::move(process), launcher_, std::move(steps));
}

}  // namespace clawdie::broker
