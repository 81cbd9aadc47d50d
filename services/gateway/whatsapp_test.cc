// WhatsApp: every case in the shared webhooks.json over real HTTP on loopback, the
// verification handshake, dedup, router outage, and Graph API sends incl. 131047.
#include <map>

#include "gtest/gtest.h"
#include "httplib.h"
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
    messages.push_back(m);
    return absl::OkStatus();
  }
  std::mutex mu_;
  bool fail_ = false;
  std::vector<InboundMessage> messages;
};

class WhatsAppWebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.RouteWhatsApp("/webhook", &webhook_);
    absl::StatusOr<int> port = server_.Start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
  }

  int PostCase(const std::string& name) {
    const json& c = Case(name);
    httplib::Headers headers = {{"X-Hub-Signature-256", c.value("x_hub_signature_256", "")}};
    auto res = client_->Post("/webhook", headers, c["body"].get<std::string>(), "application/json");
    return res ? res->status : -1;
  }

  RecordingIngester ingester_;
  DeliveryTracker tracker_;
  ChannelHealth health_{"whatsapp"};
  WhatsAppWebhook webhook_{Fixture()["app_secret"], Fixture()["verify_token"], &ingester_,
                           &tracker_, &health_};
  WebhookServer server_;
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

TEST_F(GraphApiTest, RejectsNonWhatsAppKey) {
  EXPECT_EQ(client_->SendText("tg:1", "x").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace clawdie::gateway
