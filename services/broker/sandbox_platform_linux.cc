// Linux has the bwrap backend.
#include "services/broker/bwrap_backend.h"
#include "services/broker/sandbox_platform.h"

namespace clawdie::broker {

std::unique_ptr<SandboxBackend> MakePlatformBackend(const std::string& kind, const Config& config,
                                                    const SandboxOptions& options) {
  if (kind != "bwrap") return nullptr;
  BwrapOptions bwrap;
  bwrap.bwrap_path = config.GetString("CLAWDIE_BWRAP_PATH", "/usr/bin/bwrap");
  return std::make_unique<BwrapBackend>(options, bwrap);
}

}  // namespace clawdie::broker
