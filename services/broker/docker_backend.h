// The `docker` backend: one container per run through the Docker Engine API
// (see docker_client.h). Containers run the agent image with no network
// (unless the group's policy allows it), a read-only root with a tmpfs /tmp,
// every capability dropped, no-new-privileges, memory / CPU / pids limits, a
// non-root user and an init; mounts are structured `Mounts`, never `Binds`.
// Each container is labelled with this broker install's id, so containers
// orphaned by a crash are removed when the backend starts. With a daemon that
// cannot reach this host's folders (copy_workspace), the folders are copied
// into a volume and back instead (docker_workspace.h); extra mounts and the
// model socket are then not available in the container.
//
// Thread-safety: Start may be called from many threads at once after Init.
#ifndef CLAWDIE_SERVICES_BROKER_DOCKER_BACKEND_H_
#define CLAWDIE_SERVICES_BROKER_DOCKER_BACKEND_H_

#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "services/broker/docker_client.h"
#include "services/broker/docker_workspace.h"
#include "services/broker/sandbox.h"

namespace clawdie::broker {

struct DockerOptions {
  DockerEndpoint endpoint;
  // The agent image (CLAWDIE_AGENT_IMAGE).
  std::string image = "clawdie-agent:latest";
  // Identifies this broker install in container labels and names.
  std::string install_id = "default";
  // Size of the container's /tmp tmpfs.
  int64_t tmp_bytes = 64 << 20;
  // Copy the group and global folders in and out instead of bind-mounting
  // them (CLAWDIE_DOCKER_REMOTE, see ParseDockerRemote).
  bool copy_workspace = false;
  // Cap of each copy's tar stream (CLAWDIE_DOCKER_COPY_LIMIT).
  int64_t copy_limit_bytes = int64_t{1} << 30;
};

// Whether folders are copied rather than bind-mounted, from the value of
// CLAWDIE_DOCKER_REMOTE: "yes", "no", or "auto" / empty (yes for a tcp://
// daemon that is not on loopback). InvalidArgument for anything else.
absl::StatusOr<bool> ParseDockerRemote(const std::string& value, const DockerEndpoint& endpoint);

// Label keys put on every container.
inline constexpr char kInstallLabel[] = "dev.clawdie.install";
inline constexpr char kRunLabel[] = "dev.clawdie.run";
inline constexpr char kGroupLabel[] = "dev.clawdie.group";

// The body of POST /containers/create for `spec`.
nlohmann::json BuildContainerConfig(const RunSpec& spec, const SandboxOptions& options,
                                    const DockerOptions& docker);

class DockerBackend : public SandboxBackend {
 public:
  DockerBackend(SandboxOptions options, DockerOptions docker);

  std::string name() const override { return "docker"; }
  absl::StatusOr<std::string> Version() override;
  // Negotiates the API version and removes this install's leftover containers.
  absl::Status Init() override;
  absl::StatusOr<std::unique_ptr<Sandbox>> Start(const RunSpec& spec) override;

  // Ids of this install's containers (all states); only those of `run_id`
  // when it is not empty.
  absl::StatusOr<std::vector<std::string>> ListContainers(const std::string& run_id = "");

  DockerClient& client() { return client_; }

 private:
  absl::Status ReapOrphans();
  WorkspaceCopyOptions CopyOptions() const;

  const SandboxOptions options_;
  const DockerOptions docker_;
  DockerClient client_;
};

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_DOCKER_BACKEND_H_
