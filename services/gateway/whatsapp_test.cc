// WhatsApp: every case in the shared webhooks.json over real HTTP on loopback, the
// verification handshake, dedup, router outage, and Graph API sends incl. 131047.
#include <map>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gtest/gtest.h"
#include "httplib.h"
#include "services/gateway/untrusted_json.h"
#include "services/gateway/webhook_server.h"
#include "services/gateway/whatsapp.h"
#include "tests/telegram_server/telegram_test_server.h"

namespace clawdie::gateway {
namespace {

using json = nlohmann::json;

const json& Fixture() {
  static const json* fixture = new json(*clawdie::testing::LoadJsonFile(
      std::string(CLAWDIE_SHARED_FIXTURES) + "/whatsapp/webhooks.json"));
  return *fixture;
}

const json& Case(const std::string& name) {
  for (const json& c : Fixture()["cases"]) {
    if (c["case"] == name) return c;
  }
  static const json missing;
  ADD_FAILURE() << "no fixture case " << name;
  return missing;
}

class RecordingIngester : public Ingester {
 public:
  absl::Status Ingest(const InboundMessage& m) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_) return absl::UnavailableError("router.sock: connection refused");
    if (m.platform_message_id == refuse_id_) return absl::InvalidArgumentError("text too long");
    messages.push_back(m);
    return absl::OkStatus();
  }
  std::mutex mu_;
  bool fail_ = false;
  std::string refuse_id_;
  std::vector<InboundMessage> messages;
};

class WhatsAppWebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.RouteWhatsApp("/webhook", &webhook_);
    absl::StatusOr<int> port = server_.Start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
  }

  int PostCase(const std::string& name) {
    const json& c = Case(name);
    httplib::Headers headers = {{"X-Hub-Signature-256", c.value("x_hub_signature_256", "")}};
    auto res = client_->Post("/webhook", headers, c["body"].get<std::string>(), "application/json");
    return res ? res->status : -1;
  }

  // POSTs `body` signed with the fixture's app secret.
  int PostSigned(const std::string& body) {
    httplib::Headers headers = {
        {"X-Hub-Signature-256", WhatsAppSignature(Fixture()["app_secret"], body)}};
    auto res = client_->Post("/webhook", headers, body, "application/json");
    return res ? res->status : -1;
  }

  RecordingIngester ingester_;
  DeliveryTracker tracker_;
  ChannelHealth health_{"whatsapp"};
  WhatsAppWebhook webhook_{Fixture()["app_secret"], Fixture()["verify_token"], &ingester_,
                           &tracker_, &health_};
  WebhookServer server_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(WhatsAppWebhookTest, VerificationHandshakeEchoesChallenge) {
  std::string request = Fixture()["verification_request"];  // "GET /webhook?..."
  auto res = client_->Get(request.substr(4).c_str());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, Fixture()["verification_expected_body"]);
}

