#include "services/router/router_server.h"

#include <chrono>

#include "common/grpc_client.h"
#include "common/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/router/group_cache.h"
#include "services/router/router_log.h"

namespace clawdie::router {
namespace {

constexpr absl::Duration kHealthInterval = absl::Seconds(1);
// Run starts and follow-ups block on store calls; enough threads keep their fsyncs batched.
constexpr int kWorkerThreads = 64;
// How long a group lookup is reused; the router's own group writes clear it at once.
constexpr absl::Duration kGroupCacheTtl = absl::Seconds(5);

absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelTo(const std::string& name,
                                                         const Config& config) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      MakeChannel(ClientOptionsFor(name, config));
  if (!channel.ok()) return Annotate(channel.status(), "connect " + name);
  return channel;
}

// True when the store answers its health check as SERVING within a second.
bool StoreServing(grpc::health::v1::Health::Stub* health) {
  grpc::ClientContext context;
  PrepareContext(&context, absl::Seconds(1), /*wait_for_ready=*/false);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = health->Check(&context, request, &response);
  return status.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RouterServer>> RouterServer::Create(const Config& config,
                                                                   const ServiceFlags& flags) {
  absl::StatusOr<RouterOptions> options = RouterOptions::FromConfig(config);
  if (!options.ok()) return options.status();
  absl::StatusOr<absl::Duration> call_timeout =
      config.GetDuration("CLAWDIE_CALL_TIMEOUT", absl::Seconds(10));
  if (!call_timeout.ok()) return call_timeout.status();

  std::unique_ptr<RouterServer> server(new RouterServer());
  absl::StatusOr<std::shared_ptr<grpc::Channel>> store = ChannelTo("store", config);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> broker = ChannelTo("broker", config);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> gateway = ChannelTo("gateway", config);
  if (!store.ok()) return store.status();
  if (!broker.ok()) return broker.status();
  if (!gateway.ok()) return gateway.status();
  server->store_channel_ = *store;

  server->clock_ = std::make_unique<SystemClock>();
  server->executor_ = std::make_unique<ThreadPoolExecutor>(kWorkerThreads, server->clock_.get());
  server->grpc_store_ = std::make_unique<GrpcStoreClient>(*store, *call_timeout);
  server->store_ = std::make_unique<GroupCachingStore>(server->grpc_store_.get(),
                                                       server->clock_.get(), kGroupCacheTtl);
  server->broker_ = std::make_unique<GrpcAgentBroker>(
      *broker, options->agent_timeout + options->idle_timeout + absl::Minutes(5));
  server->gateway_ = std::make_unique<GrpcGatewayClient>(*gateway, *call_timeout);
  std::string assistant = options->assistant_name;
  Log()->info(
      "router: assistant {}, at most {} agents, prompt cap {}, scheduler {}, store {}, "
      "broker {}, gateway {}",
      assistant, options->max_concurrent_agents, options->prompt_max_messages,
      options->scheduler_owner, ServiceAddress(config, "store"), ServiceAddress(config, "broker"),
      ServiceAddress(config, "gateway"));
  server->router_ = std::make_unique<Router>(*std::move(options), server->store_.get(),
                                             server->broker_.get(), server->gateway_.get(),
                                             server->clock_.get(), server->executor_.get());
  server->service_ =
      std::make_unique<RouterService>(server->router_.get(), server->store_.get(), assistant);
  server->server_ = std::make_unique<GrpcServer>(ServerOptionsFor("router", config, flags));
  server->server_->AddService(server->service_.get(), "clawdie.v1.Router");
  return server;
}

RouterServer::~RouterServer() {
  stop_ = true;
  if (monitor_.joinable()) monitor_.join();
}

int RouterServer::Run() {
  absl::Status started = server_->Start();
  if (!started.ok()) {
    Log()->error("start router: {}", std::string(started.message()));
    return 1;
  }
  monitor_ = std::thread([this] { MonitorStore(); });
  server_->Wait();

  Log()->info("router: draining");
  stop_ = true;
  if (monitor_.joinable()) monitor_.join();
  router_->Shutdown(absl::Seconds(5));
  executor_->Shutdown();
  Log()->info("router: stopped");
  return 0;
}

void RouterServer::MonitorStore() {
  auto health = grpc::health::v1::Health::NewStub(store_channel_);
  bool recovered = false;
  bool serving = false;
  while (!stop_) {
    bool up = StoreServing(health.get());
    // Unfinished runs are recovered once, as soon as the store first answers.
    if (up && !recovered) {
      absl::Status status = router_->Start();
      if (status.ok()) {
        recovered = true;
      } else {
        Log()->warn("router: recovering runs: {}", std::string(status.message()));
        up = false;
      }
    }
    if (up != serving) {
      serving = up;
      server_->SetServing(serving);
      if (serving) {
        Log()->info("router: store reachable, serving");
      } else {
        Log()->warn("router: store unreachable, health NOT_SERVING");
      }
    }
    for (int i = 0; i < 10 && !stop_; ++i) {
      std::this_thread::sleep_for(absl::ToChronoMilliseconds(kHealthInterval / 10));
    }
  }
}

}  // namespace clawdie::router
