#include "services/clawctl/requests.h"

#include "gtest/gtest.h"

namespace clawdie::clawctl {
namespace {

TaskArgs Args() {
  TaskArgs args;
  args.group = "family";
  args.prompt = "Remind us to water the plants";
  return args;
}

TEST(ValidateChatKeyTest, AcceptsEachChannelsForm) {
  EXPECT_TRUE(ValidateChatKey("tg:-1002291837465").ok());
  EXPECT_TRUE(ValidateChatKey("tg:-1002291837465/5210").ok());
  EXPECT_TRUE(ValidateChatKey("tg:42").ok());
  EXPECT_TRUE(ValidateChatKey("wa:46701234567").ok());
  EXPECT_TRUE(ValidateChatKey("local:me").ok());
}

TEST(ValidateChatKeyTest, RefusesMalformedKeysNamingTheKey) {
  EXPECT_EQ(ValidateChatKey("telegram:1").message(),
            "chat telegram:1: unknown channel \"telegram\" (use tg, wa or local)");
  EXPECT_EQ(ValidateChatKey("tg:abc").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateChatKey("tg:-100/x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateChatKey("wa:+4670").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateChatKey("local:a b").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateChatKey("me").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateChatKey("tg:").code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidateFolderTest, FollowsTheFolderRule) {
  EXPECT_TRUE(ValidateFolder("family-chat_2").ok());
  EXPECT_TRUE(ValidateFolder(std::string(64, 'a')).ok());
  EXPECT_FALSE(ValidateFolder(std::string(65, 'a')).ok());
  EXPECT_FALSE(ValidateFolder("-family").ok());
  EXPECT_FALSE(ValidateFolder("../etc").ok());
  EXPECT_FALSE(ValidateFolder("").ok());
  EXPECT_EQ(ValidateFolder("global").message(),
            "folder global: reserved for the shared memory folder (global)");
}

TEST(BuildGroupTest, DefaultsTriggerToAssistantNameAndNameToFolder) {
  GroupArgs args;
  args.chat = "tg:-100123";
  args.folder = "family";
  absl::StatusOr<v1::Group> group = BuildGroup(args, "Andy");
  ASSERT_TRUE(group.ok()) << group.status();
  EXPECT_EQ(group->chat_jid(), "tg:-100123");
  EXPECT_EQ(group->name(), "family");
  EXPECT_EQ(group->trigger(), "@Andy");
  EXPECT_TRUE(group->requires_trigger());
  EXPECT_FALSE(group->is_main());
}

TEST(BuildGroupTest, MainAndNoTriggerGroupsAnswerEveryMessage) {
  GroupArgs args;
  args.chat = "local:me";
  args.folder = "main";
  args.main = true;
  EXPECT_FALSE(BuildGroup(args, "Andy")->requires_trigger());
  EXPECT_TRUE(BuildGroup(args, "Andy")->is_main());

  args.main = false;
  args.no_trigger = true;
  EXPECT_FALSE(BuildGroup(args, "Andy")->requires_trigger());

  args.trigger = "@Bot";
  EXPECT_EQ(BuildGroup(args, "Andy").status().message(),
            "groups add: --trigger and --no-trigger exclude each other");
}

TEST(BuildTaskTest, EveryBecomesCanonicalInterval) {
  TaskArgs args = Args();
  args.every = "90m";
  absl::StatusOr<v1::Task> task = BuildTask(args, "tg:-100");
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->kind(), v1::TASK_KIND_INTERVAL);
  EXPECT_EQ(task->expression(), "1h30m");
  EXPECT_EQ(task->group_folder(), "family");
  EXPECT_EQ(task->chat_jid(), "tg:-100");
  EXPECT_EQ(task->prompt(), "Remind us to water the plants");
  EXPECT_EQ(task->context_mode(), v1::CONTEXT_MODE_GROUP);

  args.every = "30m";
  EXPECT_EQ(BuildTask(args, "")->expression(), "30m");
  args.every = "2d";
  EXPECT_EQ(BuildTask(args, "")->expression(), "2d");
}

TEST(BuildTaskTest, RefusesIntervalsUnderAMinuteAndGarbage) {
  TaskArgs args = Args();
  args.every = "30s";
  EXPECT_EQ(BuildTask(args, "").status().message(), "--every 30s: shorter than the minimum of 1m");
  args.every = "soon";
  EXPECT_EQ(BuildTask(args, "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildTask(args, "").status().message().rfind("--every soon: ", 0), 0u);
}

TEST(BuildTaskTest, CronKeepsFiveFieldsWithSingleSpaces) {
  TaskArgs args = Args();
  args.cron = " 0  9 * * 1-5 ";
  absl::StatusOr<v1::Task> task = BuildTask(args, "");
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->kind(), v1::TASK_KIND_CRON);
  EXPECT_EQ(task->expression(), "0 9 * * 1-5");

  args.cron = "@daily";
  EXPECT_EQ(BuildTask(args, "")->expression(), "@daily");
  args.cron = "0 9 * *";
  EXPECT_EQ(BuildTask(args, "").status().code(), absl::StatusCode::kInvalidArgument);
  args.cron = "61 * * * *";
  EXPECT_EQ(BuildTask(args, "").status().message().rfind("--cron 61 * * * *: ", 0), 0u)
      << BuildTask(args, "").status();
}

TEST(BuildTaskTest, AtAcceptsLocalTimesAndInstants) {
  TaskArgs args = Args();
  for (const char* at : {"2026-12-24T09:00", "2026-12-24 09:00:30", "2026-12-24T08:00:00Z",
                         "2026-12-24T09:00:00+01:00"}) {
    args.at = at;
    absl::StatusOr<v1::Task> task = BuildTask(args, "");
    ASSERT_TRUE(task.ok()) << at << ": " << task.status();
    EXPECT_EQ(task->kind(), v1::TASK_KIND_ONCE);
    EXPECT_EQ(task->expression(), at);
  }
  args.at = "tomorrow 9am";
  EXPECT_EQ(BuildTask(args, "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildTask(args, "").status().message().rfind("--at tomorrow 9am: ", 0), 0u);
}

TEST(BuildTaskTest, NeedsExactlyOneScheduleAndAPrompt) {
  TaskArgs args = Args();
  EXPECT_EQ(BuildTask(args, "").status().message(),
            "tasks add: give exactly one of --cron, --every or --at");
  args.every = "1h";
  args.cron = "@hourly";
  EXPECT_EQ(BuildTask(args, "").status().message(),
            "tasks add: give exactly one of --cron, --every or --at");
  args.cron.clear();
  args.prompt = "  ";
  EXPECT_EQ(BuildTask(args, "").status().message(), "tasks add: --prompt must not be empty");
}

TEST(BuildTaskTest, ContextAndTimezoneAreCarried) {
  TaskArgs args = Args();
  args.every = "1h";
  args.context = "isolated";
  args.timezone = "Europe/Stockholm";
  absl::StatusOr<v1::Task> task = BuildTask(args, "");
  EXPECT_EQ(task->context_mode(), v1::CONTEXT_MODE_ISOLATED);
  EXPECT_EQ(task->timezone(), "Europe/Stockholm");
  args.context = "shared";
  EXPECT_EQ(BuildTask(args, "").status().message(), "--context shared: expected group or isolated");
}

TEST(ParseTaskIdTest, AcceptsPositiveDecimalsOnly) {
  EXPECT_EQ(*ParseTaskId("17"), 17);
  EXPECT_EQ(ParseTaskId("0").status().message(), "task id 0: expected a positive number");
  EXPECT_FALSE(ParseTaskId("-3").ok());
  EXPECT_FALSE(ParseTaskId("12a").ok());
  EXPECT_FALSE(ParseTaskId("").ok());
}

TEST(BuildIngestTest, MakesUniquePlatformIdAndCarriesSender) {
  absl::Time now = absl::FromUnixSeconds(1767225600) + absl::Milliseconds(250);
  v1::IngestRequest request = BuildIngest("tg:-100", "hello", "ops", "42", now);
  EXPECT_EQ(request.message().chat_jid(), "tg:-100");
  EXPECT_EQ(request.message().platform_message_id(), "clawctl-42");
  EXPECT_EQ(request.message().sender_name(), "ops");
  EXPECT_EQ(request.message().text(), "hello");
  EXPECT_EQ(request.message().time().seconds(), 1767225600);
  EXPECT_EQ(request.message().time().nanos(), 250000000);
  EXPECT_EQ(request.chat().jid(), "tg:-100");
  EXPECT_EQ(request.chat().channel(), v1::CHANNEL_TELEGRAM);
}

TEST(LocalChatNameTest, ReturnsNameOnlyForLocalChats) {
  EXPECT_EQ(LocalChatName("local:me"), "me");
  EXPECT_EQ(LocalChatName("tg:-100"), "");
}

TEST(ValidateTextTest, AcceptsUtf8AndNamesTheFirstBadByte) {
  EXPECT_TRUE(ValidateText("hello ж 🎉").ok());
  EXPECT_EQ(ValidateText("@Andy bad\xff\xfe").message(),
            "text: not valid UTF-8 (byte 9); send text in UTF-8");
  EXPECT_FALSE(ValidateText("\xc0\xaf").ok());          // overlong '/'
  EXPECT_FALSE(ValidateText("\xed\xa0\x80").ok());      // a surrogate
  EXPECT_FALSE(ValidateText("\xf4\x90\x80\x80").ok());  // past U+10FFFF
  EXPECT_FALSE(ValidateText("ab\xe2\x82").ok());        // cut short
}

}  // namespace
}  // namespace clawdie::clawctl