TEST_F(WhatsAppWebhookTest, VerificationWithWrongTokenIsRefused) {
  auto res = client_->Get("/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  std::string token = Fixture()["verify_token"];
  auto no_challenge = client_->Get("/webhook?hub.mode=subscribe&hub.verify_token=" + token);
  ASSERT_TRUE(no_challenge);
  EXPECT_EQ(no_challenge->status, 400);
}

TEST_F(WhatsAppWebhookTest, TextMessageIsIngestedOnce) {
  EXPECT_EQ(PostCase("text_message"), 200);
  EXPECT_EQ(PostCase("text_message"), 200);  // Meta's redelivery
  ASSERT_EQ(ingester_.messages.size(), 1u);
  const InboundMessage& m = ingester_.messages[0];
  EXPECT_EQ(m.chat_key, "wa:46701234567");
  EXPECT_EQ(m.sender_id, "46701234567");
  EXPECT_EQ(m.sender_name, "Priya");
  EXPECT_EQ(m.chat_type, "private");
  EXPECT_EQ(m.platform_message_id,
            "wamid.HBgLNDY3MDEyMzQ1NjcVAgASGBQzQUZCNDk2RTM1QjU4RjE0QTA3OAA=");
  EXPECT_EQ(m.text, "@Andy what's on my calendar today?");
  EXPECT_EQ(m.time, absl::FromUnixSeconds(1767950000));
}

TEST_F(WhatsAppWebhookTest, StatusCallbackUpdatesDeliveryState) {
  EXPECT_EQ(PostCase("status_delivered"), 200);
  EXPECT_TRUE(ingester_.messages.empty());
  EXPECT_EQ(tracker_.StateOf("wamid.HBgLNDY3MDEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"),
            "delivered");
}

TEST_F(WhatsAppWebhookTest, ImageBecomesPlaceholderWithCaption) {
  EXPECT_EQ(PostCase("image_with_caption"), 200);
  ASSERT_EQ(ingester_.messages.size(), 1u);
  EXPECT_EQ(ingester_.messages[0].text, "[Photo] the parking ticket");
  ASSERT_EQ(ingester_.messages[0].attachments.size(), 1u);
  EXPECT_EQ(ingester_.messages[0].attachments[0],
            (InboundAttachment{"photo", "", "image/jpeg", "1203948576102938", 0}));
}

TEST_F(WhatsAppWebhookTest, TamperedBodyIsRejectedAndNothingIngested) {
  EXPECT_EQ(PostCase("tampered_body"), 401);
  EXPECT_TRUE(ingester_.messages.empty());
}

TEST_F(WhatsAppWebhookTest, RouterOutageAnswers503ThenRedeliveryIsIngested) {
  ingester_.fail_ = true;
  EXPECT_EQ(PostCase("text_message"), 503);
  ingester_.fail_ = false;
  EXPECT_EQ(PostCase("text_message"), 200);
  EXPECT_EQ(ingester_.messages.size(), 1u);
}

// A notification carrying `messages` (and `statuses`) in one change.
std::string Notification(const json& messages, const json& statuses = json::array()) {
  json value = {{"messaging_product", "whatsapp"}, {"messages", messages}, {"statuses", statuses}};
  json body = {
      {"object", "whatsapp_business_account"},
      {"entry", {{{"id", "1"}, {"changes", {{{"field", "messages"}, {"value", value}}}}}}}};
  return body.dump();
}

json TextMessage(const std::string& id, const json& from = "46701234567") {
  return {{"from", from},
          {"id", id},
          {"timestamp", "1767949200"},
          {"type", "text"},
          {"text", {{"body", "hi " + id}}}};
}

TEST_F(WhatsAppWebhookTest, MalformedMessagesAreSkippedAndTheOthersIngested) {
  json no_sender = TextMessage("wamid.a");
  no_sender.erase("from");
  json voice = {{"from", "46701234567"},
                {"id", "wamid.d"},
                {"timestamp", 1767949200},
                {"type", "audio"},
                {"audio", {{"id", "m1"}, {"voice", 1}}}};
  json location = {{"from", "46701234567"},
                   {"id", "wamid.e"},
                   {"timestamp", "1767949200"},
                   {"type", "location"},
                   {"location", {{"latitude", {{"x", 1}}}, {"longitude", 18.07}}}};
  json broken_status = {{"id", "wamid.out"}, {"status", "failed"}, {"errors", {"x"}}};
  EXPECT_EQ(PostSigned(Notification({no_sender, TextMessage("wamid.b", 46701234567), "text", voice,
                                     location, TextMessage("wamid.f")},
                                    {broken_status, 7})),
            200);
  ASSERT_EQ(ingester_.messages.size(), 3u);
  EXPECT_EQ(ingester_.messages[0].text, "[Audio]");
  EXPECT_EQ(ingester_.messages[1].text, "[Location: ?, 18.07]");
  EXPECT_EQ(ingester_.messages[2].text, "hi wamid.f");
  EXPECT_EQ(ingester_.messages[2].chat_key, "wa:46701234567");
  EXPECT_EQ(ingester_.messages[2].time, absl::FromUnixSeconds(1767949200));
  // A timestamp that is no decimal string becomes the time of receipt, not 1970.
  EXPECT_GT(ingester_.messages[0].time, absl::FromUnixSeconds(1767949200));
}

TEST_F(WhatsAppWebhookTest, MessageTheRouterRefusesIsDroppedAndTheRestIngested) {
  ingester_.refuse_id_ = "wamid.long";
  std::string body = Notification({TextMessage("wamid.long"), TextMessage("wamid.next")});
  EXPECT_EQ(PostSigned(body), 200);
  ASSERT_EQ(ingester_.messages.size(), 1u);
  EXPECT_EQ(ingester_.messages[0].platform_message_id, "wamid.next");
  // Meta's redelivery is answered at once without asking the router again.
  ingester_.refuse_id_.clear();
  EXPECT_EQ(PostSigned(body), 200);
  EXPECT_EQ(ingester_.messages.size(), 1u);
}

TEST_F(WhatsAppWebhookTest, DeeplyNestedSignedBodyIsRefusedWithoutCrashing) {
  std::string body = R"({"object":"whatsapp_business_account","entry":)" +
                     std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(PostSigned(body), 400);
  EXPECT_EQ(PostCase("text_message"), 200);  // still serving
}

TEST_F(WhatsAppWebhookTest, ChunkedBodyOverTheLimitIsRefusedAsItArrives) {
  // Raw HTTP, since the server may close the connection while the body is still coming.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string head =
      "POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "X-Hub-Signature-256: sha256=00\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  std::string chunk = "10000\r\n" + std::string(0x10000, 'a') + "\r\n";
  size_t sent = 0;
  constexpr size_t kOffered = 64 * 1024 * 1024;
  while (sent<kOffered&& ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL)> 0) {
    sent += 0x10000;
  }
  char reply[64] = {};
  ssize_t got = ::recv(fd, reply, sizeof(reply) - 1, 0);
  ::close(fd);

  // The server stopped reading at its limit: either its 413 arrived or, when it closed with
  // the rest unread, the connection was reset. Reading it all would have taken 64 MiB.
  EXPECT_LT(sent, kOffered);
  if (got > 0) EXPECT_EQ(std::string(reply, 12), "HTTP/1.1 413");
  EXPECT_TRUE(ingester_.messages.empty());
  EXPECT_EQ(PostCase("text_message"), 200);  // still serving
}

