// Router health watch; see router_watch.h.
#include "services/gateway/router_watch.h"

#include "common/grpc_client.h"
#include "common/logging.h"

namespace clawdie::gateway {

RouterWatch::RouterWatch(std::shared_ptr<grpc::Channel> channel, absl::Duration interval,
                         std::function<void(bool)> on_change)
    : health_(grpc::health::v1::Health::NewStub(std::move(channel))),
      interval_(interval),
      on_change_(std::move(on_change)) {}

RouterWatch::~RouterWatch() { Stop(); }

void RouterWatch::Start() {
  stop_.Reset();
  thread_ = std::thread([this] { Run(); });
}

void RouterWatch::Stop() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

bool RouterWatch::Probe() {
  grpc::ClientContext context;
  // A router that is down must show at once, not after waiting for it to come back.
  PrepareContext(&context, absl::Seconds(1), /*wait_for_ready=*/false);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = health_->Check(&context, request, &response);
  return status.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

void RouterWatch::Run() {
  auto log = GetLogger("gateway");
  bool first = true;
  do {
    bool up = Probe();
    if (first || up != up_.load()) {
      up_.store(up);
      if (up) {
        log->info("router reachable: serving");
      } else {
        log->warn("router unreachable or not serving: health NOT_SERVING");
      }
      on_change_(up);
      first = false;
    }
  } while (!stop_.WaitFor(interval_));
}

}  // namespace clawdie::gateway
