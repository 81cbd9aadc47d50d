// The gateway's gRPC health follows the router: a gateway server (common/grpc_server.h, as
// main.cc runs it) with a RouterWatch on a stand-in router that is stopped and started again
// on the same Unix socket; the test asks the gateway's grpc.health.v1 service like a probe.
#include "services/gateway/router_watch.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <thread>

#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "gtest/gtest.h"
#include "services/gateway/gateway_service.h"
#include "services/gateway/stand_in_router.h"

namespace clawdie::gateway {
namespace {

using grpc::health::v1::HealthCheckResponse;

class RouterWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = "/tmp/gwhealth.XXXXXX";
    dir_ = mkdtemp(dir.data());
    router_ = std::make_unique<StandInRouter>(dir_ + "/router.sock");
    ASSERT_TRUE(router_->Start().ok());

    ClientOptions to_router;
    to_router.target = router_->address();
    to_router.max_backoff = absl::Milliseconds(200);
    absl::StatusOr<std::shared_ptr<grpc::Channel>> router_channel = MakeChannel(to_router);
    ASSERT_TRUE(router_channel.ok()) << router_channel.status();
    router_channel_ = *router_channel;

    gateway_ = std::make_unique<Gateway>(GatewayOptions(), nullptr, RealClock());
    ASSERT_TRUE(gateway_->Start().ok());
    service_ = std::make_unique<GatewayService>(gateway_.get());
    ServerOptions options;
    options.name = "gateway";
    options.listen = "unix:" + dir_ + "/gateway.sock";
    options.drain = absl::Milliseconds(200);
    server_ = std::make_unique<GrpcServer>(options);
    server_->AddService(service_.get(), "clawdie.v1.Gateway");
    ASSERT_TRUE(server_->Start().ok());
    health_ = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(options.listen, grpc::InsecureChannelCredentials()));

    watch_ = std::make_unique<RouterWatch>(router_channel_, absl::Milliseconds(50),
                                           [this](bool up) { server_->SetServing(up); });
  }

  void TearDown() override {
    watch_->Stop();
    service_->Shutdown();
    server_->Shutdown();
    gateway_->Stop();
    router_->Stop();
  }

  // The gateway's health for `service` ("" is the whole server), or -1 when the call failed.
  int GatewayHealth(const std::string& service = "") {
    grpc::ClientContext context;
    PrepareContext(&context, absl::Seconds(1), /*wait_for_ready=*/false);
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    if (!health_->Check(&context, request, &response).ok()) return -1;
    return response.status();
  }

  // Polls the gateway's health until it is `want` (at most 10 s).
  bool AwaitHealth(int want) {
    for (int i = 0; i < 200; ++i) {
      if (GatewayHealth() == want && GatewayHealth("clawdie.v1.Gateway") == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::string dir_;
  std::unique_ptr<StandInRouter> router_;
  std::shared_ptr<grpc::Channel> router_channel_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<GatewayService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::unique_ptr<RouterWatch> watch_;
};

TEST_F(RouterWatchTest, HealthFollowsTheRouterThroughARestart) {
  // Before the watch reported anything the gateway does not claim to serve.
  EXPECT_EQ(GatewayHealth(), HealthCheckResponse::NOT_SERVING);
  watch_->Start();
  ASSERT_TRUE(AwaitHealth(HealthCheckResponse::SERVING));
  EXPECT_TRUE(watch_->router_up());

  router_->Stop();
  ASSERT_TRUE(AwaitHealth(HealthCheckResponse::NOT_SERVING));
  EXPECT_FALSE(watch_->router_up());

  ASSERT_TRUE(router_->Start().ok());
  ASSERT_TRUE(AwaitHealth(HealthCheckResponse::SERVING));
  EXPECT_TRUE(watch_->router_up());
}

TEST_F(RouterWatchTest, RouterAbsentAtStartOrNotServingCountsAsDown) {
  router_->Stop();
  watch_->Start();
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(GatewayHealth(), HealthCheckResponse::NOT_SERVING) << i;
  }
  EXPECT_FALSE(watch_->router_up());
  ASSERT_TRUE(router_->Start().ok());
  ASSERT_TRUE(AwaitHealth(HealthCheckResponse::SERVING));

  // Reachable but NOT_SERVING (its store is down): Ingest would fail, so the gateway is down.
  router_->SetServing(false);
  ASSERT_TRUE(AwaitHealth(HealthCheckResponse::NOT_SERVING));
  router_->SetServing(true);
  ASSERT_TRUE(AwaitHealth(HealthCheckResponse::SERVING));
}

}  // namespace
}  // namespace clawdie::gateway
