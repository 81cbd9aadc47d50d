// clawdie-broker: the only process that creates sandboxes. Serves
// clawdie.v1.Broker; the backend is chosen by CLAWDIE_SANDBOX. Flags and
// configuration: docs/broker.md and docs/configuration.md.
#include <cstdio>

#include "CLI/CLI.hpp"
#include "common/grpc_server.h"
#include "common/logging.h"
#include "common/service_main.h"
#include "services/broker/broker_service.h"
#include "services/broker/broker_setup.h"
#include "services/broker/process_launcher.h"

namespace {

int Fail(const std::string& what, const absl::Status& status) {
  clawdie::GetLogger("broker")->error("{}: {}", what, std::string(status.message()));
  std::fprintf(stderr, "clawdie-broker: %s: %s\n", what.c_str(),
               std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  clawdie::BlockShutdownSignals();
  clawdie::broker::IgnoreSigpipe();
  CLI::App app{"clawdie-broker: runs agents in sandboxes"};
  clawdie::ServiceFlags flags;
  clawdie::AddServiceFlags(&app, &flags, /*has_listen=*/true);
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<clawdie::Config> config = clawdie::LoadServiceConfig("broker", flags);
  if (!config.ok()) return Fail("configuration", config.status());
  auto setup = clawdie::broker::LoadBrokerSetup(*config);
  if (!setup.ok()) return Fail("configuration", setup.status());

  clawdie::broker::BrokerService service(*setup->backend, *setup->allowlist, setup->settings);
  clawdie::GrpcServer server(clawdie::ServerOptionsFor("broker", *config, flags));
  server.AddService(&service, "clawdie.v1.Broker");
  absl::Status started = server.Start();
  if (!started.ok()) return Fail("start", started);

  // The lock is ours now: what earlier brokers left behind can go.
  absl::Status prepared = clawdie::broker::PrepareHostLayout(setup->settings.layout);
  if (!prepared.ok()) return Fail("start", prepared);
  clawdie::broker::ClearStaleRunState(setup->settings.layout.state_dir);
  absl::Status ready = setup->backend->Init();
  if (!ready.ok()) return Fail("sandbox backend " + setup->backend->name(), ready);
  clawdie::GetLogger("broker")->info("sandbox backend {}, groups in {}, model provider {}",
                                     setup->backend->name(), setup->settings.layout.groups_dir,
                                     setup->settings.model_provider);

  int code = clawdie::ServeUntilSignal(&server);
  service.KillAll();
  return code;
}
