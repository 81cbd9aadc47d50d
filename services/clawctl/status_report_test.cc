#include "services/clawctl/status_report.h"

#include "gtest/gtest.h"

namespace clawdie::clawctl {
namespace {

std::vector<ServiceHealth> AllServing() {
  return {{"store", "unix:/r/store.sock", "SERVING", "", "", "0.1.0"},
          {"broker", "unix:/r/broker.sock", "SERVING", "", "sandbox bwrap"},
          {"router", "unix:/r/router.sock", "SERVING", "", ""},
          {"gateway", "unix:/r/gateway.sock", "SERVING", "", ""}};
}

TEST(StatusVerdictTest, OkOnlyWhenEveryServiceServes) {
  EXPECT_TRUE(StatusVerdict(AllServing()).ok());

  std::vector<ServiceHealth> services = AllServing();
  services[2].state = "NOT_SERVING";
  services[3].state = "UNREACHABLE";
  absl::Status verdict = StatusVerdict(services);
  EXPECT_EQ(verdict.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(verdict.message(), "status: router NOT_SERVING, gateway UNREACHABLE");
}

TEST(StatusTableTest, ShowsErrorInsteadOfDetailForUnreachableService) {
  std::vector<ServiceHealth> services = AllServing();
  services[0].state = "UNREACHABLE";
  services[0].error = "connection refused";
  EXPECT_EQ(StatusTable(services).Render(),
            "SERVICE  ADDRESS               HEALTH       VERSION  DETAIL\n"
            "store    unix:/r/store.sock    UNREACHABLE  0.1.0    connection refused\n"
            "broker   unix:/r/broker.sock   SERVING      -        sandbox bwrap\n"
            "router   unix:/r/router.sock   SERVING      -\n"
            "gateway  unix:/r/gateway.sock  SERVING      -\n");
}

TEST(StatusJsonTest, ReportsOkAndEachService) {
  nlohmann::json json = StatusJson("0.1.0", AllServing());
  EXPECT_EQ(json["version"], "0.1.0");
  EXPECT_EQ(json["ok"], true);
  ASSERT_EQ(json["services"].size(), 4u);
  EXPECT_EQ(json["services"][1]["name"], "broker");
  EXPECT_EQ(json["services"][1]["health"], "SERVING");
  EXPECT_EQ(json["services"][1]["detail"], "sandbox bwrap");
  EXPECT_EQ(json["services"][0]["version"], "0.1.0");
  EXPECT_EQ(json["services"][1]["version"], "");
}

TEST(DescribeTest, SummarisesBrokerQueueAndChannels) {
  v1::InfoResponse info;
  info.set_backend("docker");
  info.set_backend_version("27.1.1");
  info.set_model_provider("anthropic");
  info.set_model("claude-sonnet-4-5");
  info.set_model_key_present(true);
  EXPECT_EQ(DescribeBroker(info),
            "sandbox docker 27.1.1 · model anthropic/claude-sonnet-4-5 (key present)");

  v1::QueueStateResponse queue;
  queue.set_active(1);
  queue.set_max_concurrent(5);
  queue.add_groups()->set_active(true);
  queue.add_groups()->set_pending_messages(true);
  EXPECT_EQ(DescribeQueue(queue), "agents 1/5 · 1 group waiting");

  v1::StatusResponse channels;
  v1::ChannelStatus* telegram = channels.add_channels();
  telegram->set_name("telegram");
  telegram->set_enabled(true);
  telegram->set_last_error("getUpdates: 502");
  v1::ChannelStatus* local = channels.add_channels();
  local->set_name("local");
  local->set_enabled(true);
  local->set_connected(true);
  channels.add_channels()->set_name("whatsapp");
  EXPECT_EQ(DescribeChannels(channels),
            "telegram disconnected (getUpdates: 502) · local connected · whatsapp off");
}

}  // namespace
}  // namespace clawdie::clawctl
