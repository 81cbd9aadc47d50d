#include "services/clawctl/session.h"

#include <filesystem>
#include <system_error>

#include "common/grpc_client.h"
#include "common/schedule.h"
#include "common/service_main.h"
#include "common/status.h"

namespace clawdie::clawctl {
const std::vector<std::string>& ServiceNames() {
  static const auto* names = new std::vector<std::string>{"store", "broker", "router", "gateway"};
  return *names;
}

std::string ResolveAddress(const GlobalFlags& flags, const Config& config,
                           const std::string& service) {
  auto it = flags.addresses.find(service);
  if (it != flags.addresses.end() && !it->second.empty()) return it->second;
  if (!flags.run_dir.empty()) {
    // gRPC wants absolute socket paths; a relative --run-dir is taken from the current folder.
    std::error_code error;
    std::filesystem::path dir = std::filesystem::absolute(flags.run_dir, error);
    return "unix:" + (error ? flags.run_dir : dir.lexically_normal().string()) + "/" + service +
           ".sock";
  }
  return ServiceAddress(config, service);
}

absl::StatusOr<std::unique_ptr<Session>> Session::Create(const GlobalFlags& flags, char** environ,
                                                         std::istream* in, std::ostream* out) {
  std::unique_ptr<Session> session(new Session());
  session->flags_ = flags;
  session->in_ = in;
  session->out_ = out;

  bool explicit_path = !flags.config_path.empty();
  session->config_path_ = explicit_path ? flags.config_path : DefaultConfigPath();
  absl::StatusOr<Config> config = Config::Load(session->config_path_, explicit_path, environ);
  if (!config.ok()) return config.status();
  session->config_ = *std::move(config);

  absl::StatusOr<absl::Duration> timeout =
      flags.timeout.empty()
          ? session->config_.GetDuration("CLAWDIE_CALL_TIMEOUT", absl::Seconds(10))
          : ParseDuration(flags.timeout);
  if (!timeout.ok()) return Annotate(timeout.status(), "--timeout");
  if (*timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--timeout " + flags.timeout + ": must be positive");
  }
  session->timeout_ = *timeout;

  if (!absl::LoadTimeZone(session->config_.GetString("TZ"), &session->zone_)) {
    session->zone_ = absl::UTCTimeZone();
  }
  return session;
}

std::string Session::Address(const std::string& service) const {
  return ResolveAddress(flags_, config_, service);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Session::Channel(const std::string& service) {
  auto it = channels_.find(service);
  if (it != channels_.end()) return it->second;

  ClientOptions options = ClientOptionsFor(service, config_);
  options.target = Address(service);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(options);
  if (!channel.ok()) return Annotate(channel.status(), "connect " + service);
  channels_[service] = *channel;
  return *channel;
}

void Session::Prepare(grpc::ClientContext* context) const {
  PrepareContext(context, timeout_, /*wait_for_ready=*/false);
}

absl::Status Session::CallError(const std::string& operation, const std::string& service,
                                const grpc::Status& status) const {
  return Annotate(FromGrpcStatus(status), operation + " " + Address(service));
}

}  // namespace clawdie::clawctl
