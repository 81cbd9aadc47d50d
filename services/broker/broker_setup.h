// Turns the configuration (DESIGN.md §2, docs/broker.md) into the broker's
// parts: the chosen sandbox backend, the mount allowlist, the model proxy and
// the service settings. Kept out of main.cc so tests can build a broker the
// way the binary does.
//
// Thread-safety: LoadBrokerSetup is called once from main.
#ifndef CLAWDIE_SERVICES_BROKER_BROKER_SETUP_H_
#define CLAWDIE_SERVICES_BROKER_BROKER_SETUP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/config.h"
#include "services/broker/broker_service.h"
#include "services/broker/mount_allowlist.h"
#include "services/broker/sandbox.h"

namespace clawdie::broker {

struct BrokerSetup {
  std::unique_ptr<SandboxBackend> backend;
  std::unique_ptr<MountAllowlist> allowlist;
  BrokerSettings settings;
};

// Reads CLAWDIE_SANDBOX and the keys of the chosen backend, the limits, the
// model provider and the allowlist. InvalidArgument names the bad key.
absl::StatusOr<BrokerSetup> LoadBrokerSetup(const Config& config);

// Parses "512m", "1g", "1048576" into bytes.
absl::StatusOr<int64_t> ParseByteSize(const std::string& key, const std::string& text);

// Creates the groups and state folders (and missing parents) if needed,
// mode 0711 so the unprivileged sandbox user can reach the folders bound into
// its sandbox. Errors name the folder.
absl::Status PrepareHostLayout(const HostLayout& layout);

// Removes per-run state folders left by a broker that died (no run is live
// when the broker starts). Never follows symlinks.
void ClearStaleRunState(const std::string& state_dir);

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_BROKER_SETUP_H_
