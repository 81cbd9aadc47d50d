// clawdie-agent: the program the broker starts in every sandbox (DESIGN.md §6). Reads the start
// object and later messages on stdin, writes events to stdout, logs to stderr.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>

#include "CLI/CLI.hpp"
#include "common/logging.h"
#include "container/agent.h"
#include "container/http_stream.h"

int main(int argc, char** argv) {
  CLI::App app{"clawdie-agent: the agent loop inside a clawdie sandbox (stdin/stdout protocol)"};
  std::string log_level = std::getenv("LOG_LEVEL") != nullptr ? std::getenv("LOG_LEVEL") : "info";
  bool version = false;
  std::string config_file;
  app.add_option("--config", config_file,
                 "KEY=VALUE file read for settings the environment does not set");
  app.add_option("--log-level", log_level, "LEVEL or LEVEL,component:level,... (stderr)");
  app.add_flag("--version", version, "print the version and exit");
  CLI11_PARSE(app, argc, argv);
  if (version) {
    std::cout << "clawdie-agent 0.1.0\n";
    return 0;
  }

  if (absl::Status status = clawdie::InitLogging({log_level, ""}); !status.ok()) {
    std::cerr << "clawdie-agent: " << std::string(status.message()) << "\n";
    return 2;
  }
  auto log = clawdie::GetLogger("agent");
  signal(SIGPIPE, SIG_IGN);  // a closed stdout shows up as a write error instead
  clawdie::agent::CurlGlobalInit();

  // The environment (what the broker passes) wins over the file.
  std::map<std::string, std::string> file_values;
  if (!config_file.empty()) {
    auto read = clawdie::agent::ReadConfigFile(config_file);
    if (!read.ok()) {
      log->error("{}", std::string(read.status().message()));
      return 2;
    }
    file_values = *std::move(read);
  }
  auto getenv = [&](const char* name) -> const char* {
    if (const char* value = std::getenv(name)) return value;
    auto it = file_values.find(name);
    return it == file_values.end() ? nullptr : it->second.c_str();
  };
  absl::StatusOr<clawdie::agent::AgentConfig> config = clawdie::agent::LoadAgentConfig(getenv);
  if (!config.ok()) {
    log->error("{}", std::string(config.status().message()));
    clawdie::agent::EventWriter writer(STDOUT_FILENO);
    (void)writer.Done("error", std::string(config.status().message()));
    return 1;
  }
  std::error_code error;
  std::filesystem::current_path(config->workspace, error);
  if (error) log->warn("chdir {}: {}", config->workspace.string(), error.message());

  clawdie::agent::Agent agent(*std::move(config), STDIN_FILENO, STDOUT_FILENO);
  return agent.Run();
}
