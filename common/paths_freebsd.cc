// Default locations on FreeBSD (DESIGN.md §1).
#include "common/paths.h"

namespace clawdie {

const PlatformPaths& DefaultPlatformPaths() {
  static const PlatformPaths paths = {"/usr/local/etc/clawdie/clawdie.conf", "/var/db/clawdie",
                                      "/var/run/clawdie", "/var/log/clawdie"};
  return paths;
}

}  // namespace clawdie
