// The validated, immutable description of one agent run. Every request is
// turned into a RunSpec before any sandbox resource is created; backends only
// ever see RunSpecs, so they never re-check names, paths or limits.
//
// Thread-safety: RunSpec is immutable once built and safe to share between threads.
#ifndef CLAWDIE_SERVICES_BROKER_RUN_SPEC_H_
#define CLAWDIE_SERVICES_BROKER_RUN_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/broker/mount_allowlist.h"

namespace clawdie::broker {

enum class NetworkPolicy { kNone, kFull };

// Resource limits; in a request, zero means "the broker's default".
struct Limits {
  absl::Duration timeout = absl::ZeroDuration();
  absl::Duration idle_timeout = absl::ZeroDuration();
  int64_t memory_bytes = 0;
  int64_t cpu_millis = 0;
  int64_t pids = 0;
  int64_t stdout_bytes = 0;
  int64_t stderr_bytes = 0;
};

// Limits applied when a request leaves a field at zero.
Limits DefaultLimits();

// Where the broker keeps things on the host.
struct HostLayout {
  // Holds one folder per group and "global".
  std::string groups_dir;
  // Per-run state (model socket, IPC folder): <state_dir>/<run id>/.
  std::string state_dir;
};

// A run as the caller asks for it (the fields of the RunAgent spec).
struct RunRequest {
  std::string run_id;
  std::string group_folder;
  bool is_main = false;
  // The agent's start object; one JSON object.
  std::string start_json;
  std::vector<MountRequest> extra_mounts;
  Limits limits;
  NetworkPolicy network = NetworkPolicy::kNone;
  // Model override; empty for the broker's default.
  std::string model;
};

class RunSpec {
 public:
  const std::string& run_id() const { return run_id_; }
  const std::string& group_folder() const { return group_folder_; }
  bool is_main() const { return is_main_; }
  // The start line for the agent's stdin: compact JSON, no trailing newline,
  // with groupFolder, isMain and model set by the broker.
  const std::string& start_line() const { return start_line_; }
  // Host folder of the group: <groups_dir>/<group_folder>.
  const std::string& group_dir() const { return group_dir_; }
  // Host folder with the global memory: <groups_dir>/global.
  const std::string& global_dir() const { return global_dir_; }
  // Host folder for this run's state: <state_dir>/<run_id>.
  const std::string& run_state_dir() const { return run_state_dir_; }
  // Host path of the model proxy socket for this run.
  std::string model_socket_path() const { return run_state_dir_ + "/sock/model.sock"; }
  const std::vector<ValidatedMount>& mounts() const { return mounts_; }
  // Mount requests the allowlist refused, each as "path: reason".
  const std::vector<std::string>& rejected_mounts() const { return rejected_mounts_; }
  const Limits& limits() const { return limits_; }
  NetworkPolicy network() const { return network_; }
  const std::string& model() const { return model_; }

 private:
  friend absl::StatusOr<RunSpec> ValidateRunSpec(const RunRequest&, const HostLayout&,
                                                 const MountAllowlist&, const Limits&,
                                                 const std::string&);
  RunSpec() = default;

  std::string run_id_;
  std::string group_folder_;
  bool is_main_ = false;
  std::string start_line_;
  std::string group_dir_;
  std::string global_dir_;
  std::string run_state_dir_;
  std::vector<ValidatedMount> mounts_;
  std::vector<std::string> rejected_mounts_;
  Limits limits_;
  NetworkPolicy network_ = NetworkPolicy::kNone;
  std::string model_;
};

// Validates `request` into a RunSpec. Returns InvalidArgument naming the bad
// field (run id, group folder, start JSON, limits, socket path length).
// Refused mounts do not fail the run; they are listed in rejected_mounts().
// `defaults` fills zero limits; `default_model` fills an empty model.
absl::StatusOr<RunSpec> ValidateRunSpec(const RunRequest& request, const HostLayout& layout,
                                        const MountAllowlist& allowlist, const Limits& defaults,
                                        const std::string& default_model);

// True for a group folder name: [A-Za-z0-9][A-Za-z0-9_-]{0,63}, not "global".
bool IsValidGroupFolder(const std::string& folder);

// True for a run id: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}.
bool IsValidRunId(const std::string& run_id);

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_RUN_SPEC_H_
