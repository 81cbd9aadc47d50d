#include "services/broker/jail_backend.h"

#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include "common/logging.h"
#include "services/broker/pipe_sandbox.h"
#include "services/broker/unique_fd.h"

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

// The name of an extra mount's folder under the run's extra folder.
std::string ExtraName(const ValidatedMount& mount) {
  return mount.sandbox_path.substr(mount.sandbox_path.rfind('/') + 1);
}

// The mount points of a run in a persistent jail, relative to its run folder.
std::vector<std::string> RunMountPoints(const RunSpec& spec) {
  std::vector<std::string> points = {"group", "global", "ipc", "sock", "extra"};
  for (const auto& mount : spec.mounts()) points.push_back("extra/" + ExtraName(mount));
  return points;
}

// Opens (and creates) a folder on the way to a run folder in a persistent
// jail. It must be a real folder that only root (or the broker) may change:
// processes in the jail must not be able to turn it into a link while the
// broker mounts onto the folders below it.
absl::StatusOr<UniqueFd> OpenTrustedFolder(int parent_fd, const std::string& name,
                                           const std::string& path, bool create) {
  if (create && ::mkdirat(parent_fd, name.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::InternalError("create folder " + path + ": " + strerror(errno));
  }
  UniqueFd fd(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    bool link = errno == ELOOP || errno == ENOTDIR;
    return absl::FailedPreconditionError(
        "open folder " + path + ": " +
        (link ? "not a directory (symlinks are not followed)" : strerror(errno)));
  }
  struct stat info = {};
  if (::fstat(fd.get(), &info) != 0) {
    return absl::InternalError("stat folder " + path + ": " + strerror(errno));
  }
  if (info.st_uid != 0 && info.st_uid != ::geteuid()) {
    return absl::FailedPreconditionError("check folder " + path + ": owned by uid " +
                                         std::to_string(info.st_uid) + ", not root");
  }
  if ((info.st_mode & 022) != 0) {
    return absl::FailedPreconditionError("check folder " + path + ": writable by group or others");
  }
  return fd;
}

// Opens <root>/var/clawdie, creating clawdie when `create`.
absl::StatusOr<UniqueFd> OpenRunsFolder(const std::string& root, bool create) {
  UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root_fd.valid()) {
    return absl::FailedPreconditionError("open jail root " + root + ": " + strerror(errno));
  }
  auto var = OpenTrustedFolder(root_fd.get(), "var", root + "/var", false);
  if (!var.ok()) return var.status();
  return OpenTrustedFolder(var->get(), "clawdie", root + kRunsInPersistentJail, create);
}

