// End to end through every real binary: a Telegram update in, the model's answer out
// through sendMessage, with the sandbox backend as a parameter (process, bwrap, docker).
#include <cstdlib>

#include "absl/time/clock.h"

#include "gtest/gtest.h"
#include "tests/e2e/e2e_system.h"

namespace clawdie::e2e {
namespace {

constexpr char kReply[] = "Noted: renew the car insurance on Friday at 9.";

class TelegramPathTest : public ::testing::TestWithParam<std::string> {};

// Builds the offline agent image for the docker backend once per test binary.
void EnsureDockerImage() {
  static bool built = false;
  if (built) return;
  std::string command = std::string(CLAWDIE_SOURCE_DIR) + "/container/build-test-image.sh -a " +
                        testing::BinaryPath("container/clawdie-agent") +
                        " clawdie-agent:e2e >/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0)
      << "building the agent test image failed (is dockerd running? scripts/ensure-dockerd.sh)";
  built = true;
}

TEST_P(TelegramPathTest, PrivateTextIsAnsweredAndRecorded) {
  if (GetParam() == "docker") EnsureDockerImage();
  SystemOptions options;
  options.sandbox = GetParam();
  options.model_script.fixed_text = kReply;
  System system(options);
  absl::Status started = system.Start();
  ASSERT_TRUE(started.ok()) << started;
  ASSERT_TRUE(system.RegisterGroup("tg:7311804522", "mara", false, false).ok());

  nlohmann::json update = TelegramFixtureUpdate("private_text");
  ASSERT_FALSE(update.is_null());
  system.DeliverUpdate(update);

  std::string seen;
  ASSERT_TRUE(system.WaitForSent(1, absl::Seconds(90))) << "no reply; Bot API calls: " <<
      [&] {
        for (const auto& r : system.telegram().Requests()) seen += r.method + " ";
        return seen;
      }() << "; pending updates " << system.telegram().pending_updates()
                                                        << "\nrouter log:\n"
                                                        << system.Log("router") << "\nbroker log:\n"
                                                        << system.Log("broker");
  auto sent = system.SentMessages();
  EXPECT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, 7311804522);
  EXPECT_EQ(sent[0].second, kReply);

  // The model saw the user's words.
  auto requests = system.model().Requests();
  ASSERT_GE(requests.size(), 1u);
  EXPECT_NE(requests[0].body.find("renew the car insurance on Friday"), std::string::npos);
  EXPECT_EQ(requests[0].body.find("sk-e2e-test-key"), std::string::npos);

  // The store holds the inbound message, the delivered reply and the finished run.
  auto inbound = system.Query(
      "SELECT text FROM messages WHERE chat_jid = 'tg:7311804522' AND platform_id = '1187'");
  ASSERT_EQ(inbound.size(), 1u);
  EXPECT_EQ(inbound[0]["text"], "Remind me to renew the car insurance on Friday at 9");
  // The Bot API server saw sendMessage before the gateway answered the router, which then
  // marks the entry delivered: give that a moment.
  const std::string outbox_query =
      "SELECT text, state FROM outbox WHERE chat_jid = 'tg:7311804522'";
  for (absl::Time until = absl::Now() + absl::Seconds(10);
       absl::Now() < until && system.Query(outbox_query).size() == 1 &&
       system.Query(outbox_query)[0]["state"] != "2";) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  auto outbox = system.Query(outbox_query);
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0]["text"], kReply);
  EXPECT_EQ(outbox[0]["state"], "2");  // OUTBOX_STATE_DELIVERED
  // The agent idles for follow-ups (IDLE_TIMEOUT 2 s) before its run ends.
  const std::string run_query =
      "SELECT state, output_delivered FROM runs WHERE group_folder = 'mara'";
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline && system.Query(run_query).size() == 1 &&
         system.Query(run_query)[0]["state"] == "2") {
    absl::SleepFor(absl::Milliseconds(100));
  }
  auto runs = system.Query(run_query);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["state"], "3");  // RUN_STATE_SUCCEEDED
  EXPECT_EQ(runs[0]["output_delivered"], "1");
}

INSTANTIATE_TEST_SUITE_P(Backends, TelegramPathTest,
                         ::testing::Values("process", "bwrap", "docker"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace clawdie::e2e
