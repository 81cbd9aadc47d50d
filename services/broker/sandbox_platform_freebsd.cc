// FreeBSD has no backend of its own beyond those every platform builds: the
// jail backend is compiled everywhere so that its harness runs on Linux.
#include "services/broker/sandbox_platform.h"

namespace clawdie::broker {

std::unique_ptr<SandboxBackend> MakePlatformBackend(const std::string& kind, const Config& config,
                                                    const SandboxOptions& options) {
  return nullptr;
}

}  // namespace clawdie::broker
