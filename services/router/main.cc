// clawdie-router: triggers, the per-group queue, runs, tool calls, delivery and scheduled
// tasks (DESIGN.md §4-5). Parses flags, wires the objects and serves until SIGTERM.
#include <cstdio>

#include "CLI/CLI.hpp"
#include "common/grpc_server.h"
#include "common/logging.h"
#include "common/service_main.h"
#include "services/router/router_server.h"

int main(int argc, char** argv) {
  clawdie::BlockShutdownSignals();
  CLI::App app{"clawdie-router: decides which messages start agents and delivers replies"};
  clawdie::ServiceFlags flags;
  clawdie::AddServiceFlags(&app, &flags, /*has_listen=*/true);
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<clawdie::Config> config = clawdie::LoadServiceConfig("router", flags);
  if (!config.ok()) {
    std::fprintf(stderr, "clawdie-router: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<clawdie::router::RouterServer>> server =
      clawdie::router::RouterServer::Create(*config, flags);
  if (!server.ok()) {
    clawdie::GetLogger("router")->error("start router: {}", std::string(server.status().message()));
    return 2;
  }
  return (*server)->Run();
}