// Removes a run folder and its mount points (rmdir only: a folder still
// mounted on stays, and nothing below a mount point is touched).
void RemoveRunFolders(const std::string& root, const std::string& run_id,
                      const std::vector<std::string>& points) {
  auto runs = OpenRunsFolder(root, false);
  if (!runs.ok()) return;
  UniqueFd run(::openat(runs->get(), run_id.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  if (!run.valid()) return;
  for (auto point = points.rbegin(); point != points.rend(); ++point) {
    ::unlinkat(run.get(), point->c_str(), AT_REMOVEDIR);
  }
  if (::unlinkat(runs->get(), run_id.c_str(), AT_REMOVEDIR) != 0) {
    JailLog()->warn("remove folder {}{}/{}: {}", root, kRunsInPersistentJail, run_id,
                    strerror(errno));
  }
}

// Creates <root>/var/clawdie/<run id> and its mount points; on error removes what it made.
absl::Status CreateRunFolders(const std::string& root, const RunSpec& spec) {
  auto runs = OpenRunsFolder(root, true);
  if (!runs.ok()) return runs.status();
  std::string run_dir = root + kRunsInPersistentJail + "/" + spec.run_id();
  if (::mkdirat(runs->get(), spec.run_id().c_str(), 0755) != 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError("create folder " + run_dir + ": exists");
    return absl::InternalError("create folder " + run_dir + ": " + strerror(errno));
  }
  UniqueFd run(::openat(runs->get(), spec.run_id().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  std::vector<std::string> points = RunMountPoints(spec);
  for (const auto& point : points) {
    // Below a folder the broker just made and nobody else may change.
    if (!run.valid() || ::mkdirat(run.get(), point.c_str(), 0755) != 0) {
      absl::Status status =
          absl::InternalError("create folder " + run_dir + "/" + point + ": " + strerror(errno));
      RemoveRunFolders(root, spec.run_id(), points);
      return status;
    }
  }
  return absl::OkStatus();
}

// The nullfs mounts of a run in a persistent jail whose run folder is `run_root` on the host.
std::vector<std::vector<std::string>> PersistentJailMounts(const RunSpec& spec,
                                                           const std::string& run_root) {
  std::vector<std::vector<std::string>> mounts = {
      {"mount_nullfs", "-o", "rw", spec.group_dir(), run_root + "/group"},
      {"mount_nullfs", "-o", spec.is_main() ? "rw" : "ro", spec.global_dir(), run_root + "/global"},
      {"mount_nullfs", "-o", "rw", spec.run_state_dir() + "/ipc", run_root + "/ipc"},
      {"mount_nullfs", "-o", "ro", spec.run_state_dir() + "/sock", run_root + "/sock"}};
  for (const auto& mount : spec.mounts()) {
    mounts.push_back({"mount_nullfs", "-o", mount.read_write ? "rw" : "ro", mount.host_path,
                      run_root + "/extra/" + ExtraName(mount)});
  }
  return mounts;
}

}  // namespace

AgentPaths PersistentJailPaths(const RunSpec& spec) {
  std::string run = std::string(kRunsInPersistentJail) + "/" + spec.run_id();
  AgentPaths paths;
  paths.workspace = run + "/group";
  paths.global_dir = run + "/global";
  paths.extra_dir = run + "/extra";
  paths.ipc_dir = run + "/ipc";
  paths.model_socket = run + "/sock/model.sock";
  return paths;
}

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
  bool persistent = !jail.persistent_jail.empty();
  std::string name = persistent ? jail.persistent_jail : JailName(spec.run_id());
  AgentPaths paths = persistent ? PersistentJailPaths(spec) : AgentPaths();
  std::vector<std::string> argv = {"jexec", "-l", "-U", jail.user, name, "/usr/bin/env", "-i"};
  for (const auto& entry : AgentEnvironment(paths, options)) argv.push_back(entry);
  argv.push_back(jail.agent_path_inside);
  argv.insert(argv.end(), options.agent_args.begin(), options.agent_args.end());
  return argv;
}

JailBackend::JailBackend(SandboxOptions options, JailOptions jail, ProcessLauncher& launcher)
    : options_(std::move(options)), jail_(std::move(jail)), launcher_(launcher) {}

absl::StatusOr<std::string> JailBackend::RunForOutput(const std::vector<std::string>& argv) const {
  LaunchOptions launch;
  launch.argv = argv;
  launch.env = {"PATH=" + jail_.command_path};
  launch.env.insert(launch.env.end(), jail_.command_env.begin(), jail_.command_env.end());
  auto result = RunCommand(launcher_, launch, 4096);
  if (!result.ok()) return result.status();
  std::string output = result->output;
  while (!output.empty() && output.back() == '\n') output.pop_back();
  if (result->exit_code != 0) {
    return absl::InternalError(Join(argv) + ": exit code " + std::to_string(result->exit_code) +
                               (output.empty() ? "" : ": " + output));
  }
  return output;
}

absl::Status JailBackend::Run(const std::vector<std::string>& argv) const {
  return RunForOutput(argv).status();
}

absl::StatusOr<std::string> JailBackend::PersistentJailRoot() const {
  const std::string& name = jail_.persistent_jail;
  auto path = RunForOutput({"jls", "-j", name, "path"});
  if (!path.ok()) {
    return absl::FailedPreconditionError("find jail " + name + ": " +
                                         std::string(path.status().message()));
  }
  if (path->empty() || (*path)[0] != '/' || path->find('\n') != std::string::npos) {
    return absl::FailedPreconditionError("find jail " + name + ": jls printed no root path");
  }
  return *path;
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
  if (!jail_.persistent_jail.empty()) {
    auto root = PersistentJailRoot();
    if (!root.ok()) return root.status();
    JailLog()->info("sandbox backend jail: agents run in the persistent jail {} at {}",
                    jail_.persistent_jail, *root);
    return absl::OkStatus();
  }
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
  if (!jail_.persistent_jail.empty()) return StartInPersistentJail(spec);
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

  LaunchedProcess process;
  if (status = StartAgent(*steps, spec, &process); !status.ok()) return status;
  return std::make_unique<PipeSandbox>(name, std::move(process), launcher_, std::move(steps),
                                       remove_jail);
}

absl::StatusOr<std::unique_ptr<Sandbox>> JailBackend::StartInPersistentJail(const RunSpec& spec) {
  auto steps = std::make_unique<StepRunner>("sandbox " + spec.run_id(), options_.step_hook);
  if (auto status = RunCommonSteps(*steps, spec, options_); !status.ok()) return status;
  std::string root;
  absl::Status status = steps->Run("find jail", [&]() -> absl::Status {
    auto found = PersistentJailRoot();
    if (!found.ok()) return found.status();
    root = *found;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;

  status = steps->Run(
      "create run folders", [&] { return CreateRunFolders(root, spec); },
      [root, run_id = spec.run_id(), points = RunMountPoints(spec)] {
        RemoveRunFolders(root, run_id, points);
      });
  if (!status.ok()) return status;
  std::string run_root = root + kRunsInPersistentJail + "/" + spec.run_id();
  for (const auto& argv : PersistentJailMounts(spec, run_root)) {
    if (status = Mount(*steps, argv, argv.back()); !status.ok()) return status;
  }

  LaunchedProcess process;
  if (status = StartAgent(*steps, spec, &process); !status.ok()) return status;
  std::string id = jail_.persistent_jail + ":" + std::to_string(process.pid);
  return std::make_unique<PipeSandbox>(id, std::move(process), launcher_, std::move(steps));
}

absl::Status JailBackend::StartAgent(StepRunner& steps, const RunSpec& spec,
                                     LaunchedProcess* process) const {
  LaunchOptions launch;
  launch.argv = BuildJexecCommand(spec, options_, jail_);
  launch.env = {"PATH=" + jail_.command_path};
  launch.env.insert(launch.env.end(), jail_.command_env.begin(), jail_.command_env.end());
  if (!jail_.persistent_jail.empty()) {
    // Runs share the jail and its rctl rules; these limits are each run's own.
    launch.rlimits = {{RLIMIT_CORE, 0},
                      {RLIMIT_NPROC, static_cast<rlim_t>(spec.limits().pids)},
                      {RLIMIT_AS, static_cast<rlim_t>(spec.limits().memory_bytes)}};
  }
  return steps.Run("start agent", [&]() -> absl::Status {
    auto launched = launcher_.Launch(launch);
    if (!launched.ok()) return launched.status();
    *process = *std::move(launched);
    return absl::OkStatus();
  });
}

}  // namespace clawdie::broker
