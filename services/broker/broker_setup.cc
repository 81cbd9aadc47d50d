#include "services/broker/broker_setup.h"

#include <dirent.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "common/logging.h"
#include "common/service_main.h"
#include "services/broker/docker_backend.h"
#include "services/broker/jail_backend.h"
#include "services/broker/model_proxy.h"
#include "services/broker/process_backend.h"
#include "services/broker/sandbox_platform.h"

namespace clawdie::broker {
namespace {

absl::Status BadKey(const std::string& key, const std::string& cause) {
  return absl::InvalidArgumentError("config " + key + ": " + cause);
}

// A jail name bastille accepts and jexec cannot mistake for a jail id or a path.
bool IsJailName(const std::string& name) {
  if (name.empty() || name.size() > 64 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '_' && c != '-') return false;
  }
  return !std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); });
}

absl::StatusOr<Limits> LoadLimits(const Config& config) {
  Limits limits = DefaultLimits();
  auto timeout = config.GetDuration("AGENT_TIMEOUT", limits.timeout);
  if (!timeout.ok()) return timeout.status();
  auto idle = config.GetDuration("IDLE_TIMEOUT", limits.idle_timeout);
  if (!idle.ok()) return idle.status();
  auto memory = ParseByteSize("CLAWDIE_AGENT_MEMORY", config.GetString("CLAWDIE_AGENT_MEMORY"));
  if (!memory.ok()) return memory.status();
  auto pids = config.GetInt("CLAWDIE_AGENT_PIDS", limits.pids);
  if (!pids.ok()) return pids.status();
  auto cpu = config.GetInt("CLAWDIE_AGENT_CPU_MILLIS", limits.cpu_millis);
  if (!cpu.ok()) return cpu.status();
  auto output = ParseByteSize("CLAWDIE_AGENT_OUTPUT_LIMIT",
                              config.GetString("CLAWDIE_AGENT_OUTPUT_LIMIT", "10m"));
  if (!output.ok()) return output.status();
  limits.timeout = *timeout;
  limits.idle_timeout = *idle;
  limits.memory_bytes = *memory;
  limits.pids = *pids;
  limits.cpu_millis = *cpu;
  limits.stdout_bytes = *output;
  limits.stderr_bytes = *output;
  return limits;
}

absl::StatusOr<ModelProviderConfig> LoadModel(const Config& config) {
  ModelProviderConfig model;
  model.provider = config.GetString("CLAWDIE_MODEL_PROVIDER");
  if (model.provider != "anthropic" && model.provider != "openai") {
    return BadKey("CLAWDIE_MODEL_PROVIDER", "expected anthropic or openai, got " + model.provider);
  }
  model.base_url = config.GetString("CLAWDIE_MODEL_BASE_URL");
  if (model.base_url.empty()) {
    model.base_url =
        model.provider == "anthropic" ? "https://api.anthropic.com" : "http://127.0.0.1:11434";
  }
  model.api_key =
      config.GetString(model.provider == "anthropic" ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY");
  return model;
}

absl::StatusOr<SandboxOptions> LoadSandboxOptions(const Config& config) {
  SandboxOptions options;
  options.timezone = config.GetString("TZ");
  options.model_provider = config.GetString("CLAWDIE_MODEL_PROVIDER");
  auto uid = config.GetInt("CLAWDIE_SANDBOX_UID", 65534);
  if (!uid.ok()) return uid.status();
  auto gid = config.GetInt("CLAWDIE_SANDBOX_GID", 65534);
  if (!gid.ok()) return gid.status();
  options.sandbox_uid = static_cast<uid_t>(*uid);
  options.sandbox_gid = static_cast<gid_t>(*gid);
  return options;
}

absl::StatusOr<std::unique_ptr<SandboxBackend>> MakeBackend(const Config& config,
                                                            SandboxOptions options) {
  std::string kind = config.GetString("CLAWDIE_SANDBOX");
  std::string agent_path = config.GetString("CLAWDIE_AGENT_PATH");
  if (kind == "docker") {
    auto endpoint = MakeDockerEndpoint(config.GetString("DOCKER_HOST"),
                                       !config.GetString("DOCKER_TLS_VERIFY").empty(),
                                       config.GetString("DOCKER_CERT_PATH"));
    if (!endpoint.ok()) return endpoint.status();
    DockerOptions docker;
    docker.endpoint = *endpoint;
    docker.image = config.GetString("CLAWDIE_AGENT_IMAGE");
    docker.install_id = config.GetString("CLAWDIE_BROKER_INSTALL_ID", "default");
    if (!IsValidRunId(docker.install_id)) {
      return BadKey("CLAWDIE_BROKER_INSTALL_ID", "expected [A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    }
    auto remote = ParseDockerRemote(config.GetString("CLAWDIE_DOCKER_REMOTE", "auto"), *endpoint);
    if (!remote.ok()) return remote.status();
    docker.copy_workspace = *remote;
    auto copy_limit = ParseByteSize("CLAWDIE_DOCKER_COPY_LIMIT",
                                    config.GetString("CLAWDIE_DOCKER_COPY_LIMIT", "1g"));
    if (!copy_limit.ok()) return copy_limit.status();
    docker.copy_limit_bytes = *copy_limit;
    options.agent_command =
        config.GetString("CLAWDIE_AGENT_COMMAND", "/usr/local/bin/clawdie-agent");
    return std::unique_ptr<SandboxBackend>(new DockerBackend(options, docker));
  }
  if (kind != "jail" && (agent_path.empty() || agent_path[0] != '/')) {
    return BadKey("CLAWDIE_AGENT_PATH",
                  "an absolute path is required for the " + kind + " backend");
  }
  options.agent_command = agent_path;
  if (kind == "process") return std::unique_ptr<SandboxBackend>(new ProcessBackend(options));
  if (auto backend = MakePlatformBackend(kind, config, options)) return backend;
  if (kind == "jail") {
    JailOptions jail;
    jail.base_path = config.GetString("CLAWDIE_JAIL_BASE", "/usr/local/clawdie/base");
    jail.user = config.GetString("CLAWDIE_JAIL_USER", "nobody");
    jail.agent_path_inside =
        config.GetString("CLAWDIE_AGENT_COMMAND", "/usr/local/bin/clawdie-agent");
    jail.persistent_jail = config.GetString("CLAWDIE_BASTILLE_JAIL", "");
    if (!jail.persistent_jail.empty() && !IsJailName(jail.persistent_jail)) {
      return BadKey("CLAWDIE_BASTILLE_JAIL", "expected a jail name [A-Za-z0-9][A-Za-z0-9_-]{0,63}");
    }
    return std::unique_ptr<SandboxBackend>(new JailBackend(options, jail));
  }
  return BadKey("CLAWDIE_SANDBOX", "\"" + kind + "\" is not available on this system");
}

int RemoveStaleEntry(const char* path, const struct stat*, int type, struct FTW*) {
  if (type == FTW_DP) {
    ::rmdir(path);
  } else {
    ::unlink(path);
  }
  return 0;
}

}  // namespace

absl::StatusOr<int64_t> ParseByteSize(const std::string& key, const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 15) return BadKey(key, "expected a size like 512m or 1g");
  int64_t value = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.empty() || unit == "b") return value;
  if (unit == "k" || unit == "kb" || unit == "kib") return value << 10;
  if (unit == "m" || unit == "mb" || unit == "mib") return value << 20;
  if (unit == "g" || unit == "gb" || unit == "gib") return value << 30;
  return BadKey(key, "unknown size unit \"" + unit + "\"");
}

