// The gateway over gRPC with a stand-in Router (a real gRPC server in this test) on Unix
// sockets: the local channel round trip, Status, Send to Telegram via the test Bot API
// server, Telegram updates and chat migrations reaching the router, a router outage, and a
// multi-chunk reply that fails part way: the error names what went out and the router's
// retry of the same outbox entry sends each chunk once, also across a gateway restart.
#include "services/gateway/gateway_service.h"

#include <grpcpp/grpcpp.h>

#include <map>
#include <thread>

#include "gtest/gtest.h"
#include "services/gateway/chunker.h"
#include "services/gateway/router_client.h"
#include "services/gateway/stand_in_router.h"
#include "services/gateway/telegram_html.h"
#include "tests/telegram_server/telegram_test_server.h"

namespace clawdie::gateway {
namespace {

using clawdie::v1::IngestRequest;

class GatewayServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = "/tmp/gwsvc.XXXXXX";
    dir_ = mkdtemp(dir.data());
    ASSERT_TRUE(telegram_.Start().ok());
    router_ = std::make_unique<StandInRouter>(dir_ + "/router.sock");
    // Like the router, answer local messages by calling Gateway.Send while ingesting.
    router_->on_ingest = [this](const IngestRequest& request) {
      if (request.message().chat_jid().rfind("local:", 0) != 0) return grpc::Status::OK;
      clawdie::v1::SendRequest send;
      send.set_chat_jid(request.message().chat_jid());
      send.set_text("echo: " + request.message().text());
      clawdie::v1::SendResponse sent;
      grpc::ClientContext context;
      return stub_->Send(&context, send, &sent);
    };
    ASSERT_TRUE(router_->Start().ok());

    auto router_channel =
        grpc::CreateChannel(router_->address(), grpc::InsecureChannelCredentials());
    ingester_ = std::make_unique<RouterIngester>(router_channel, absl::Seconds(1));
    options_.telegram_enabled = true;
    options_.telegram.api_base = telegram_.base_url();
    options_.telegram.token = "8012345678:gw-token";
    options_.telegram.poll.poll_timeout = absl::Seconds(1);
    options_.telegram.poll.initial_backoff = absl::Milliseconds(10);
    options_.telegram.poll.max_backoff = absl::Milliseconds(100);
    // Quick retries, so a chunk Telegram keeps refusing gives up in milliseconds.
    options_.telegram.send.max_transient_attempts = 2;
    options_.telegram.send.initial_backoff = absl::Milliseconds(10);
    options_.telegram.send.pacing.per_chat = absl::Milliseconds(20);
    options_.chunk_ledger_path = dir_ + "/gateway-outbox.ledger";
    StartGateway();
  }

  // (Re)starts the gateway and its gRPC service, as a restarted process would.
  void StartGateway() {
    if (gateway_server_) StopGateway();
    gateway_ = std::make_unique<Gateway>(options_, ingester_.get(), RealClock());
    ASSERT_TRUE(gateway_->Start().ok());
    service_ = std::make_unique<GatewayService>(gateway_.get());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + dir_ + "/gateway.sock", grpc::InsecureServerCredentials());
    builder.RegisterService(service_.get());
    gateway_server_ = builder.BuildAndStart();
    ASSERT_NE(gateway_server_, nullptr);
    stub_ = clawdie::v1::Gateway::NewStub(
        grpc::CreateChannel("unix:" + dir_ + "/gateway.sock", grpc::InsecureChannelCredentials()));
  }

  void StopGateway() {
    service_->Shutdown();
    gateway_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    gateway_server_.reset();
    gateway_->Stop();
  }

  void TearDown() override {
    StopGateway();
    router_->Stop();
  }

  // Gateway.Send as the router's Deliverer calls it.
  grpc::Status Send(const std::string& chat, const std::string& text, int64_t outbox_id,
                    clawdie::v1::SendResponse* response) {
    clawdie::v1::SendRequest request;
    request.set_chat_jid(chat);
    request.set_text(text);
    request.set_outbox_id(outbox_id);
    grpc::ClientContext context;
    return stub_->Send(&context, request, response);
  }

  std::string dir_;
  testing::TelegramTestServer telegram_{"8012345678:gw-token"};
  std::unique_ptr<StandInRouter> router_;
  std::unique_ptr<RouterIngester> ingester_;
  GatewayOptions options_;
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

  std::vector<IngestRequest> ingested = router_->ingested();
  ASSERT_EQ(ingested.size(), 1u);
  EXPECT_EQ(ingested[0].message().chat_jid(), "local:alice");
  EXPECT_EQ(ingested[0].message().sender_name(), "alice");
  EXPECT_EQ(ingested[0].message().text(), "hello");
  EXPECT_EQ(ingested[0].message().platform_message_id(), ack.ack_platform_message_id());
  EXPECT_EQ(ingested[0].chat().channel(), clawdie::v1::CHANNEL_LOCAL);
  context.TryCancel();
}

