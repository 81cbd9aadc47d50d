// Docker helpers for the broker's tests: whether a daemon is reachable, and
// the offline-built stand-in image.
//
// Thread-safety: test-only; the image is built once per process.
#ifndef CLAWDIE_SERVICES_BROKER_DOCKER_TEST_UTIL_H_
#define CLAWDIE_SERVICES_BROKER_DOCKER_TEST_UTIL_H_

#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "services/broker/broker_test_util.h"
#include "services/broker/docker_backend.h"

namespace clawdie::broker::testing {

inline constexpr char kStandinImage[] = "clawdie-standin:test";

inline DockerEndpoint LocalDocker() {
  auto endpoint = MakeDockerEndpoint("unix:///var/run/docker.sock", false, "");
  return *endpoint;
}

// Empty when the local daemon answers and the stand-in image is built;
// otherwise why not.
inline std::string DockerUnavailable() {
  static std::once_flag once;
  static std::string reason;
  std::call_once(once, [] {
    DockerClient client(LocalDocker());
    if (absl::Status status = client.Negotiate(); !status.ok()) {
      reason = "no Docker daemon: " + std::string(status.message());
      return;
    }
    std::string command = std::string(CLAWDIE_SOURCE_DIR) +
                          "/tests/agent_standin/build-standin-image.sh " + StandinPath() + " " +
                          kStandinImage + " >/dev/null";
    if (std::system(command.c_str()) != 0) reason = "building the stand-in image failed";
  });
  return reason;
}

inline std::string TestInstallId() { return "t" + std::to_string(::getpid()); }

inline DockerOptions StandinDocker(const std::string& install_id = TestInstallId()) {
  DockerOptions docker;
  docker.endpoint = LocalDocker();
  docker.image = kStandinImage;
  docker.install_id = install_id;
  return docker;
}

}  // namespace clawdie::broker::testing

#endif  // CLAWDIE_SERVICES_BROKER_DOCKER_TEST_UTIL_H_
