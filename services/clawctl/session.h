// The state one clawctl invocation shares between its subcommands: the loaded
// configuration, where each service is (from --<service>-addr, --run-dir, the
// config file or the platform default, in that order), the call deadline, the
// output mode and the streams to write to. Channels are created on first use.
//
// Thread-safety: not thread-safe; a Session belongs to the thread running the command.
// The channels it hands out may be shared between threads.
#ifndef CLAWDIE_SERVICES_CLAWCTL_SESSION_H_
#define CLAWDIE_SERVICES_CLAWCTL_SESSION_H_

#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/config.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace clawdie::clawctl {

// The four services, in start order.
const std::vector<std::string>& ServiceNames();

// Flags every subcommand accepts.
struct GlobalFlags {
  // --config FILE; empty means the platform default, which may be absent.
  std::string config_path;
  // --run-dir DIR: every service at unix:DIR/<service>.sock unless its own address is given.
  std::string run_dir;
  // --store-addr, --router-addr, --gateway-addr, --broker-addr.
  std::map<std::string, std::string> addresses;
  // --timeout: deadline of each call; empty means CLAWDIE_CALL_TIMEOUT.
  std::string timeout;
  // --json: print one JSON document instead of tables.
  bool json = false;
};

// Returns the address of `service`: its --<service>-addr flag, else unix:<--run-dir>/<name>.sock,
// else CLAWDIE_<SERVICE>_ADDR, else unix:<CLAWDIE_RUN_DIR or platform run dir>/<name>.sock.
std::string ResolveAddress(const GlobalFlags& flags, const Config& config,
                           const std::string& service);

class Session {
 public:
  // Loads the configuration (the --config file must exist; the default one may be absent),
  // applies `environ`, and checks --timeout. InvalidArgument or NotFound naming the file
  // or flag. The streams are not owned and must outlive the session.
  static absl::StatusOr<std::unique_ptr<Session>> Create(const GlobalFlags& flags, char** environ,
                                                         std::istream* in, std::ostream* out);

  const Config& config() const { return config_; }
  const std::string& config_path() const { return config_path_; }
  bool json() const { return flags_.json; }
  absl::Duration timeout() const { return timeout_; }
  // The zone times are shown in: TZ, or UTC when TZ is not a known zone.
  absl::TimeZone zone() const { return zone_; }
  std::istream& in() { return *in_; }
  std::ostream& out() { return *out_; }

  // The address `service` is reached at (see ResolveAddress).
  std::string Address(const std::string& service) const;

  // The channel to `service`, created on first use. InvalidArgument for a bad address or
  // missing TLS files.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(const std::string& service);

  // A stub of generated service `Service` on the channel to `service`.
  template <typename Service>
  absl::StatusOr<std::unique_ptr<typename Service::Stub>> Stub(const std::string& service) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = Channel(service);
    if (!channel.ok()) return channel.status();
    return Service::NewStub(*channel);
  }

  // Sets the call deadline on `context`. Calls fail fast when the peer is down instead of
  // waiting for it: an operator wants to know now.
  void Prepare(grpc::ClientContext* context) const;

  // Turns a failed call into "<operation> <service address>: <cause>"; OK stays OK.
  absl::Status CallError(const std::string& operation, const std::string& service,
                         const grpc::Status& status) const;

 private:
  Session() = default;

  GlobalFlags flags_;
  Config config_;
  std::string config_path_;
  absl::Duration timeout_;
  absl::TimeZone zone_;
  std::istream* in_ = nullptr;
  std::ostream* out_ = nullptr;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

}  // namespace clawdie::clawctl

#endif  // CLAWDIE_SERVICES_CLAWCTL_SESSION_H_
