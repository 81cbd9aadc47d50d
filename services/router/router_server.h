// Everything clawdie-router's main() wires together: the clients of the store,
// broker and gateway (addresses from the config, CLAWDIE_<NAME>_ADDR), the
// executor, the Router core, the gRPC service, and the health monitor that
// reports NOT_SERVING while the store cannot be reached.
//
// Thread-safety: Create and Run are called from the main thread.
#ifndef CLAWDIE_SERVICES_ROUTER_ROUTER_SERVER_H_
#define CLAWDIE_SERVICES_ROUTER_ROUTER_SERVER_H_

#include <atomic>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "common/config.h"
#include "common/grpc_server.h"
#include "common/service_main.h"
#include "services/router/router.h"
#include "services/router/router_service.h"

namespace clawdie::router {

class RouterServer {
 public:
  // Builds the objects; connects lazily. InvalidArgument for bad config values or addresses.
  static absl::StatusOr<std::unique_ptr<RouterServer>> Create(const Config& config,
                                                              const ServiceFlags& flags);
  ~RouterServer();

  // Listens, recovers unfinished runs (waiting for the store if needed), serves until
  // SIGTERM/SIGINT, then drains. Returns the process exit code.
  int Run();

 private:
  RouterServer() = default;
  void MonitorStore();

  std::unique_ptr<SystemClock> clock_;
  std::unique_ptr<ThreadPoolExecutor> executor_;
  std::unique_ptr<StoreClient> grpc_store_;
  std::unique_ptr<StoreClient> store_;  // grpc_store_ behind the group cache
  std::unique_ptr<AgentBroker> broker_;
  std::unique_ptr<GatewayClient> gateway_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<RouterService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> store_channel_;
  std::atomic<bool> stop_{false};
  std::thread monitor_;
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_ROUTER_SERVER_H_
