// The workspace of a container whose Docker Engine cannot bind-mount this
// host's folders (a daemon on another machine, DOCKER_HOST=tcp://...). The
// container gets a volume at /workspace; before it starts, the group folder
// (read-write), the global folder (read-only unless the group is main) and an
// empty IPC folder are copied into it through the archive API, and after the
// run the group folder (and the global folder for main) is copied back. Both
// directions go through folder_archive.h, so links, device files and paths
// leaving the folder are refused and logged, never followed.
//
// Thread-safety: each function works on one run's container and folders;
// different runs may copy at the same time.
#ifndef CLAWDIE_SERVICES_BROKER_DOCKER_WORKSPACE_H_
#define CLAWDIE_SERVICES_BROKER_DOCKER_WORKSPACE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "services/broker/docker_client.h"
#include "services/broker/folder_archive.h"
#include "services/broker/sandbox.h"

namespace clawdie::broker {

// Where the volume holding the copied folders is mounted in the container.
inline constexpr char kWorkspaceVolumeTarget[] = "/workspace";

// What was copied in, so the copy back can tell changes from leftovers.
struct WorkspaceCopy {
  CopyManifest group;
  CopyManifest global;
};

// Which folders cross, how much, and who owns them.
struct WorkspaceCopyOptions {
  // Owner of the group folder inside the container and, when the broker runs
  // as root, of files created on the host by the copy back.
  uid_t sandbox_uid = 65534;
  gid_t sandbox_gid = 65534;
  // Cap of each tar stream (CLAWDIE_DOCKER_COPY_LIMIT).
  int64_t max_bytes = int64_t{1} << 30;
};

// Copies the workspace of `spec` into the created, not yet started container
// `container_id`; the archive passes through an unlinked file in the run's
// state folder. Refused entries are logged and skipped. ResourceExhausted when
// the folders hold more than the cap; errors of the daemon as DockerClient.
absl::Status CopyWorkspaceIn(DockerClient& client, const std::string& container_id,
                             const RunSpec& spec, const WorkspaceCopyOptions& options,
                             WorkspaceCopy* copy);

// Copies the group folder (and, for main, the global folder) of the stopped
// container back to the host: changed and new files are written, files the
// run deleted are deleted, refused entries are logged and skipped. On error
// the host folder keeps what was written before it.
absl::Status CopyWorkspaceOut(DockerClient& client, const std::string& container_id,
                              const RunSpec& spec, const WorkspaceCopyOptions& options,
                              const WorkspaceCopy& copy);

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_DOCKER_WORKSPACE_H_
