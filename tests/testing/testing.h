// Helpers for tests that run real clawdie binaries: short temporary
// directories, child processes with captured stderr, health checks and a
// reflection client that lists and describes services like grpcurl.
//
// Thread-safety: a ChildProcess belongs to one thread; the functions are
// safe anywhere. The reflection client declares grpc.reflection.v1alpha
// itself, so binaries using it must not link gRPC's reflection library
// (clawdie_common does): talk to the services through clawdie_testing only.
#ifndef CLAWDIE_TESTS_TESTING_TESTING_H_
#define CLAWDIE_TESTS_TESTING_TESTING_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpcpp/channel.h"

namespace clawdie::testing {

// Creates a fresh directory under /tmp with a short name (socket paths stay short).
std::string MakeTempDir(const std::string& prefix = "cw");

// Path of a built binary, e.g. BinaryPath("services/store/clawdie-store").
std::string BinaryPath(const std::string& relative);

class ChildProcess {
 public:
  // Starts `argv` with stderr (and stdout) appended to `log_path`; `env` adds variables.
  static absl::StatusOr<ChildProcess> Start(const std::vector<std::string>& argv,
                                            const std::string& log_path,
                                            const std::map<std::string, std::string>& env = {});

  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Sends `signal` (no effect once reaped).
  void Signal(int signal);
  // Waits up to `timeout`; returns the exit code, 128+signal if killed, or DeadlineExceeded.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // Everything the child wrote so far.
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// Plaintext channel to a Unix socket or loopback address.
std::shared_ptr<grpc::Channel> Connect(const std::string& target);

// Health status (1 = SERVING, 2 = NOT_SERVING) or -1 when the call fails within timeout.
int CheckHealth(const std::string& target, const std::string& service, absl::Duration timeout);

// Polls until `service` is SERVING or the timeout passes.
bool WaitServing(const std::string& target, const std::string& service, absl::Duration timeout);

// Service names the server lists through reflection.
absl::StatusOr<std::vector<std::string>> ListServices(const std::string& target);

// The file descriptors reflection returns for a symbol (service or message name).
absl::StatusOr<std::vector<google::protobuf::FileDescriptorProto>> DescribeSymbol(
    const std::string& target, const std::string& symbol);

}  // namespace clawdie::testing

#endif  // CLAWDIE_TESTS_TESTING_TESTING_H_
