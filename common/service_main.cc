#include "common/service_main.h"

#include <cctype>

#include "common/logging.h"
#include "common/paths.h"
#include "common/version.h"

extern char** environ;

namespace clawdie {

const char* ClawdieVersion() { return CLAWDIE_VERSION_STRING; }

void AddServiceFlags(CLI::App* app, ServiceFlags* flags, bool has_listen) {
  app->add_option("--config", flags->config_path, "Configuration file (KEY=VALUE)");
  app->add_option("--log-level", flags->log_level, "LEVEL or LEVEL,component:level,...");
  app->set_version_flag("--version", std::string(ClawdieVersion()));
  if (has_listen) {
    app->add_option("--listen", flags->listen, "unix:/ABSOLUTE/PATH or host:port");
    app->add_flag("--insecure", flags->insecure, "Allow plaintext TCP on a loopback address");
  }
}

absl::StatusOr<Config> LoadServiceConfig(const std::string& name, const ServiceFlags& flags) {
  bool explicit_path = !flags.config_path.empty();
  std::string path = explicit_path ? flags.config_path : DefaultConfigPath();
  absl::StatusOr<Config> config = Config::Load(path, explicit_path, environ);
  if (!config.ok()) return config.status();
  if (!flags.log_level.empty()) config->Set("LOG_LEVEL", flags.log_level);

  LoggingOptions logging;
  logging.levels = config->GetString("LOG_LEVEL");
  std::string log_dir = config->GetString("CLAWDIE_LOG_DIR");
  if (!log_dir.empty()) logging.file = log_dir + "/" + name + ".log";
  absl::Status status = InitLogging(logging);
  if (!status.ok()) {
    // Either the level names or the log file can be at fault; the message says which.
    const char* keys = log_dir.empty() ? "LOG_LEVEL" : "LOG_LEVEL / CLAWDIE_LOG_DIR";
    return absl::InvalidArgumentError(std::string("config ") + keys + ": " +
                                      std::string(status.message()));
  }

  auto log = GetLogger(name);
  log->info("clawdie-{} {} starting (config {})", name, ClawdieVersion(),
            config->values().empty() ? "none" : path);
  log->debug("config: {}", config->Redacted());
  for (const std::string& key : config->UnknownKeys()) {
    log->warn("config key {} is not used by clawdie (misspelt?)", key);
  }
  return config;
}

std::string DefaultConfigPath() { return DefaultPlatformPaths().config_file; }

std::string DefaultDataDir(const Config& config) {
  std::string dir = config.GetString("CLAWDIE_DATA_DIR");
  return dir.empty() ? DefaultPlatformPaths().data_dir : dir;
}

std::string DefaultRunDir(const Config& config) {
  std::string dir = config.GetString("CLAWDIE_RUN_DIR");
  return dir.empty() ? DefaultPlatformPaths().run_dir : dir;
}

std::string ServiceAddress(const Config& config, const std::string& name) {
  std::string key = "CLAWDIE_" + name + "_ADDR";
  for (char& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string address = config.GetString(key);
  return address.empty() ? "unix:" + DefaultRunDir(config) + "/" + name + ".sock" : address;
}

ServerOptions ServerOptionsFor(const std::string& name, const Config& config,
                               const ServiceFlags& flags) {
  ServerOptions options;
  options.name = name;
  options.listen = flags.listen.empty() ? ServiceAddress(config, name) : flags.listen;
  options.insecure = flags.insecure;
  options.tls_cert = config.GetString("CLAWDIE_TLS_CERT");
  options.tls_key = config.GetString("CLAWDIE_TLS_KEY");
  options.tls_ca = config.GetString("CLAWDIE_TLS_CA");
  return options;
}

ClientOptions ClientOptionsFor(const std::string& name, const Config& config) {
  ClientOptions options;
  options.target = ServiceAddress(config, name);
  // Plaintext only to loopback TCP and only when no CA is configured.
  options.insecure = config.GetString("CLAWDIE_TLS_CA").empty();
  options.tls_cert = config.GetString("CLAWDIE_TLS_CERT");
  options.tls_key = config.GetString("CLAWDIE_TLS_KEY");
  options.tls_ca = config.GetString("CLAWDIE_TLS_CA");
  return options;
}

int ServeUntilSignal(GrpcServer* server) {
  server->SetServing(true);
  server->Wait();
  return 0;
}

}  // namespace clawdie