absl::Status PrepareHostLayout(const HostLayout& layout) {
  for (const std::string& dir : {layout.groups_dir, layout.state_dir}) {
    for (size_t slash = 1; slash != std::string::npos;) {
      slash = dir.find('/', slash + 1);
      std::string prefix = dir.substr(0, slash);
      if (::mkdir(prefix.c_str(), 0711) != 0 && errno != EEXIST) {
        return absl::PermissionDeniedError("create folder " + prefix + ": " + strerror(errno));
      }
    }
  }
  return absl::OkStatus();
}

void ClearStaleRunState(const std::string& state_dir) {
  DIR* dir = ::opendir(state_dir.c_str());
  if (dir == nullptr) return;
  std::vector<std::string> entries;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") entries.push_back(state_dir + "/" + name);
  }
  ::closedir(dir);
  for (const auto& entry : entries)
    ::nftw(entry.c_str(), RemoveStaleEntry, 16, FTW_DEPTH | FTW_PHYS);
  if (!entries.empty()) {
    GetLogger("broker")->info("removed {} run folders left in {}", entries.size(), state_dir);
  }
}

absl::StatusOr<BrokerSetup> LoadBrokerSetup(const Config& config) {
  BrokerSetup setup;
  std::string data_dir = DefaultDataDir(config);
  std::string run_dir = DefaultRunDir(config);
  setup.settings.layout.groups_dir =
      config.GetString("CLAWDIE_GROUPS_DIR", (data_dir + "/groups").c_str());
  setup.settings.layout.state_dir = run_dir + "/sandboxes";

  auto limits = LoadLimits(config);
  if (!limits.ok()) return limits.status();
  setup.settings.default_limits = *limits;
  auto model = LoadModel(config);
  if (!model.ok()) return model.status();
  setup.settings.model_provider = model->provider;
  setup.settings.default_model = config.GetString("CLAWDIE_MODEL");
  setup.settings.model_key_present = !model->api_key.empty();

  auto options = LoadSandboxOptions(config);
  if (!options.ok()) return options.status();
  // Anthropic always needs a key; an OpenAI-compatible server (a local one) may not. With no
  // key where one is needed there is no proxy, and the agent tells the chat what is missing.
  if (!model->api_key.empty() || model->provider == "openai") {
    options->model_proxy = MakeModelProxyStarter(*model);
  } else {
    options->model_key_missing = true;
    GetLogger("broker")->warn(
        "ANTHROPIC_API_KEY is not set: agents will answer that the model key is missing "
        "(set it in the configuration file or the environment)");
  }
  auto backend = MakeBackend(config, *options);
  if (!backend.ok()) return backend.status();
  setup.backend = *std::move(backend);

  auto allowlist =
      MountAllowlist::Load(config.GetString("CLAWDIE_MOUNT_ALLOWLIST"), {data_dir, run_dir});
  if (!allowlist.ok()) return allowlist.status();
  setup.allowlist = std::make_unique<MountAllowlist>(*std::move(allowlist));
  return setup;
}

}  // namespace clawdie::broker
