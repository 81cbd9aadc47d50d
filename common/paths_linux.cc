// Default locations on Linux (DESIGN.md §1).
#include "common/paths.h"

namespace clawdie {

const PlatformPaths& DefaultPlatformPaths() {
  static const PlatformPaths paths = {"/etc/clawdie/clawdie.conf", "/var/lib/clawdie",
                                      "/run/clawdie", "/var/log/clawdie"};
  return paths;
}

}  // namespace clawdie
