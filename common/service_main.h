// What every clawdie binary's main() shares: the common flags (--config,
// --listen, --log-level, --insecure, --version), loading the configuration
// with the documented precedence, starting logging, and the default addresses
// and directories of DESIGN.md §1.
//
// Thread-safety: call from main before starting threads.
#ifndef CLAWDIE_COMMON_SERVICE_MAIN_H_
#define CLAWDIE_COMMON_SERVICE_MAIN_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "common/config.h"
#include "common/grpc_client.h"
#include "common/grpc_server.h"

namespace clawdie {

// The version of this build ("0.1.0").
const char* ClawdieVersion();

struct ServiceFlags {
  std::string config_path;
  std::string listen;
  std::string log_level;
  bool insecure = false;
};

// Adds --config, --log-level and --version; with `has_listen` also --listen and --insecure.
void AddServiceFlags(CLI::App* app, ServiceFlags* flags, bool has_listen);

// Loads the config file (the --config path must exist; the platform default is optional),
// applies the environment and the flags, starts logging (stderr, plus
// CLAWDIE_LOG_DIR/<name>.log when set), logs the redacted config at debug and warns once
// about unknown keys. Errors name the file, line or key.
absl::StatusOr<Config> LoadServiceConfig(const std::string& name, const ServiceFlags& flags);

// Platform defaults (DESIGN.md §1): config file, data, socket and log directories.
std::string DefaultConfigPath();
std::string DefaultDataDir(const Config& config);
std::string DefaultRunDir(const Config& config);

// The address of service `name` ("store", "router", "gateway", "broker"):
// CLAWDIE_<NAME>_ADDR, or unix:<run dir>/<name>.sock.
std::string ServiceAddress(const Config& config, const std::string& name);

// Server options for service `name` from the config and flags.
ServerOptions ServerOptionsFor(const std::string& name, const Config& config,
                               const ServiceFlags& flags);

// Client options to reach service `name`.
ClientOptions ClientOptionsFor(const std::string& name, const Config& config);

// Runs `server` until SIGTERM/SIGINT. Returns the process exit code: 0 after a clean drain.
int ServeUntilSignal(GrpcServer* server);

}  // namespace clawdie

#endif  // CLAWDIE_COMMON_SERVICE_MAIN_H_
