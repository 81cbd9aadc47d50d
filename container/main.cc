// clawdie-agent: the program the broker starts in every sandbox (DESIGN.md §6). Reads the start
// object and later messages on stdin, writes events to stdout, logs to stderr.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "CLI/CLI.hpp"
#include "common/logging.h"
#include "container/agent.h"
#include "container/http_stream.h"

int main(int argc, char** argv) {
  CLI::App app{"clawdie-agent: the agent loop inside a clawdie sandbox (stdin/stdout protocol)"};
  std::string log_level = std::getenv("LOG_LEVEL") != nullptr ? std::getenv("LOG_LEVEL") : "info";
  bool version = false;
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

  absl::StatusOr<clawdie::agent::AgentConfig> config = clawdie::agent::LoadAgentConfig(std::getenv);
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
