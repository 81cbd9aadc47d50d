// The gateway's webhook listener end to end: a whole Gateway in Telegram webhook mode and
// with WhatsApp, real HTTP POSTs on loopback to its cpp-httplib listener, the test Bot API
// server and a Graph API stand-in as the platforms, and a stand-in router (a real gRPC
// server on a Unix socket) reached through RouterIngester. Covers setWebhook with the
// secret, the secret check, 200 only after the router took an update, 503 while it is down
// and the redelivery after, chat migrations, and WhatsApp status callbacks passed on to the
// router with their outbox entry.
#include <unistd.h>

#include <set>
#include <thread>

#include "common/grpc_client.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "services/gateway/gateway.h"
#include "services/gateway/router_client.h"
#include "services/gateway/stand_in_router.h"
#include "tests/telegram_server/telegram_test_server.h"

namespace clawdie::gateway {
namespace {

using json = nlohmann::json;

constexpr char kToken[] = "8012345678:webhook-token";
constexpr char kSecret[] = "wh-Secret_0123456789";
constexpr char kWamid[] = "wamid.HBgLNDY3MDEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA";

const json& TelegramFixture() {
  static const json* cases = new json(*clawdie::testing::LoadJsonFile(
      std::string(CLAWDIE_SHARED_FIXTURES) + "/telegram/updates.json"));
  return *cases;
}

const json& TelegramCase(const std::string& name) {
  for (const json& c : TelegramFixture()) {
    if (c["case"] == name) return c["update"];
  }
  static const json missing;
  ADD_FAILURE() << "no fixture case " << name;
  return missing;
}

const json& WhatsAppFixture() {
  static const json* fixture = new json(*clawdie::testing::LoadJsonFile(
      std::string(CLAWDIE_SHARED_FIXTURES) + "/whatsapp/webhooks.json"));
  return *fixture;
}

const json& WhatsAppCase(const std::string& name) {
  for (const json& c : WhatsAppFixture()["cases"]) {
    if (c["case"] == name) return c;
  }
  static const json missing;
  ADD_FAILURE() << "no fixture case " << name;
  return missing;
}

// A status callback as Meta posts it, for states the fixtures do not hold.
std::string StatusBody(const std::string& wamid, const std::string& state, int64_t time,
                       const json& errors = json()) {
  json status = {{"id", wamid},
                 {"status", state},
                 {"timestamp", std::to_string(time)},
                 {"recipient_id", "46701234567"}};
  if (!errors.is_null()) status["errors"] = errors;
  json body = {{"object", "whatsapp_business_account"},
               {"entry",
                {{{"id", "102938475610293"},
                  {"changes",
                   {{{"field", "messages"},
                     {"value", {{"messaging_product", "whatsapp"}, {"statuses", {status}}}}}}}}}}};
  return body.dump();
}

// The Graph API's messages endpoint: answers each send with the next queued wamid.
class GraphApiStandIn {
 public:
  GraphApiStandIn() {
    server_.Post(
        R"(/v21.0/(\d+)/messages)", [this](const httplib::Request&, httplib::Response& res) {
          std::lock_guard<std::mutex> lock(mu_);
          std::string wamid = wamids_.empty() ? "wamid.other" : wamids_.front();
          if (!wamids_.empty()) wamids_.erase(wamids_.begin());
          json reply = {{"messaging_product", "whatsapp"}, {"messages", {{{"id", wamid}}}}};
          res.set_content(reply.dump(), "application/json");
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~GraphApiStandIn() {
    server_.stop();
    thread_.join();
  }
  void Queue(const std::string& wamid) {
    std::lock_guard<std::mutex> lock(mu_);
    wamids_.push_back(wamid);
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v21.0"; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::string> wamids_;
};

class GatewayWebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = "/tmp/gwwh.XXXXXX";
    dir_ = mkdtemp(dir.data());
    ASSERT_TRUE(telegram_.Start().ok());
    router_ = std::make_unique<StandInRouter>(dir_ + "/router.sock");
    ASSERT_TRUE(router_->Start().ok());

    ClientOptions client;
    client.target = router_->address();
    client.max_backoff = absl::Milliseconds(200);
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(client);
    ASSERT_TRUE(channel.ok()) << channel.status();
    ingester_ = std::make_unique<RouterIngester>(*channel, absl::Seconds(1));

    GatewayOptions options;
    options.telegram_enabled = true;
    options.telegram.api_base = telegram_.base_url();
    options.telegram.token = kToken;
    options.telegram.state_path = dir_ + "/gateway-telegram.state";
    options.telegram.webhook = true;
    options.telegram.webhook_url = "https://bot.example.org/telegram";
    options.telegram.webhook_secret = kSecret;
    options.whatsapp_enabled = true;
    options.whatsapp_api_base = graph_.base_url();
    options.whatsapp_phone_number_id = "110022334455667";
    options.whatsapp_access_token = "wa-token";
    options.whatsapp_app_secret = WhatsAppFixture()["app_secret"];
    options.whatsapp_verify_token = WhatsAppFixture()["verify_token"];
    options.webhook_listen = "127.0.0.1:0";
    options.chunk_ledger_path = dir_ + "/gateway-outbox.ledger";
    gateway_ = std::make_unique<Gateway>(options, ingester_.get(), RealClock());
    ASSERT_TRUE(gateway_->Start().ok());
    http_ = std::make_unique<httplib::Client>("127.0.0.1", gateway_->webhook_port());
    http_->set_read_timeout(10, 0);
  }

  void TearDown() override {
    http_.reset();
    gateway_->Stop();
    router_->Stop();
  }

  // POSTs one Telegram update with `secret` in the header (none when null); the status.
  int PostUpdate(const json& update, const char* secret = kSecret) {
    httplib::Headers headers;
    if (secret != nullptr) headers.emplace("X-Telegram-Bot-Api-Secret-Token", secret);
    auto res = http_->Post("/telegram", headers, update.dump(), "application/json");
    return res ? res->status : -1;
  }

  int PostWhatsApp(const std::string& body, const std::string& signature) {
    httplib::Headers headers = {{"X-Hub-Signature-256", signature}};
    auto res = http_->Post("/webhook", headers, body, "application/json");
    return res ? res->status : -1;
  }

  int PostSignedWhatsApp(const std::string& body) {
    return PostWhatsApp(body, WhatsAppSignature(WhatsAppFixture()["app_secret"], body));
  }

  // Posts like the platform does after a failure: again until answered 200 (at most 10 s).
  int RedeliverUntilOk(const std::function<int()>& post) {
    int status = -1;
    for (int i = 0; i < 100 && status != 200; ++i) {
      status = post();
      if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return status;
  }

  std::vector<std::string> IngestedIds() {
    std::vector<std::string> ids;
    for (const clawdie::v1::IngestRequest& r : router_->ingested()) {
      ids.push_back(r.message().chat_jid() + "#" + r.message().platform_message_id());
    }
    return ids;
  }

  std::string dir_;
  clawdie::testing::TelegramTestServer telegram_{kToken};
  GraphApiStandIn graph_;
  std::unique_ptr<StandInRouter> router_;
  std::unique_ptr<RouterIngester> ingester_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(GatewayWebhookTest, StartRegistersTheWebhookWithItsSecretAndDoesNotPoll) {
  std::vector<clawdie::testing::BotApiRequest> set = telegram_.Requests("setWebhook");
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set[0].params["url"], "https://bot.example.org/telegram");
  EXPECT_EQ(set[0].params["secret_token"], kSecret);
  EXPECT_TRUE(telegram_.Requests("deleteWebhook").empty());
  EXPECT_TRUE(telegram_.Requests("getUpdates").empty());
}

TEST_F(GatewayWebhookTest, EveryFixtureUpdateIsHandledAndDuplicatesIngestedOnce) {
  for (const json& c : TelegramFixture()) {
    EXPECT_EQ(PostUpdate(c["update"]), 200) << c["case"];
  }
  // Redeliveries of updates already answered 200 are not handled again: no second ingest,
  // no second answer to /chatid.
  EXPECT_EQ(PostUpdate(TelegramCase("group_trigger_word")), 200);
  EXPECT_EQ(PostUpdate(TelegramCase("chatid_command_in_group")), 200);

  EXPECT_EQ(IngestedIds(), (std::vector<std::string>{
                               "tg:7311804522#1187",
                               "tg:-1001876543210#880",
                               "tg:-1001876543210#881",
                               "tg:-1001876543210#882",
                               "tg:-1002291837465/5210#5523",
                               "tg:-1001876543210#884",
                               "tg:-1001876543210#886",
                               "tg:7311804522#1187.edit.1767949243",
                               "tg:7311804522#1190",
                               "tg:7311804522#1191",
                               "tg:7311804522#1192",
                               "tg:-1003000000001#44",
                           }));
  // /chatid was answered once; the migration went to the router.
  EXPECT_EQ(telegram_.Requests("sendMessage").size(), 1u);
  ASSERT_EQ(router_->migrations().size(), 1u);
  EXPECT_EQ(router_->migrations()[0].from_chat_jid(), "tg:-4012345678");
  EXPECT_EQ(router_->migrations()[0].to_chat_jid(), "tg:-1001876543210");
}

TEST_F(GatewayWebhookTest, WrongOrMissingSecretIsRefusedAndNothingIngested) {
  const json& update = TelegramCase("private_text");
  EXPECT_EQ(PostUpdate(update, "wh-Secret_0123456788"), 401);  // same length, last byte off
  EXPECT_EQ(PostUpdate(update, "wh-Secret"), 401);
  EXPECT_EQ(PostUpdate(update, ""), 401);
  EXPECT_EQ(PostUpdate(update, nullptr), 401);
  EXPECT_TRUE(router_->ingested().empty());

  // Refused requests do not count as handled: the genuine delivery is ingested.
  EXPECT_EQ(PostUpdate(update), 200);
  EXPECT_EQ(IngestedIds(), std::vector<std::string>{"tg:7311804522#1187"});
}

TEST_F(GatewayWebhookTest, BodiesThatAreNoUpdateAre400AndTheListenerKeepsServing) {
  json update = TelegramCase("private_text");
  json string_id = update;
  string_id["update_id"] = "604118230";
  json empty_command = update;
  empty_command["update_id"] = 604118999;
  empty_command["message"]["message_id"] = 1300;
  empty_command["message"]["text"] = "/";
  empty_command["message"]["entities"] = {{{"type", "bot_command"}, {"offset", 0}, {"length", 0}}};
  EXPECT_EQ(PostUpdate(json::object()), 400);
  EXPECT_EQ(PostUpdate(string_id), 400);
  EXPECT_EQ(PostUpdate(json::array()), 400);
  EXPECT_EQ(PostUpdate(empty_command), 200);  // plain text, not a crash
  EXPECT_EQ(PostUpdate(update), 200);
  EXPECT_EQ(IngestedIds(), (std::vector<std::string>{"tg:7311804522#1300", "tg:7311804522#1187"}));
}

TEST_F(GatewayWebhookTest, RouterDownIsRetryableAndTheRedeliveryIsIngestedOnce) {
  router_->Stop();
  EXPECT_EQ(PostUpdate(TelegramCase("private_text")), 503);
  EXPECT_EQ(PostUpdate(TelegramCase("migrate_to_supergroup")), 503);
  ASSERT_TRUE(router_->Start().ok());

  EXPECT_EQ(RedeliverUntilOk([&] { return PostUpdate(TelegramCase("private_text")); }), 200);
  EXPECT_EQ(RedeliverUntilOk([&] { return PostUpdate(TelegramCase("migrate_to_supergroup")); }),
            200);
  EXPECT_EQ(PostUpdate(TelegramCase("duplicate_delivery")), 200);
  EXPECT_EQ(IngestedIds(), std::vector<std::string>{"tg:7311804522#1187"});
  ASSERT_EQ(router_->migrations().size(), 1u);
  EXPECT_EQ(router_->migrations()[0].to_chat_jid(), "tg:-1001876543210");
}

TEST_F(GatewayWebhookTest, WhatsAppStatusCallbacksReachTheRouterWithTheirOutboxEntry) {
  graph_.Queue(kWamid);
  absl::StatusOr<SentReply> sent =
      gateway_->Send("wa:46701234567", "Nothing on your calendar today.", "", 41);
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_EQ(sent->platform_ids, std::vector<std::string>{kWamid});

  const json& delivered = WhatsAppCase("status_delivered");
  EXPECT_EQ(PostWhatsApp(delivered["body"], delivered["x_hub_signature_256"]), 200);
  EXPECT_EQ(PostSignedWhatsApp(StatusBody(kWamid, "read", 1767950020)), 200);
  EXPECT_EQ(PostSignedWhatsApp(
                StatusBody(kWamid, "failed", 1767950030,
                           json::array({{{"code", 131026}, {"title", "Message undeliverable"}}}))),
            200);
  // A message the gateway did not send in this process: passed on without an outbox id.
  EXPECT_EQ(PostSignedWhatsApp(StatusBody("wamid.before-restart", "sent", 1767950040)), 200);

  std::vector<clawdie::v1::DeliveryReceipt> receipts = router_->receipts();
  ASSERT_EQ(receipts.size(), 4u);
  EXPECT_EQ(receipts[0].chat_jid(), "wa:46701234567");
  EXPECT_EQ(receipts[0].platform_message_id(), kWamid);
  EXPECT_EQ(receipts[0].outbox_id(), 41);
  EXPECT_EQ(receipts[0].state(), clawdie::v1::PLATFORM_DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(receipts[0].time().seconds(), 1767950010);
  EXPECT_EQ(receipts[1].state(), clawdie::v1::PLATFORM_DELIVERY_STATE_READ);
  EXPECT_EQ(receipts[1].outbox_id(), 41);
  EXPECT_EQ(receipts[2].state(), clawdie::v1::PLATFORM_DELIVERY_STATE_FAILED);
  EXPECT_EQ(receipts[2].error(), "131026: Message undeliverable");
  EXPECT_EQ(receipts[3].platform_message_id(), "wamid.before-restart");
  EXPECT_EQ(receipts[3].outbox_id(), 0);
  EXPECT_EQ(receipts[3].state(), clawdie::v1::PLATFORM_DELIVERY_STATE_SENT);
  EXPECT_TRUE(router_->ingested().empty());
}

TEST_F(GatewayWebhookTest, WhatsAppStatusWhileRouterDownIsRedelivered) {
  const json& delivered = WhatsAppCase("status_delivered");
  router_->Stop();
  EXPECT_EQ(PostWhatsApp(delivered["body"], delivered["x_hub_signature_256"]), 503);
  ASSERT_TRUE(router_->Start().ok());
  EXPECT_EQ(RedeliverUntilOk(
                [&] { return PostWhatsApp(delivered["body"], delivered["x_hub_signature_256"]); }),
            200);
  ASSERT_EQ(router_->receipts().size(), 1u);
  EXPECT_EQ(router_->receipts()[0].platform_message_id(), kWamid);

  // A forged callback is refused before anything reaches the router.
  EXPECT_EQ(PostWhatsApp(StatusBody(kWamid, "read", 1767950020), "sha256=00"), 401);
  EXPECT_EQ(router_->receipts().size(), 1u);
}

TEST(GatewayConfigTest, WebhookModeNeedsAUsableSecret) {
  std::string base =
      "TELEGRAM_BOT_TOKEN=1:x\nTELEGRAM_MODE=webhook\nCLAWDIE_WEBHOOK_LISTEN=127.0.0.1:8443\n"
      "TELEGRAM_WEBHOOK_URL=https://bot.example.org/telegram\n";
  absl::StatusOr<Config> good = Config::Parse(base + "TELEGRAM_WEBHOOK_SECRET=ok_Secret-1\n", "t");
  ASSERT_TRUE(good.ok()) << good.status();
  absl::StatusOr<GatewayOptions> options = GatewayOptionsFromConfig(*good, "/var/db/clawdie");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->telegram.webhook);
  EXPECT_EQ(options->telegram.webhook_secret, "ok_Secret-1");
  EXPECT_EQ(options->chunk_ledger_path, "/var/db/clawdie/gateway-outbox.ledger");

  absl::StatusOr<Config> bad = Config::Parse(base + "TELEGRAM_WEBHOOK_SECRET=not/allowed\n", "t");
  ASSERT_TRUE(bad.ok()) << bad.status();
  absl::Status refused = GatewayOptionsFromConfig(*bad, "/var/db/clawdie").status();
  EXPECT_EQ(refused, absl::InvalidArgumentError("config TELEGRAM_WEBHOOK_SECRET: must be 1-256 of "
                                                "A-Z, a-z, 0-9, _ and -"));

  absl::StatusOr<Config> missing = Config::Parse(base, "t");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(GatewayOptionsFromConfig(*missing, "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace clawdie::gateway
