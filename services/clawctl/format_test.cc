#include "services/clawctl/format.h"

#include "gtest/gtest.h"

namespace clawdie::clawctl {
namespace {

google::protobuf::Timestamp At(int64_t seconds) {
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(seconds);
  return timestamp;
}

TEST(FormatTimestampTest, ShowsTimeInZoneAndDashWhenUnset) {
  absl::TimeZone berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin));
  EXPECT_EQ(FormatTimestamp(At(1767225600), absl::UTCTimeZone()), "2026-01-01 00:00:00");
  EXPECT_EQ(FormatTimestamp(At(1767225600), berlin), "2026-01-01 01:00:00");
  EXPECT_EQ(FormatTimestamp(google::protobuf::Timestamp(), berlin), "-");
}

TEST(FormatDurationTest, UsesLargestUnitsAndFractionsBelowAMinute) {
  google::protobuf::Duration duration;
  EXPECT_EQ(FormatDuration(duration), "-");
  duration.set_seconds(5400);
  EXPECT_EQ(FormatDuration(duration), "1h30m");
  duration.set_seconds(90061);
  EXPECT_EQ(FormatDuration(duration), "1d1h1m1s");
  duration.set_seconds(1);
  duration.set_nanos(500000000);
  EXPECT_EQ(FormatDuration(duration), "1.5s");
}

TEST(EnumLabelTest, StripsTypePrefixAndLowerCases) {
  EXPECT_EQ(EnumLabel(v1::RunState_descriptor(), v1::RUN_STATE_RUNNING), "running");
  EXPECT_EQ(EnumLabel(v1::TaskKind_descriptor(), v1::TASK_KIND_INTERVAL), "interval");
  EXPECT_EQ(EnumLabel(v1::TaskState_descriptor(), v1::TASK_STATE_PAUSED), "paused");
  EXPECT_EQ(EnumLabel(v1::TaskState_descriptor(), 99), "99");
}

TEST(ProtoToJsonTest, UsesProtoFieldNamesAndPrintsDefaults) {
  v1::Group group;
  group.set_chat_jid("tg:-100");
  group.set_folder("family");
  absl::StatusOr<std::string> json = ProtoToJson(group);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_NE(json->find("\"chat_jid\": \"tg:-100\""), std::string::npos) << *json;
  EXPECT_NE(json->find("\"is_main\": false"), std::string::npos) << *json;
  EXPECT_EQ(json->back(), '\n');
}

TEST(TasksTableTest, RendersOneRowPerTask) {
  v1::ListTasksResponse response;
  v1::Task* task = response.add_tasks();
  task->set_id(7);
  task->set_group_folder("family");
  task->set_kind(v1::TASK_KIND_CRON);
  task->set_expression("0 9 * * 1-5");
  task->set_state(v1::TASK_STATE_ACTIVE);
  *task->mutable_next_run() = At(1767258000);
  task->set_prompt("Summarise\nthe news");
  EXPECT_EQ(TasksTable(response, absl::UTCTimeZone()).Render(),
            "ID  GROUP   KIND  SCHEDULE     STATE   NEXT RUN             PROMPT\n"
            "7   family  cron  0 9 * * 1-5  active  2026-01-01 09:00:00  Summarise the news\n");
}

TEST(GroupsTableTest, ShowsEveryMessageForGroupsWithoutTrigger) {
  v1::ListGroupsResponse response;
  v1::Group* main = response.add_groups();
  main->set_folder("main");
  main->set_chat_jid("local:me");
  main->set_name("Me");
  main->set_trigger("@Andy");
  main->set_is_main(true);
  v1::Group* family = response.add_groups();
  family->set_folder("family");
  family->set_chat_jid("tg:-100");
  family->set_name("Family");
  family->set_trigger("@Andy");
  family->set_requires_trigger(true);
  family->set_timezone("Europe/Berlin");
  EXPECT_EQ(GroupsTable(response).Render(),
            "FOLDER  CHAT      NAME    TRIGGER          MAIN  TIMEZONE\n"
            "main    local:me  Me      (every message)  yes   -\n"
            "family  tg:-100   Family  @Andy            no    Europe/Berlin\n");
}

TEST(RunsTableTest, ShowsSeqRangeTaskAndError) {
  v1::ListRunsResponse response;
  v1::Run* run = response.add_runs();
  run->set_id(3);
  run->set_group_folder("family");
  run->set_state(v1::RUN_STATE_FAILED);
  run->set_first_seq(10);
  run->set_last_seq(12);
  run->set_attempts(2);
  run->set_task_id(4);
  *run->mutable_created_at() = At(1767225600);
  run->set_error("model: 529 overloaded");
  EXPECT_EQ(RunsTable(response, absl::UTCTimeZone()).Render(),
            "ID  GROUP   STATE   TASK  SEQ    TRIES  CREATED              FINISHED  ERROR\n"
            "3   family  failed  4     10-12  2      2026-01-01 00:00:00  -         model: 529 "
            "overloaded\n");
}

TEST(MessagesTableTest, InterleavesRepliesByTimeWithTheirDelivery) {
  v1::ListMessagesResponse response;
  v1::Message* question = response.add_messages();
  question->set_seq(7);
  question->set_sender_name("Ana");
  question->set_text("dinner?");
  *question->mutable_time() = At(1767225600);
  v1::Message* thanks = response.add_messages();
  thanks->set_seq(8);
  thanks->set_sender_name("Ana");
  thanks->set_text("thanks");
  *thanks->mutable_time() = At(1767225660);
  v1::OutboxEntry* answer = response.add_replies();
  answer->set_text("Soup.");
  answer->set_state(v1::OUTBOX_STATE_DELIVERED);
  answer->set_platform_state(v1::PLATFORM_DELIVERY_STATE_READ);
  *answer->mutable_created_at() = At(1767225600);
  v1::OutboxEntry* late = response.add_replies();
  late->set_text("You are welcome.");
  late->set_state(v1::OUTBOX_STATE_PENDING);
  late->set_attempts(2);
  *late->mutable_created_at() = At(1767225670);
  v1::OutboxEntry* lost = response.add_replies();
  lost->set_text("Bye.");
  lost->set_state(v1::OUTBOX_STATE_FAILED);
  lost->set_last_error("bot was blocked by the user");
  *lost->mutable_created_at() = At(1767225680);
  EXPECT_EQ(MessagesTable(response, absl::UTCTimeZone()).Render(),
            "SEQ  TIME                 FROM         TEXT              DELIVERY\n"
            "7    2026-01-01 00:00:00  Ana          dinner?           -\n"
            "-    2026-01-01 00:00:00  (assistant)  Soup.             delivered, read\n"
            "8    2026-01-01 00:01:00  Ana          thanks            -\n"
            "-    2026-01-01 00:01:10  (assistant)  You are welcome.  pending (2 attempts)\n"
            "-    2026-01-01 00:01:20  (assistant)  Bye.              failed: bot was blocked by "
            "the user\n");
}

}  // namespace
}  // namespace clawdie::clawctl
