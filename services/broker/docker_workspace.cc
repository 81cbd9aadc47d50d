#include "services/broker/docker_workspace.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/logging.h"
#include "services/broker/unique_fd.h"

namespace clawdie::broker {
namespace {

// Copies run while the start (in) or the teardown (out) of a run waits.
constexpr absl::Duration kCopyTimeout = absl::Minutes(10);

std::shared_ptr<spdlog::logger> WorkspaceLog() { return GetLogger("docker"); }

// A file in `dir` that disappears with its last descriptor.
absl::StatusOr<UniqueFd> AnonymousFile(const std::string& dir) {
  std::string pattern = dir + "/archive-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  UniqueFd fd(::mkostemp(name.data(), O_CLOEXEC));
  if (!fd.valid()) {
    return absl::InternalError("create archive file " + pattern + ": " + strerror(errno));
  }
  ::unlink(name.data());
  return fd;
}

absl::Status Rewind(int fd, const std::string& object) {
  if (::lseek(fd, 0, SEEK_SET) == 0) return absl::OkStatus();
  return absl::InternalError("rewind archive file of " + object + ": " + strerror(errno));
}

absl::Status WriteWorkspace(int fd, const RunSpec& spec, const WorkspaceCopyOptions& options,
                            WorkspaceCopy* copy, std::vector<std::string>* refused) {
  auto writer = FolderArchiveWriter::Open(fd, options.max_bytes);
  if (!writer.ok()) return writer.status();
  ArchiveOwnership sandbox{options.sandbox_uid, options.sandbox_gid, false};
  // Root-owned without write permission: the agent of another group can read it, not change it.
  ArchiveOwnership global = spec.is_main() ? sandbox : ArchiveOwnership{0, 0, true};
  ArchiveOwnership root{0, 0, false};

  absl::Status status =
      (*writer)->AddFolder(spec.group_dir(), "group", sandbox, &copy->group, refused);
  if (status.ok()) {
    status = (*writer)->AddFolder(spec.global_dir(), "global", global, &copy->global, refused);
  }
  if (status.ok()) status = (*writer)->AddDirectory("ipc", 0755, root);
  if (status.ok()) status = (*writer)->AddDirectory("ipc/input", 0770, sandbox);
  if (status.ok()) status = (*writer)->Finish();
  return status;
}

absl::Status CopyFolderOut(DockerClient& client, const std::string& container_id,
                           const RunSpec& spec, const WorkspaceCopyOptions& options,
                           const std::string& prefix, const std::string& host_dir,
                           const CopyManifest& copied_in) {
  auto file = AnonymousFile(spec.run_state_dir());
  if (!file.ok()) return file.status();
  std::string inside = std::string(kWorkspaceVolumeTarget) + "/" + prefix;
  absl::Status status =
      client.GetArchive(container_id, inside, file->get(), options.max_bytes, kCopyTimeout);
  if (status.ok()) status = Rewind(file->get(), inside);
  if (!status.ok()) return status;

  ExtractOptions extract;
  extract.prefix = prefix;
  extract.copied_in = &copied_in;
  extract.max_bytes = options.max_bytes;
  extract.set_owner = ::geteuid() == 0;
  extract.uid = options.sandbox_uid;
  extract.gid = options.sandbox_gid;
  auto report = ExtractFolderArchive(file->get(), host_dir, extract);
  if (!report.ok()) return report.status();
  for (const auto& entry : report->refused) {
    WorkspaceLog()->warn("copy workspace out of sandbox {}: skipped {}", spec.run_id(), entry);
  }
  WorkspaceLog()->debug("copy workspace out of sandbox {}: {} written, {} deleted in {}",
                        spec.run_id(), report->written.size(), report->deleted.size(), host_dir);
  return absl::OkStatus();
}

}  // namespace

absl::Status CopyWorkspaceIn(DockerClient& client, const std::string& container_id,
                             const RunSpec& spec, const WorkspaceCopyOptions& options,
                             WorkspaceCopy* copy) {
  auto file = AnonymousFile(spec.run_state_dir());
  if (!file.ok()) return file.status();
  std::vector<std::string> refused;
  absl::Status status = WriteWorkspace(file->get(), spec, options, copy, &refused);
  for (const auto& entry : refused) {
    WorkspaceLog()->warn("copy workspace into sandbox {}: skipped {}", spec.run_id(), entry);
  }
  if (status.ok()) status = Rewind(file->get(), kWorkspaceVolumeTarget);
  if (!status.ok()) return status;
  return client.PutArchive(container_id, kWorkspaceVolumeTarget, file->get(), kCopyTimeout);
}

absl::Status CopyWorkspaceOut(DockerClient& client, const std::string& container_id,
                              const RunSpec& spec, const WorkspaceCopyOptions& options,
                              const WorkspaceCopy& copy) {
  absl::Status status =
      CopyFolderOut(client, container_id, spec, options, "group", spec.group_dir(), copy.group);
  if (status.ok() && spec.is_main()) {
    status = CopyFolderOut(client, container_id, spec, options, "global", spec.global_dir(),
                           copy.global);
  }
  return status;
}

}  // namespace clawdie::broker
