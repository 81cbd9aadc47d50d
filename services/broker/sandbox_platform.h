// The sandbox backends only one platform has, so the broker's setup names no
// platform: CMake compiles sandbox_platform_linux.cc (bwrap) or
// sandbox_platform_freebsd.cc (none; the jail backend is built everywhere so
// its PATH harness runs on Linux too).
//
// Thread-safety: called once from LoadBrokerSetup.
#ifndef CLAWDIE_SERVICES_BROKER_SANDBOX_PLATFORM_H_
#define CLAWDIE_SERVICES_BROKER_SANDBOX_PLATFORM_H_

#include <memory>
#include <string>

#include "common/config.h"
#include "services/broker/sandbox.h"

namespace clawdie::broker {

// The backend `kind` (a CLAWDIE_SANDBOX value) of this platform, configured
// from `config`; nullptr when this platform has no backend of that kind.
std::unique_ptr<SandboxBackend> MakePlatformBackend(const std::string& kind, const Config& config,
                                                    const SandboxOptions& options);

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_SANDBOX_PLATFORM_H_
