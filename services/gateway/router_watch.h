// Follows whether clawdie-router can take messages, so the gateway's own gRPC health says
// NOT_SERVING while it cannot (DESIGN.md §1: health follows a dependency the service cannot
// work without). The router counts as up when its health check answers SERVING within a
// second; it reports NOT_SERVING itself while its store is down, and then Ingest fails too.
// The channels do not need the watch: they keep updates unconfirmed while Ingest fails.
//
// Thread-safety: Start and Stop from one thread; the callback runs on the watch's thread.
#ifndef CLAWDIE_SERVICES_GATEWAY_ROUTER_WATCH_H_
#define CLAWDIE_SERVICES_GATEWAY_ROUTER_WATCH_H_

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/channel.h"
#include "services/gateway/clock.h"

namespace clawdie::gateway {

class RouterWatch {
 public:
  // Probes the router on `channel` every `interval` and calls `on_change(up)` with the first
  // result and on every change.
  RouterWatch(std::shared_ptr<grpc::Channel> channel, absl::Duration interval,
              std::function<void(bool up)> on_change);
  ~RouterWatch();

  void Start();
  // Stops probing; returns once the watch's thread ended.
  void Stop();

  // The last probe's result (false before the first).
  bool router_up() const { return up_.load(); }

 private:
  bool Probe();
  void Run();

  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  absl::Duration interval_;
  std::function<void(bool)> on_change_;
  std::atomic<bool> up_{false};
  Wakeup stop_;
  std::thread thread_;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_ROUTER_WATCH_H_
