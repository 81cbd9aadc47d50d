// The platform's default locations; paths_<platform>.cc is chosen by CMake.
//
// Thread-safety: immutable.
#ifndef CLAWDIE_COMMON_PATHS_H_
#define CLAWDIE_COMMON_PATHS_H_

#include <string>

namespace clawdie {

struct PlatformPaths {
  std::string config_file;
  std::string data_dir;
  std::string run_dir;
  std::string log_dir;
};

const PlatformPaths& DefaultPlatformPaths();

}  // namespace clawdie

#endif  // CLAWDIE_COMMON_PATHS_H_
