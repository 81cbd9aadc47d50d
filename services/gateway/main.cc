// clawdie-gateway: the channel connections (Telegram, WhatsApp Cloud API, local chat),
// serving clawdie.v1.Gateway and calling Router.Ingest. Keys: docs/gateway.md.
#include <cstdio>

#include "CLI/CLI.hpp"
#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "common/logging.h"
#include "common/service_main.h"
#include "services/gateway/gateway.h"
#include "services/gateway/gateway_service.h"
#include "services/gateway/router_client.h"
#include "services/gateway/router_watch.h"

namespace {

int Fail(const std::string& what, const absl::Status& status) {
  clawdie::GetLogger("gateway")->error("{}: {}", what, std::string(status.message()));
  std::fprintf(stderr, "clawdie-gateway: %s: %s\n", what.c_str(),
               std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  clawdie::BlockShutdownSignals();
  CLI::App app{"clawdie-gateway: Telegram, WhatsApp and local chat channels"};
  clawdie::ServiceFlags flags;
  clawdie::AddServiceFlags(&app, &flags, /*has_listen=*/true);
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<clawdie::Config> config = clawdie::LoadServiceConfig("gateway", flags);
  if (!config.ok()) return Fail("configuration", config.status());
  absl::StatusOr<clawdie::gateway::GatewayOptions> options =
      clawdie::gateway::GatewayOptionsFromConfig(*config, clawdie::DefaultDataDir(*config));
  if (!options.ok()) return Fail("configuration", options.status());

  absl::StatusOr<std::shared_ptr<grpc::Channel>> router_channel =
      clawdie::MakeChannel(clawdie::ClientOptionsFor("router", *config));
  if (!router_channel.ok()) return Fail("router address", router_channel.status());
  clawdie::gateway::RouterIngester ingester(*router_channel, absl::Seconds(10));

  clawdie::gateway::Gateway gateway(*options, &ingester, clawdie::gateway::RealClock());
  absl::Status started = gateway.Start();
  if (!started.ok()) return Fail("start channels", started);

  clawdie::gateway::GatewayService service(&gateway);
  clawdie::GrpcServer server(clawdie::ServerOptionsFor("gateway", *config, flags));
  server.AddService(&service, "clawdie.v1.Gateway");
  started = server.Start();
  if (!started.ok()) return Fail("start", started);

  // Health is SERVING only while the router can take messages.
  clawdie::gateway::RouterWatch watch(*router_channel, absl::Seconds(1),
                                      [&server](bool up) { server.SetServing(up); });
  watch.Start();
  server.Wait();
  watch.Stop();
  service.Shutdown();
  gateway.Stop();
  return 0;
}
