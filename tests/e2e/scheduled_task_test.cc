// A tool round trip end to end: the model calls schedule_task for a moment from now, the
// task shows in `clawctl tasks list`, fires, and its output reaches the chat; `clawctl
// messages` then shows the conversation and `clawctl send --wait` prints a new reply.
#include <cstdio>

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_system.h"

namespace clawdie::e2e {
namespace {

std::string RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buf[512];
  while (fgets(buf, sizeof(buf), pipe) != nullptr) output += buf;
  pclose(pipe);
  return output;
}

TEST(ScheduledTaskTest, ModelSchedulesOnceTaskThatFiresAndDelivers) {
  // The fixture schedules "2026-12-11T09:00:00"; move it to 20 s from now (UTC wall time).
  std::string soon =
      absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::Now() + absl::Seconds(20), absl::UTCTimeZone());
  nlohmann::json script = {
      {"responses",
       {{{"file", "anthropic/schedule_task_tool.sse"},
         {"replace", {{"2026-12-11T09:00:00", soon}}}},
        {{"status", 200},
         {"headers", {{"content-type", "text/event-stream"}}},
         {"body", testing::FixedTextStream("/v1/messages", "I will remind you.")}}}},
      {"fixed_text", "Reminder: renew the car insurance today."}};
  auto parsed = testing::ParseScript(script, CLAWDIE_SHARED_FIXTURES);
  ASSERT_TRUE(parsed.ok()) << parsed.status();

  SystemOptions options;
  options.model_script = *parsed;
  System system(options);
  absl::Status started = system.Start();
  ASSERT_TRUE(started.ok()) << started;
  ASSERT_TRUE(system.RegisterGroup("tg:7311804522", "mara", false, false).ok());
  system.DeliverUpdate(TelegramFixtureUpdate("private_text"));

  ASSERT_TRUE(system.WaitForSent(1, absl::Seconds(60))) << system.Log("router");
  EXPECT_EQ(system.SentMessages()[0].second, "I will remind you.");

  const std::string clawctl =
      testing::BinaryPath("services/clawctl/clawctl") + " --run-dir " + system.dir() + "/run ";
  std::string listing = RunCommand(clawctl + "--json tasks list");
  EXPECT_NE(listing.find("Remind Mara to renew the car insurance"), std::string::npos) << listing;
  auto tasks = system.Query("SELECT kind, expression, state, context_mode FROM tasks");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["kind"], "3");  // TASK_KIND_ONCE
  EXPECT_EQ(tasks[0]["expression"], soon);
  EXPECT_EQ(tasks[0]["context_mode"], "2");  // CONTEXT_MODE_ISOLATED

  ASSERT_TRUE(system.WaitForSent(2, absl::Seconds(90))) << system.Log("router");
  auto sent = system.SentMessages();
  EXPECT_EQ(sent[1].first, 7311804522);
  EXPECT_EQ(sent[1].second, "Reminder: renew the car insurance today.");
  // The task run ends once the agent's idle wait is over; then the task completes.
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline && system.Query("SELECT state FROM tasks")[0]["state"] != "3") {
    absl::SleepFor(absl::Milliseconds(100));
  }
  auto done = system.Query("SELECT state FROM tasks");
  EXPECT_EQ(done[0]["state"], "3");  // TASK_STATE_COMPLETED
  EXPECT_EQ(system.Query("SELECT ok FROM task_runs").size(), 1u);

  // Both replies are delivered; the conversation lists them after the question.
  const std::string delivered = "SELECT id FROM outbox WHERE state = 2";
  for (absl::Time until = absl::Now() + absl::Seconds(10);
       absl::Now() < until && system.Query(delivered).size() < 2;) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  std::string conversation = RunCommand(clawctl + "messages --chat tg:7311804522");
  std::vector<std::string> lines = absl::StrSplit(conversation, '\n');
  ASSERT_EQ(lines.size(), 5u) << conversation;  // header, three rows, the final newline
  EXPECT_THAT(lines[1], ::testing::HasSubstr("Remind me to renew the car insurance")) << lines[1];
  EXPECT_THAT(lines[2], ::testing::ContainsRegex("I will remind you\\. +delivered$")) << lines[2];
  EXPECT_THAT(lines[3], ::testing::ContainsRegex("Reminder: renew the car insurance today\\. +"
                                                 "delivered$"))
      << lines[3];

  // A message injected with --wait prints the reply the chat got on Telegram.
  std::string waited = RunCommand(clawctl + "send --chat tg:7311804522 --wait 'thank you' 2>&1");
  EXPECT_EQ(waited, "Reminder: renew the car insurance today.\n");
  ASSERT_TRUE(system.WaitForSent(3, absl::Seconds(30))) << system.Log("router");
  EXPECT_EQ(system.SentMessages()[2].second, "Reminder: renew the car insurance today.");
}

}  // namespace
}  // namespace clawdie::e2e
