// Tool calls on the RunAgent stream: every authorisation rule, and that each call is answered
// with its id.
#include "services/router/testing/router_fixture.h"

namespace clawdie::router {
namespace {

using testing::FakeBroker;
using testing::FakeRun;

class RouterToolsTest : public testing::RouterFixture {
 protected:
  // Starts a run for the group of `chat` and returns it.
  FakeRun* RunFor(const std::string& chat) {
    Ingest(chat, "m" + std::to_string(++message_id_), "@Andy do it");
    return broker_.last();
  }

  // Calls `tool` from `run` and returns the answer the agent got.
  pb::ToolResult Call(FakeRun* run, const std::string& tool, const std::string& input) {
    std::string id = "call-" + std::to_string(++call_id_);
    broker_.ToolCall(run, id, tool, input);
    executor_.RunUntilIdle();
    std::vector<pb::ToolResult> results = FakeBroker::ToolResults(run);
    EXPECT_FALSE(results.empty());
    if (results.empty()) return pb::ToolResult();
    EXPECT_EQ(results.back().id(), id);
    return results.back();
  }

  pb::Task AddTask(const std::string& folder) {
    pb::CreateTaskRequest request;
    request.mutable_task()->set_group_folder(folder);
    request.mutable_task()->set_prompt("water the plants");
    request.mutable_task()->set_kind(pb::TASK_KIND_INTERVAL);
    request.mutable_task()->set_expression("1d");
    request.mutable_task()->set_state(pb::TASK_STATE_ACTIVE);
    request.mutable_task()->mutable_next_run()->set_seconds(kStart + 3600);
    return *store_.CreateTask(request);
  }

  int message_id_ = 0;
  int call_id_ = 0;
};

TEST_F(RouterToolsTest, SendMessageToOwnChatIsDeliveredAndCountsAsOutput) {
  StartRouter();
  FakeRun* run = RunFor("tg:-100222");
  pb::ToolResult result = Call(run, "send_message", R"({"text":"On it <internal>x</internal>"})");
  EXPECT_TRUE(result.ok()) << result.content();
  ASSERT_EQ(gateway_.sent().size(), 1u);
  EXPECT_EQ(gateway_.sent()[0].chat_jid(), "tg:-100222");
  EXPECT_EQ(gateway_.sent()[0].text(), "On it");
  EXPECT_TRUE(store_.RunById(run->run_id).output_delivered());
}

TEST_F(RouterToolsTest, NonMainMayNotSendToAnotherChat) {
  StartRouter();
  FakeRun* run = RunFor("tg:-100222");
  pb::ToolResult result = Call(run, "send_message", R"({"text":"hi","chat_jid":"tg:111"})");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.content(), "send_message tg:111: group family may only send to its own chat");
  EXPECT_TRUE(gateway_.sent().empty());
}

TEST_F(RouterToolsTest, MainMaySendToRegisteredChatsOnly) {
  StartRouter();
  FakeRun* run = RunFor("tg:111");
  EXPECT_TRUE(Call(run, "send_message", R"({"text":"hi","chat_jid":"tg:-100333"})").ok());
  pb::ToolResult refused = Call(run, "send_message", R"({"text":"hi","chat_jid":"tg:-1009"})");
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.content(), "send_message tg:-1009: not a registered chat");
  ASSERT_EQ(gateway_.sent().size(), 1u);
  EXPECT_EQ(gateway_.sent()[0].chat_jid(), "tg:-100333");
}

TEST_F(RouterToolsTest, ScheduleTaskCreatesATaskInTheGroupsZone) {
  StartRouter();
  FakeRun* run = RunFor("tg:-100222");
  pb::ToolResult result = Call(run, "schedule_task",
                               R"({"prompt":"say good morning","schedule_type":"cron",
                                   "schedule_value":"0 9 * * *","context_mode":"group"})");
  ASSERT_TRUE(result.ok()) << result.content();
  nlohmann::json task = nlohmann::json::parse(result.content());
  EXPECT_EQ(task["group"], "family");
  EXPECT_EQ(task["timezone"], "Europe/Stockholm");
  EXPECT_EQ(task["context_mode"], "group");
  // 09:00 in Stockholm on Saturday 2026-01-10 is 08:00 UTC (it is 10:00 there now).
  EXPECT_EQ(task["next_run"], "2026-01-10T08:00:00Z");
}

TEST_F(RouterToolsTest, ScheduleTaskRefusesABadScheduleSayingWhatIsWrong) {
  StartRouter();
  FakeRun* run = RunFor("tg:-100222");
  pb::ToolResult result =
      Call(run, "schedule_task",
           R"({"prompt":"x","schedule_type":"cron","schedule_value":"61 * * * *"})");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.content(), "cron \"61 * * * *\": minute 61 out of range 0-59");
  pb::ToolResult kind =
      Call(run, "schedule_task", R"({"prompt":"x","schedule_type":"weekly","schedule_value":"1"})");
  EXPECT_EQ(kind.content(), "schedule_type \"weekly\": expected cron, interval or once");
}

