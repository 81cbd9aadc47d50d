#include "services/broker/sandbox.h"

#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "services/broker/unique_fd.h"

namespace clawdie::broker {
namespace {

absl::Status ErrnoStatus(const std::string& operation, const std::string& object) {
  int saved = errno;
  std::string text = operation + " " + object + ": " + strerror(saved);
  if (saved == ENOENT) return absl::NotFoundError(text);
  if (saved == EACCES || saved == EPERM) return absl::PermissionDeniedError(text);
  return absl::InternalError(text);
}

// Opens (creating if missing) the directory `path` without following a
// symlink in its last component, and gives it to the sandbox user when root.
absl::Status PrepareFolder(const std::string& path, const SandboxOptions& options, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return ErrnoStatus("create folder", path);
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() && (errno == ELOOP || errno == ENOTDIR)) {
    // The wording differs between kernels; a symlink here is never followed.
    return absl::FailedPreconditionError("open folder " + path +
                                         ": not a directory (symlinks are not followed)");
  }
  if (!fd.valid()) return ErrnoStatus("open folder", path);
  if (::geteuid() == 0 && ::fchown(fd.get(), options.sandbox_uid, options.sandbox_gid) != 0) {
    return ErrnoStatus("chown folder", path);
  }
  return absl::OkStatus();
}

int RemoveEntry(const char* path, const struct stat*, int type, struct FTW*) {
  // Best effort: a leftover entry is reported by the caller's next mkdir.
  if (type == FTW_DP) {
    ::rmdir(path);
  } else {
    ::unlink(path);
  }
  return 0;
}

// Removes a folder tree the broker created; never follows symlinks in it.
void RemoveTree(const std::string& path) {
  ::nftw(path.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

absl::Status CreateRunStateInside(const std::string& dir, const SandboxOptions& options) {
  for (const char* sub : {"/sock", "/ipc"}) {
    if (::mkdir((dir + sub).c_str(), 0711) != 0) return ErrnoStatus("create run folder", dir + sub);
  }
  return PrepareFolder(dir + "/ipc/input", options, 0770);
}

// Creates <state_dir>/<run id>/{sock,ipc/input}. On failure removes what it made.
absl::Status CreateRunState(const RunSpec& spec, const SandboxOptions& options) {
  const std::string& dir = spec.run_state_dir();
  std::string parent = dir.substr(0, dir.rfind('/'));
  if (::mkdir(parent.c_str(), 0711) != 0 && errno != EEXIST) {
    return ErrnoStatus("create state folder", parent);
  }
  if (::mkdir(dir.c_str(), 0711) != 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError("create run folder " + dir + ": exists");
    return ErrnoStatus("create run folder", dir);
  }
  absl::Status status = CreateRunStateInside(dir, options);
  if (!status.ok()) RemoveTree(dir);
  return status;
}

}  // namespace

std::vector<std::string> AgentEnvironment(const AgentPaths& paths, const SandboxOptions& options) {
  std::vector<std::string> env = {
      "PATH=/usr/local/bin:/usr/bin:/bin",
      "HOME=/tmp",
      "LANG=C.UTF-8",
      "TZ=" + options.timezone,
      "NANOCLAW_WORKSPACE=" + paths.workspace,
      "NANOCLAW_CONVERSATIONS_DIR=" + paths.workspace + "/conversations",
      "NANOCLAW_GLOBAL_MD=" + paths.global_dir + "/CLAUDE.md",
      "NANOCLAW_EXTRA_DIR=" + paths.extra_dir,
      "NANOCLAW_IPC_DIR=" + paths.ipc_dir + "/input",
  };
  // Without a model proxy (no key configured) the agent finds no model socket and answers
  // with the name of the missing setting instead of trying a provider.
  if (!options.model_key_missing) env.push_back("CLAWDIE_MODEL_SOCKET=" + paths.model_socket);
  env.push_back("CLAWDIE_MODEL_PROVIDER=" + options.model_provider);
  return env;
}

absl::Status RunCommonSteps(StepRunner& steps, const RunSpec& spec, const SandboxOptions& options) {
  absl::Status status = steps.Run("prepare group folder",
                                  [&] { return PrepareFolder(spec.group_dir(), options, 0750); });
  if (!status.ok()) return status;

  status = steps.Run("prepare global folder",
                     [&] { return PrepareFolder(spec.global_dir(), options, 0755); });
  if (!status.ok()) return status;

  status = steps.Run(
      "create run folder", [&] { return CreateRunState(spec, options); },
      [dir = spec.run_state_dir()] { RemoveTree(dir); });
  if (!status.ok()) return status;

  if (!options.model_proxy) return absl::OkStatus();
  auto stop = std::make_shared<std::function<void()>>();
  return steps.Run(
      "start model proxy",
      [&]() -> absl::Status {
        auto started = options.model_proxy(spec.model_socket_path());
        if (!started.ok()) return started.status();
        *stop = *std::move(started);
        return absl::OkStatus();
      },
      [stop] {
        if (*stop) (*stop)();
      });
}

}  // namespace clawdie::broker