TEST_F(GatewayServiceTest, LocalChatWithBadNameIsRejected) {
  for (const char* name : {"no spaces", ".", "..", "-rf", ""}) {
    grpc::ClientContext context;
    auto stream = stub_->LocalChat(&context);
    clawdie::v1::LocalChatRequest request;
    request.set_as(name);
    request.set_text("hello");
    stream->Write(request);
    stream->WritesDone();
    clawdie::v1::LocalChatEvent event;
    EXPECT_FALSE(stream->Read(&event)) << name;
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
  }
}

TEST_F(GatewayServiceTest, RouterDownEndsLocalChatWithUnavailable) {
  router_->Stop();
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
  ASSERT_TRUE(router_->AwaitIngested(1));
  IngestRequest r = router_->ingested()[0];
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

// A reply that splits into exactly three chunks (one per paragraph).
std::string ThreeChunkReply() {
  std::string text;
  for (int p = 0; p < 3; ++p) {
    if (p > 0) text += "\n\n";
    for (int w = 0; w < 500; ++w) text += "p" + std::to_string(p) + " word ";
  }
  return text;
}

const nlohmann::json kBadGateway = {
    {"ok", false}, {"error_code", 502}, {"description", "Bad Gateway"}};

std::vector<std::string> Ids(const clawdie::v1::SendResponse& response) {
  return {response.platform_message_ids().begin(), response.platform_message_ids().end()};
}

TEST_F(GatewayServiceTest, TelegramMigrationReachesTheRouter) {
  absl::StatusOr<nlohmann::json> cases =
      testing::LoadJsonFile(std::string(CLAWDIE_SHARED_FIXTURES) + "/telegram/updates.json");
  ASSERT_TRUE(cases.ok());
  for (const nlohmann::json& c : *cases) {
    if (c["case"] == "migrate_to_supergroup") telegram_.EnqueueUpdate(c["update"]);
  }
  ASSERT_TRUE(router_->AwaitMigrations(1));
  EXPECT_EQ(router_->migrations()[0].from_chat_jid(), "tg:-4012345678");
  EXPECT_EQ(router_->migrations()[0].to_chat_jid(), "tg:-1001876543210");
  EXPECT_TRUE(router_->ingested().empty());
}

TEST_F(GatewayServiceTest, PartialDeliveryIsReportedAndTheRetryResumesAfterIt) {
  std::string text = ThreeChunkReply();
  std::vector<Chunk> chunks = SplitMessage(text);
  ASSERT_EQ(chunks.size(), 3u);
  // Telegram refuses the second chunk on both attempts the sender makes.
  telegram_.Script("sendMessage", kBadGateway, std::nullopt, /*times=*/2, /*skip=*/1);

  clawdie::v1::SendResponse response;
  grpc::Status failed = Send("tg:7311804522", text, 41, &response);
  EXPECT_EQ(failed.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(failed.error_message().find("; 1 of 3 chunks were delivered before the failure: 2001"),
            std::string::npos)
      << failed.error_message();

  // The router retries outbox 41: only the missing chunks go out.
  grpc::Status resumed = Send("tg:7311804522", text, 41, &response);
  ASSERT_TRUE(resumed.ok()) << resumed.error_message();
  EXPECT_EQ(Ids(response), (std::vector<std::string>{"2001", "2002", "2003"}));
  EXPECT_EQ(response.chunks_already_delivered(), 1);

  // Once more, as after a router crash before MarkDelivered: nothing is sent again.
  clawdie::v1::SendResponse again;
  ASSERT_TRUE(Send("tg:7311804522", text, 41, &again).ok());
  EXPECT_EQ(Ids(again), Ids(response));
  EXPECT_EQ(again.chunks_already_delivered(), 3);

  // Every chunk reached the chat once: the second was tried three times, two were refused.
  std::map<std::string, int> tries;
  for (const auto& request : telegram_.Requests("sendMessage")) {
    ++tries[request.params["text"].get<std::string>()];
  }
  EXPECT_EQ(tries.size(), 3u);
  EXPECT_EQ(tries[RenderChunkHtml(chunks[0])], 1);
  EXPECT_EQ(tries[RenderChunkHtml(chunks[1])], 3);
  EXPECT_EQ(tries[RenderChunkHtml(chunks[2])], 1);
  // No reply-to was asked for, and the resumed attempt added none.
  for (const auto& request : telegram_.Requests("sendMessage")) {
    EXPECT_FALSE(request.params.contains("reply_parameters"));
  }
}

TEST_F(GatewayServiceTest, RetryAfterAGatewayRestartResumesFromTheLedger) {
  std::string text = ThreeChunkReply();
  telegram_.Script("sendMessage", kBadGateway, std::nullopt, /*times=*/2, /*skip=*/1);
  clawdie::v1::SendResponse response;
  ASSERT_EQ(Send("tg:7311804522", text, 42, &response).error_code(), grpc::StatusCode::UNAVAILABLE);

  StartGateway();  // a new process on the same data directory
  grpc::Status resumed = Send("tg:7311804522", text, 42, &response);
  ASSERT_TRUE(resumed.ok()) << resumed.error_message();
  EXPECT_EQ(Ids(response), (std::vector<std::string>{"2001", "2002", "2003"}));
  EXPECT_EQ(response.chunks_already_delivered(), 1);
  EXPECT_EQ(telegram_.Requests("sendMessage").size(), 5u);  // 1 + 2 refused + 2
}

TEST_F(GatewayServiceTest, RetryWhileTheFirstAttemptIsStillSendingIsUnavailable) {
  // The first attempt waits out a one-second rate limit on its first chunk.
  telegram_.Script("sendMessage", {{"ok", false},
                                   {"error_code", 429},
                                   {"description", "Too Many Requests: retry after 1"},
                                   {"parameters", {{"retry_after", 1}}}});
  clawdie::v1::SendResponse first_response;
  grpc::Status first;
  std::thread attempt([&] { first = Send("tg:7311804522", "**Done.**", 43, &first_response); });
  ASSERT_TRUE(telegram_.WaitForRequests("sendMessage", 1));

  clawdie::v1::SendResponse second_response;
  grpc::Status second = Send("tg:7311804522", "**Done.**", 43, &second_response);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(second.error_message().find("an earlier attempt is still sending it"),
            std::string::npos);
  attempt.join();
  ASSERT_TRUE(first.ok()) << first.error_message();
  EXPECT_EQ(Ids(first_response), std::vector<std::string>{"2001"});
  EXPECT_EQ(telegram_.Requests("sendMessage").size(), 2u);  // the 429 and the delivery
}

}  // namespace
}  // namespace clawdie::gateway