TEST_F(RouterToolsTest, OnlyMainSchedulesForAnotherGroup) {
  StartRouter();
  const char* input =
      R"({"prompt":"x","schedule_type":"interval","schedule_value":"1h","target_group":"work"})";
  pb::ToolResult refused = Call(RunFor("tg:-100222"), "schedule_task", input);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.content(),
            "schedule_task group work: group family may only manage its own tasks");
  pb::ToolResult allowed = Call(RunFor("tg:111"), "schedule_task", input);
  ASSERT_TRUE(allowed.ok()) << allowed.content();
  EXPECT_EQ(nlohmann::json::parse(allowed.content())["group"], "work");
}

TEST_F(RouterToolsTest, ListTasksShowsOwnTasksOrAllForMain) {
  pb::Task own = AddTask("family");
  AddTask("work");
  StartRouter();
  nlohmann::json family =
      nlohmann::json::parse(Call(RunFor("tg:-100222"), "list_tasks", "{}").content());
  ASSERT_EQ(family.size(), 1u);
  EXPECT_EQ(family[0]["id"], own.id());
  nlohmann::json all = nlohmann::json::parse(Call(RunFor("tg:111"), "list_tasks", "{}").content());
  EXPECT_EQ(all.size(), 2u);
}

TEST_F(RouterToolsTest, TaskChangesAreRefusedForOtherGroupsTasks) {
  pb::Task other = AddTask("work");
  StartRouter();
  FakeRun* run = RunFor("tg:-100222");
  std::string input = R"({"task_id":")" + std::to_string(other.id()) + R"("})";
  for (const char* tool : {"pause_task", "resume_task", "cancel_task", "update_task"}) {
    pb::ToolResult result = Call(run, tool, input);
    EXPECT_FALSE(result.ok()) << tool;
    EXPECT_EQ(result.content(),
              std::string(tool) + " group work: group family may only manage its own tasks");
  }
  EXPECT_EQ(store_
                .GetTask([&] {
                  pb::GetTaskRequest get;
                  get.set_id(other.id());
                  return get;
                }())
                ->state(),
            pb::TASK_STATE_ACTIVE);
}

TEST_F(RouterToolsTest, OwnTasksCanBePausedResumedUpdatedAndCancelled) {
  pb::Task task = AddTask("family");
  StartRouter();
  FakeRun* run = RunFor("tg:-100222");
  std::string id = std::to_string(task.id());
  pb::ToolResult paused = Call(run, "pause_task", R"({"task_id":)" + id + "}");
  ASSERT_TRUE(paused.ok()) << paused.content();
  EXPECT_EQ(nlohmann::json::parse(paused.content())["state"], "paused");
  EXPECT_EQ(nlohmann::json::parse(
                Call(run, "resume_task", R"({"task_id":)" + id + "}").content())["state"],
            "active");
  pb::ToolResult updated =
      Call(run, "update_task", R"({"task_id":)" + id + R"(,"prompt":"water the ferns"})");
  EXPECT_EQ(nlohmann::json::parse(updated.content())["prompt"], "water the ferns");
  EXPECT_EQ(nlohmann::json::parse(
                Call(run, "cancel_task", R"({"task_id":)" + id + "}").content())["state"],
            "cancelled");
  pb::ToolResult again = Call(run, "resume_task", R"({"task_id":)" + id + "}");
  EXPECT_FALSE(again.ok());
  EXPECT_EQ(again.content(), "set task " + id + " state: the task has already ended");
}

TEST_F(RouterToolsTest, RegisterGroupIsForMainOnlyAndNeverMakesASecondMain) {
  StartRouter();
  pb::ToolResult refused = Call(RunFor("tg:-100222"), "register_group",
                                R"({"jid":"tg:-100444","name":"Club","folder":"club"})");
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.content(), "register_group club: group family is not the main group");

  FakeRun* main_run = RunFor("tg:111");
  pb::ToolResult second_main =
      Call(main_run, "register_group",
           R"({"jid":"tg:-100444","name":"Club","folder":"club","is_main":true})");
  EXPECT_EQ(second_main.content(), "register_group club: there is already a main group");
  pb::ToolResult bad_folder =
      Call(main_run, "register_group", R"({"jid":"tg:-100444","name":"Club","folder":"global"})");
  EXPECT_FALSE(bad_folder.ok());

  pb::ToolResult ok =
      Call(main_run, "register_group", R"({"jid":"tg:-100444","name":"Club","folder":"club"})");
  ASSERT_TRUE(ok.ok()) << ok.content();
  pb::GetGroupRequest get;
  get.set_folder("club");
  absl::StatusOr<pb::Group> club = store_.GetGroup(get);
  ASSERT_TRUE(club.ok());
  EXPECT_FALSE(club->is_main());
  EXPECT_TRUE(club->requires_trigger());
  EXPECT_EQ(club->trigger(), "@Andy");
}

TEST_F(RouterToolsTest, UnknownToolsAndBadInputAreAnsweredNotIgnored) {
  StartRouter();
  FakeRun* run = RunFor("tg:-100222");
  pb::ToolResult unknown = Call(run, "format_disk", "{}");
  EXPECT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.content(), "tool format_disk: unknown to the router");
  pb::ToolResult bad = Call(run, "send_message", "{not json");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.content(), "tool input: not a JSON object");
}

}  // namespace
}  // namespace clawdie::router
