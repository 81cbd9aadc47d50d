// The mount allowlist: which host folders a group may see under
// /workspace/extra/<name> inside its sandbox, and whether it may write them.
//
// The allowlist is a JSON file kept outside every group folder and never
// mounted into a sandbox:
//
//   {
//     "allowedRoots": [
//       {"path": "~/projects", "allowReadWrite": true, "description": "code"},
//       {"path": "/srv/photos"}
//     ],
//     "blockedPatterns": ["secrets"],
//     "nonMainReadOnly": true
//   }
//
// Thread-safety: a MountAllowlist is immutable after loading; Check may be
// called from any thread.
#ifndef CLAWDIE_SERVICES_BROKER_MOUNT_ALLOWLIST_H_
#define CLAWDIE_SERVICES_BROKER_MOUNT_ALLOWLIST_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace clawdie::broker {

// A mount as a group asks for it.
struct MountRequest {
  // Host path; absolute or starting with "~/" (the broker's home).
  std::string host_path;
  // Name under /workspace/extra/.
  std::string name;
  // Ask for write access.
  bool read_write = false;
};

// A mount that passed the allowlist.
struct ValidatedMount {
  // The resolved host path (no symlinks left).
  std::string host_path;
  // Where it appears inside the sandbox: /workspace/extra/<name>.
  std::string sandbox_path;
  // Whether the sandbox may write to it.
  bool read_write = false;

  bool operator==(const ValidatedMount&) const = default;
};

// One allowed root, resolved when the allowlist is loaded.
struct AllowedRoot {
  std::string path;
  bool allow_read_write = false;
  std::string description;
};

class MountAllowlist {
 public:
  // An allowlist that refuses every request (the state when no file exists).
  MountAllowlist() = default;

  // Reads the allowlist at `path`. A missing file gives an empty allowlist;
  // unreadable or malformed files return InvalidArgument naming the file.
  // Roots that do not exist are dropped. `protected_paths` (store data,
  // runtime sockets, group folders, the allowlist itself) can never be
  // mounted, nor can any folder that contains one of them.
  static absl::StatusOr<MountAllowlist> Load(const std::string& path,
                                             std::vector<std::string> protected_paths);

  // Parses allowlist JSON text; `source` names it in errors.
  static absl::StatusOr<MountAllowlist> Parse(const std::string& text, const std::string& source,
                                              std::vector<std::string> protected_paths);

  // Validates one request for a group. Returns PermissionDenied with the
  // reason (`mount <path>: <cause>`) when refused, InvalidArgument for a bad
  // name or path.
  absl::StatusOr<ValidatedMount> Check(const MountRequest& request, bool is_main) const;

  const std::vector<AllowedRoot>& roots() const { return roots_; }

 private:
  absl::Status CheckBlocked(const std::string& real_path, const std::string& display) const;
  bool IsBlockedName(const std::string& component) const;

  std::vector<AllowedRoot> roots_;
  std::vector<std::string> blocked_patterns_;
  std::vector<std::string> protected_paths_;
  bool non_main_read_only_ = true;
};

// Returns true if `name` is a valid /workspace/extra/ entry name:
// [A-Za-z0-9][A-Za-z0-9_.-]{0,63}.
bool IsValidMountName(const std::string& name);

// Expands a leading "~" to $HOME. Returns the path unchanged otherwise.
std::string ExpandHome(const std::string& path);

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_MOUNT_ALLOWLIST_H_