TEST(WhatsAppParseTest, JsonDepthIsCountedOutsideStringsOnly) {
  EXPECT_TRUE(JsonDepthWithin(R"({"a":[[1]]})", 3));
  EXPECT_FALSE(JsonDepthWithin(R"({"a":[[1]]})", 2));
  EXPECT_TRUE(JsonDepthWithin(R"({"a":"[[[[\"[[["})", 1));
}

TEST(WhatsAppSignatureTest, MatchesFixtureAndRejectsOthers) {
  const json& c = Case("text_message");
  EXPECT_EQ(WhatsAppSignature(Fixture()["app_secret"], c["body"]), c["x_hub_signature_256"]);
  EXPECT_TRUE(
      VerifyWhatsAppSignature(Fixture()["app_secret"], c["body"], c["x_hub_signature_256"]));
  EXPECT_FALSE(VerifyWhatsAppSignature("other-secret", c["body"], c["x_hub_signature_256"]));
  EXPECT_FALSE(VerifyWhatsAppSignature(Fixture()["app_secret"], c["body"], ""));
  EXPECT_FALSE(VerifyWhatsAppSignature(Fixture()["app_secret"], c["body"], "sha256=00"));
}

// A Graph API stand-in: POST /v21.0/<phone id>/messages.
class GraphApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Post(
        R"(/v21.0/(\d+)/messages)", [this](const httplib::Request& req, httplib::Response& res) {
          std::lock_guard<std::mutex> lock(mu_);
          requests_.push_back({req.get_header_value("Authorization"), json::parse(req.body)});
          if (!scripted_.empty()) {
            res.status = scripted_.front().first;
            res.set_content(scripted_.front().second, "application/json");
            scripted_.erase(scripted_.begin());
            return;
          }
          json reply = {{"messaging_product", "whatsapp"},
                        {"messages", {{{"id", "wamid.sent" + std::to_string(requests_.size())}}}}};
          res.set_content(reply.dump(), "application/json");
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    client_ = std::make_unique<WhatsAppClient>(
        "http://127.0.0.1:" + std::to_string(port_) + "/v21.0", "110022334455667", "wa-token");
  }
  void TearDown() override {
    client_.reset();  // close pooled keep-alive connections so stop() returns at once
    server_.stop();
    thread_.join();
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::pair<std::string, json>> requests_;
  std::vector<std::pair<int, std::string>> scripted_;
  std::unique_ptr<WhatsAppClient> client_;
};

TEST_F(GraphApiTest, SendsTextWithBearerToken) {
  absl::StatusOr<std::string> id = client_->SendText("wa:46701234567", "hello", "wamid.in");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "wamid.sent1");
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].first, "Bearer wa-token");
  EXPECT_EQ(requests_[0].second["to"], "46701234567");
  EXPECT_EQ(requests_[0].second["text"]["body"], "hello");
  EXPECT_EQ(requests_[0].second["context"]["message_id"], "wamid.in");
}

TEST_F(GraphApiTest, OutsideWindowIsPermanentWithClearMessage) {
  scripted_.push_back({400, Case("outside_window_error")["body"].get<std::string>()});
  absl::StatusOr<std::string> id = client_->SendText("wa:46701234567", "hello");
  EXPECT_EQ(id.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(id.status().message()),
            "send wa:46701234567: outside the 24-hour customer service window (131047); "
            "WhatsApp only delivers free-form text within 24 hours of the user's last message");
}

TEST_F(GraphApiTest, SenderRetriesServerErrorsAndNotTheWindowError) {
  FakeClock clock(absl::FromUnixSeconds(1767949200), /*auto_advance=*/true);
  WhatsAppSender sender(client_.get(), &clock);
  scripted_.push_back({500, R"({"error":{"message":"Internal","code":2}})"});
  absl::StatusOr<std::vector<std::string>> ids = sender.Send("wa:46701234567", "hello");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(requests_.size(), 2u);
  EXPECT_EQ(clock.total_slept(), absl::Seconds(1));

  scripted_.push_back({400, Case("outside_window_error")["body"].get<std::string>()});
  EXPECT_EQ(sender.Send("wa:46701234567", "again").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(requests_.size(), 3u);
}

TEST_F(GraphApiTest, MalformedErrorBodyIsAnErrorNotACrash) {
  scripted_.push_back({400, R"({"error":{"code":"131047","message":null}})"});
  scripted_.push_back({400, R"({"error":[1,2]})"});
  scripted_.push_back({200, R"({"messages":true})"});
  EXPECT_EQ(client_->SendText("wa:46701234567", "a").status().message(),
            "send wa:46701234567: HTTP 400");
  EXPECT_EQ(client_->SendText("wa:46701234567", "b").status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Taken (HTTP 200) but without an id: counted as sent, never posted twice.
  absl::StatusOr<std::string> taken = client_->SendText("wa:46701234567", "c");
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(*taken, "0");
  EXPECT_EQ(requests_.size(), 3u);
}

TEST_F(GraphApiTest, RejectsNonWhatsAppKey) {
  EXPECT_EQ(client_->SendText("tg:1", "x").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace clawdie::gateway
