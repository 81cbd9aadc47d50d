#include "services/clawctl/doctor_checks.h"

#include "gtest/gtest.h"

namespace clawdie::clawctl {
namespace {

Config Parse(const std::string& text) {
  absl::StatusOr<Config> config = Config::Parse(text, "test");
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : Config();
}

TEST(CheckConfigValuesTest, DefaultsAreFine) {
  std::vector<Finding> findings = CheckConfigValues(Config());
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Severity::kOk);
}

TEST(CheckConfigValuesTest, NamesBadValuesAndUnknownKeys) {
  std::vector<Finding> findings = CheckConfigValues(
      Parse("AGENT_TIMEOUT=forever\nCLAWDIE_SANDBOX=vm\nMAX_CONCURENT_AGENTS=3\n"));
  ASSERT_EQ(findings.size(), 3u);
  EXPECT_EQ(findings[0].check, "config AGENT_TIMEOUT");
  EXPECT_EQ(findings[0].severity, Severity::kFail);
  EXPECT_EQ(findings[1].check, "config CLAWDIE_SANDBOX");
  EXPECT_EQ(findings[1].detail, "\"vm\" is not one of bwrap, docker, jail, process");
  EXPECT_EQ(findings[2].check, "config MAX_CONCURENT_AGENTS");
  EXPECT_EQ(findings[2].severity, Severity::kWarn);
}

TEST(CheckModelKeyTest, ReportsPresenceNeverTheValue) {
  Finding set = CheckModelKey(Parse("ANTHROPIC_API_KEY=sk-ant-secret\n"), false);
  EXPECT_EQ(set.severity, Severity::kOk);
  EXPECT_EQ(set.detail, "ANTHROPIC_API_KEY is set");
  EXPECT_EQ(set.detail.find("secret"), std::string::npos);

  EXPECT_EQ(CheckModelKey(Config(), true).severity, Severity::kOk);
  Finding missing = CheckModelKey(Config(), false);
  EXPECT_EQ(missing.severity, Severity::kFail);
  EXPECT_EQ(missing.fix, "set ANTHROPIC_API_KEY in the broker's configuration file");
  EXPECT_EQ(CheckModelKey(Parse("CLAWDIE_MODEL_PROVIDER=openai\n"), false).severity,
            Severity::kWarn);
}

TEST(CheckTimeZoneTest, KnownZoneIsOkUnknownFails) {
  EXPECT_EQ(CheckTimeZone(Parse("TZ=Europe/Berlin\n")).severity, Severity::kOk);
  Finding bad = CheckTimeZone(Parse("TZ=Mars/Base\n"));
  EXPECT_EQ(bad.severity, Severity::kFail);
  EXPECT_EQ(bad.detail, "TZ \"Mars/Base\" is not in the time zone database");
}

TEST(CheckDockerVersionTest, ReadsEngineAndApiVersion) {
  Finding ok = CheckDockerVersion(200, R"({"Version":"27.1.1","ApiVersion":"1.46"})");
  EXPECT_EQ(ok.severity, Severity::kOk);
  EXPECT_EQ(ok.detail, "Engine 27.1.1, API 1.46");
  EXPECT_EQ(CheckDockerVersion(200, "<html>").severity, Severity::kFail);
  EXPECT_EQ(CheckDockerVersion(500, "").detail, "GET /version answered HTTP 500");
}

TEST(CheckTelegramGetMeTest, DistinguishesBadTokenFromOtherFailures) {
  Finding ok = CheckTelegramGetMe(200, R"({"ok":true,"result":{"username":"andy_bot"}})");
  EXPECT_EQ(ok.severity, Severity::kOk);
  EXPECT_EQ(ok.detail, "token valid for @andy_bot");
  Finding bad = CheckTelegramGetMe(401, R"({"ok":false,"description":"Unauthorized"})");
  EXPECT_EQ(bad.severity, Severity::kFail);
  EXPECT_EQ(bad.fix, "copy the token again from @BotFather into TELEGRAM_BOT_TOKEN");
  EXPECT_EQ(CheckTelegramGetMe(502, "").detail, "getMe answered HTTP 502");
}

TEST(CheckSocketPathTest, FlagsMissingSocketAndWorldWritableDirectory) {
  EXPECT_EQ(CheckSocketPath("store", "/r/store.sock", true, true, 0750).severity, Severity::kOk);
  Finding missing = CheckSocketPath("store", "/r/store.sock", false, false, 0750);
  EXPECT_EQ(missing.detail, "/r/store.sock does not exist");
  Finding open = CheckSocketPath("store", "/r/store.sock", true, true, 0777);
  EXPECT_EQ(open.severity, Severity::kFail);
  EXPECT_EQ(open.fix, "chmod 0750 the socket directory");
  EXPECT_EQ(CheckSocketPath("store", "/r/store.sock", true, false, 0750).detail,
            "/r/store.sock is not a socket");
}

TEST(FindingsJsonTest, OkIsFalseWhenAnyCheckFails) {
  std::vector<Finding> findings = {{"a", Severity::kOk, "", ""}, {"b", Severity::kWarn, "", "x"}};
  EXPECT_EQ(FindingsJson(findings)["ok"], true);
  findings.push_back({"c", Severity::kFail, "broken", "fix it"});
  nlohmann::json json = FindingsJson(findings);
  EXPECT_EQ(json["ok"], false);
  EXPECT_EQ(json["checks"][2]["result"], "FAIL");
  EXPECT_EQ(json["checks"][2]["fix"], "fix it");
}

}  // namespace
}  // namespace clawdie::clawctl
