// The gateway over gRPC with a stand-in Router (a real gRPC server in this test) on Unix
// sockets: the local channel round trip, Status, Send to Telegram via the test Bot API
// server, Telegram updates reaching Router.Ingest, and a router outage.
#include "services/gateway/gateway_service.h"

#include <grpcpp/grpcpp.h>

#include <thread>

#include "gtest/gtest.h"
#include "services/gateway/router_client.h"
#include "tests/telegram_server/telegram_test_server.h"

namespace clawdie::gateway {
namespace {

using clawdie::v1::IngestRequest;
using clawdie::v1::IngestResponse;

// Records Ingest calls; answers local messages by calling Gateway.Send like the router does.
class StandInRouter final : public clawdie::v1::Router::Service {
 public:
  grpc::Status Ingest(grpc::ServerContext*, const IngestRequest* request,
                      IngestResponse* response) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(*request);
      cv_.notify_all();
    }
    if (request->message().chat_jid().rfind("local:", 0) == 0 && gateway_ != nullptr) {
      clawdie::v1::SendRequest send;
      send.set_chat_jid(request->message().chat_jid());
      send.set_text("echo: " + request->message().text());
      clawdie::v1::SendResponse sent;
      grpc::ClientContext context;
      grpc::Status status = gateway_->Send(&context, send, &sent);
      if (!status.ok()) return status;
    }
    response->set_inserted(true);
    return grpc::Status::OK;
  }

  std::vector<IngestRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  bool AwaitRequests(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return requests_.size() >= n; });
  }

  clawdie::v1::Gateway::Stub* gateway_ = nullptr;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<IngestRequest> requests_;
};

class GatewayServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = "/tmp/gwsvc.XXXXXX";
    dir_ = mkdtemp(dir.data());
    ASSERT_TRUE(telegram_.Start().ok());
    StartRouter();

    auto router_channel =
        grpc::CreateChannel("unix:" + dir_ + "/router.sock", grpc::InsecureChannelCredentials());
    ingester_ = std::make_unique<RouterIngester>(router_channel, absl::Seconds(1));
    GatewayOptions options;
    options.telegram_enabled = true;
    options.telegram.api_base = telegram_.base_url();
    options.telegram.token = "8012345678:gw-token";
    options.telegram.poll.poll_timeout = absl::Seconds(1);
    options.telegram.poll.initial_backoff = absl::Milliseconds(10);
    options.telegram.poll.max_backoff = absl::Milliseconds(100);
    gateway_ = std::make_unique<Gateway>(options, ingester_.get(), RealClock());
    ASSERT_TRUE(gateway_->Start().ok());

    service_ = std::make_unique<GatewayService>(gateway_.get());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + dir_ + "/gateway.sock", grpc::InsecureServerCredentials());
    builder.RegisterService(service_.get());
    gateway_server_ = builder.BuildAndStart();
    ASSERT_NE(gateway_server_, nullptr);
    stub_ = clawdie::v1::Gateway::NewStub(
        grpc::CreateChannel("unix:" + dir_ + "/gateway.sock", grpc::InsecureChannelCredentials()));
    router_.gateway_ = stub_.get();
  }

  void StartRouter() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + dir_ + "/router.sock", grpc::InsecureServerCredentials());
    builder.RegisterService(&router_);
    router_server_ = builder.BuildAndStart();
    ASSERT_NE(router_server_, nullptr);
  }

  void TearDown() override {
    service_->Shutdown();
    gateway_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    gateway_->Stop();
    if (router_server_) router_server_->Shutdown();
  }

  std::string dir_;
  testing::TelegramTestServer telegram_{"8012345678:gw-token"};
  StandInRouter router_;
  std::unique_ptr<grpc::Server> router_server_;
  std::unique_ptr<RouterIngester> ingester_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<GatewayService> service_;
  std::unique_ptr<grpc::Server> gateway_server_;
  std::unique_ptr<clawdie::v1::Gateway::Stub> stub_;
};

TEST_F(GatewayServiceTest, LocalChatRoundTripThroughRouter) {
  grpc::ClientContext context;
  auto stream = stub_->LocalChat(&context);
  clawdie::v1::LocalChatRequest request;
  request.set_as("alice");
  request.set_text("hello");
  ASSERT_TRUE(stream->Write(request));

  // The router answers while ingesting, so the reply comes before the acknowledgement.
  clawdie::v1::LocalChatEvent reply, ack;
  ASSERT_TRUE(stream->Read(&reply));
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(reply.text(), "echo: hello");
  EXPECT_EQ(reply.platform_message_id().rfind("local-", 0), 0u);
  EXPECT_EQ(ack.text(), "");
  EXPECT_EQ(ack.ack_platform_message_id().rfind("local-in-", 0), 0u);

  std::vector<IngestRequest> ingested = router_.requests();
  ASSERT_EQ(ingested.size(), 1u);
  EXPECT_EQ(ingested[0].message().chat_jid(), "local:alice");
  EXPECT_EQ(ingested[0].message().sender_name(), "alice");
  EXPECT_EQ(ingested[0].message().text(), "hello");
  EXPECT_EQ(ingested[0].message().platform_message_id(), ack.ack_platform_message_id());
  EXPECT_EQ(ingested[0].chat().channel(), clawdie::v1::CHANNEL_LOCAL);
  context.TryCancel();
}

