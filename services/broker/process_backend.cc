#include "services/broker/process_backend.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>

#include "common/logging.h"
#include "services/broker/pipe_sandbox.h"

namespace clawdie::broker {
namespace {

absl::Status LinkExtraMounts(const RunSpec& spec) {
  std::string extra = spec.run_state_dir() + "/extra";
  if (::mkdir(extra.c_str(), 0755) != 0) {
    return absl::InternalError("create folder " + extra + ": " + strerror(errno));
  }
  for (const auto& mount : spec.mounts()) {
    std::string link = extra + mount.sandbox_path.substr(mount.sandbox_path.rfind('/'));
    if (::symlink(mount.host_path.c_str(), link.c_str()) != 0) {
      return absl::InternalError("symlink " + link + ": " + strerror(errno));
    }
  }
  return absl::OkStatus();
}

}  // namespace

ProcessBackend::ProcessBackend(SandboxOptions options, ProcessLauncher& launcher)
    : options_(std::move(options)), launcher_(launcher) {}

absl::StatusOr<std::string> ProcessBackend::Version() {
  struct utsname name = {};
  ::uname(&name);
  return std::string(name.sysname) + " " + name.release;
}

absl::Status ProcessBackend::Init() {
  GetLogger("broker")->warn(
      "sandbox backend process: agents run without any isolation, as the broker's user");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Sandbox>> ProcessBackend::Start(const RunSpec& spec) {
  auto steps = std::make_unique<StepRunner>("sandbox " + spec.run_id(), options_.step_hook);
  if (auto status = RunCommonSteps(*steps, spec, options_); !status.ok()) return status;
  if (auto status = steps->Run("link extra mounts", [&] { return LinkExtraMounts(spec); });
      !status.ok()) {
    return status;
  }

  AgentPaths paths;
  paths.workspace = spec.group_dir();
  paths.global_dir = spec.global_dir();
  paths.extra_dir = spec.run_state_dir() + "/extra";
  paths.ipc_dir = spec.run_state_dir() + "/ipc";
  paths.model_socket = spec.model_socket_path();
  LaunchOptions launch;
  launch.argv.push_back(options_.agent_command);
  launch.argv.insert(launch.argv.end(), options_.agent_args.begin(), options_.agent_args.end());
  launch.env = AgentEnvironment(paths, options_);
  launch.working_dir = spec.group_dir();

  LaunchedProcess process;
  absl::Status status = steps->Run("start agent", [&]() -> absl::Status {
    auto launched = launcher_.Launch(launch);
    if (!launched.ok()) return launched.status();
    process = *std::move(launched);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  std::string id = std::to_string(process.pid);
  return std::make_unique<PipeSandbox>(id, std::move(process), launcher_, std::move(steps));
}

}  // namespace clawdie::broker
