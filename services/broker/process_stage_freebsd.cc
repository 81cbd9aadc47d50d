// Mount staging exists for the bwrap backend, which FreeBSD does not have; the jail backend
// mounts with mount_nullfs from the broker itself. A request for staging is refused.
#include <cerrno>

#include "services/broker/process_launcher.h"

namespace clawdie::broker {

bool EnterMountStage(const LaunchOptions& options) {
  errno = ENOTSUP;
  return false;
}

}  // namespace clawdie::broker