TEST_F(GatewayServiceTest, LocalChatWithBadNameIsRejected) {
  grpc::ClientContext context;
  auto stream = stub_->LocalChat(&context);
  clawdie::v1::LocalChatRequest request;
  request.set_as("no spaces");
  stream->Write(request);
  stream->WritesDone();
  clawdie::v1::LocalChatEvent event;
  EXPECT_FALSE(stream->Read(&event));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GatewayServiceTest, RouterDownEndsLocalChatWithUnavailable) {
  router_server_->Shutdown();
  router_server_.reset();
  grpc::ClientContext context;
  auto stream = stub_->LocalChat(&context);
  clawdie::v1::LocalChatRequest request;
  request.set_as("bob");
  request.set_text("anyone?");
  stream->Write(request);
  clawdie::v1::LocalChatEvent event;
  EXPECT_FALSE(stream->Read(&event));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GatewayServiceTest, SendToTelegramReturnsMessageIds) {
  clawdie::v1::SendRequest request;
  request.set_chat_jid("tg:7311804522");
  request.set_text("**Done.**");
  request.set_reply_to_platform_id("1187");
  clawdie::v1::SendResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub_->Send(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.platform_message_ids_size(), 1);
  EXPECT_EQ(response.platform_message_ids(0), "2001");
  std::vector<testing::BotApiRequest> sent = telegram_.Requests("sendMessage");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].params["text"], "<b>Done.</b>");
}

TEST_F(GatewayServiceTest, SendErrorsMapToGrpcCodes) {
  clawdie::v1::SendRequest request;
  request.set_chat_jid("wa:46701234567");
  request.set_text("hi");
  clawdie::v1::SendResponse response;
  grpc::ClientContext context;
  EXPECT_EQ(stub_->Send(&context, request, &response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // WhatsApp not configured
  grpc::ClientContext context2;
  request.set_chat_jid("irc:x");
  EXPECT_EQ(stub_->Send(&context2, request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GatewayServiceTest, TelegramUpdateReachesRouterIngest) {
  telegram_.EnqueueUpdate(
      {{"update_id", 5},
       {"message",
        {{"message_id", 9},
         {"date", 1767949200},
         {"from", {{"id", 77}, {"first_name", "Mara"}}},
         {"chat",
          {{"id", -1002291837465},
           {"type", "supergroup"},
           {"title", "Household ops"},
           {"is_forum", true}}},
         {"message_thread_id", 5210},
         {"is_topic_message", true},
         {"text", "hi @andy_home_bot"},
         {"entities", {{{"type", "mention"}, {"offset", 3}, {"length", 14}}}}}}});
  ASSERT_TRUE(router_.AwaitRequests(1));
  IngestRequest r = router_.requests()[0];
  EXPECT_EQ(r.message().chat_jid(), "tg:-1002291837465/5210");
  EXPECT_EQ(r.message().platform_message_id(), "9");
  EXPECT_TRUE(r.message().mentions_bot());
  EXPECT_EQ(r.message().time().seconds(), 1767949200);
  EXPECT_EQ(r.chat().telegram_chat_id(), -1002291837465);
  EXPECT_EQ(r.chat().telegram_thread_id(), 5210);
  EXPECT_EQ(r.chat().name(), "Household ops");
  EXPECT_TRUE(r.chat().is_group());
}

TEST_F(GatewayServiceTest, StatusListsChannels) {
  clawdie::v1::StatusResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->Status(&context, {}, &response).ok());
  ASSERT_EQ(response.channels_size(), 3);
  EXPECT_EQ(response.channels(0).name(), "telegram");
  EXPECT_TRUE(response.channels(0).enabled());
  EXPECT_EQ(response.channels(0).identity(), "@andy_home_bot");
  EXPECT_EQ(response.channels(1).name(), "whatsapp");
  EXPECT_FALSE(response.channels(1).enabled());
  EXPECT_EQ(response.channels(2).name(), "local");
  EXPECT_TRUE(response.channels(2).enabled());
}

}  // namespace
}  // namespace clawdie::gateway
