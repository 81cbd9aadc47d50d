// Scheduled tasks: claiming through the lease, context modes, the run log, interval
// anchoring, removed groups, preempting idle agents, and re-runs after a crash.
#include "services/router/proto_time.h"
#include "services/router/testing/router_fixture.h"

namespace clawdie::router {
namespace {

using testing::FakeRun;

class SchedulerTest : public testing::RouterFixture {
 protected:
  pb::Task CreateTask(const std::string& folder, pb::TaskKind kind, const std::string& expression,
                      pb::ContextMode mode = pb::CONTEXT_MODE_ISOLATED) {
    pb::GetGroupRequest get;
    get.set_folder(folder);
    pb::Task spec;
    spec.set_prompt("daily summary");
    spec.set_kind(kind);
    spec.set_expression(expression);
    spec.set_context_mode(mode);
    absl::StatusOr<pb::Task> task = router_->task_ops()->Create(*store_.GetGroup(get), spec);
    EXPECT_TRUE(task.ok()) << task.status();
    return *task;
  }

  pb::Task Load(int64_t id) {
    pb::GetTaskRequest get;
    get.set_id(id);
    return *store_.GetTask(get);
  }
};

TEST_F(SchedulerTest, ADueTaskRunsOnceAndIsLoggedWithItsResult) {
  StartRouter();
  pb::Task task = CreateTask("work", pb::TASK_KIND_INTERVAL, "1h");
  EXPECT_EQ(FromProto(task.next_run()), clock_.Now() + absl::Hours(1));

  executor_.AdvanceBy(absl::Hours(1));
  ASSERT_EQ(broker_.start_count(), 1);
  FakeRun* run = broker_.last();
  nlohmann::json start = StartJson(run);
  EXPECT_EQ(start["isScheduledTask"], true);
  EXPECT_EQ(start["prompt"], "<scheduled_task id=\"" + std::to_string(task.id()) +
                                 "\" due=\"2026-01-09 10:00 UTC\">daily summary</scheduled_task>");
  pb::Run recorded = store_.RunById(run->run_id);
  EXPECT_EQ(recorded.task_id(), task.id());
  EXPECT_EQ(FromProto(recorded.task_due()), absl::FromUnixSeconds(kStart) + absl::Hours(1));

  // Polling again while it runs claims nothing new.
  executor_.AdvanceBy(absl::Minutes(3));
  EXPECT_EQ(broker_.start_count(), 1);
  broker_.Output(run, "All quiet.");
  Finish(run);

  std::vector<pb::TaskRunLog> log = store_.TaskLog(task.id());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log[0].ok());
  EXPECT_EQ(log[0].result(), "All quiet.");
  EXPECT_EQ(FromProto(log[0].duration()), absl::Minutes(3));
  EXPECT_EQ(store_.Outbox().at(0).text(), "All quiet.");
}

TEST_F(SchedulerTest, IntervalIsAnchoredToTheDueTimeWithoutCatchUpAfterDowntime) {
  StartRouter();
  pb::Task task = CreateTask("work", pb::TASK_KIND_INTERVAL, "1h");
  absl::Time first_due = FromProto(task.next_run());
  executor_.AdvanceBy(absl::Hours(1));
  // The run takes 7 minutes; the next due time is still on the hour.
  executor_.AdvanceBy(absl::Minutes(7));
  Finish(broker_.last());
  EXPECT_EQ(FromProto(Load(task.id()).next_run()), first_due + absl::Hours(1));

  // Five hours of downtime: no burst, one run, next due on the grid after now.
  executor_.DropAll();
  clock_.Set(first_due + absl::Hours(6) + absl::Minutes(10));
  int before = broker_.start_count();
  StartRouter();
  EXPECT_EQ(broker_.start_count(), before + 1);
  Finish(broker_.last());
  EXPECT_EQ(FromProto(Load(task.id()).next_run()), first_due + absl::Hours(7));
  EXPECT_EQ(broker_.start_count(), before + 1);
}

TEST_F(SchedulerTest, IsolatedTasksStartFreshAndGroupTasksContinueTheSession) {
  pb::SetSessionRequest set;
  set.set_group_folder("work");
  set.set_session_id("work-session");
  ASSERT_TRUE(store_.SetSession(set).ok());
  StartRouter();
  CreateTask("work", pb::TASK_KIND_INTERVAL, "1h", pb::CONTEXT_MODE_ISOLATED);
  executor_.AdvanceBy(absl::Hours(1));
  EXPECT_FALSE(StartJson(broker_.last()).contains("sessionId"));
  broker_.Session(broker_.last(), "isolated-1");
  Finish(broker_.last());
  EXPECT_EQ(store_.SessionOf("work"), "work-session");

  CreateTask("work", pb::TASK_KIND_INTERVAL, "1h", pb::CONTEXT_MODE_GROUP);
  executor_.AdvanceBy(absl::Hours(1));
  FakeRun* run = broker_.runs().back();
  // Both tasks are due now; the queue runs them one at a time.
  std::vector<std::string> sessions;
  for (int i = 0; i < 2; ++i) {
    run = broker_.last();
    sessions.push_back(StartJson(run).value("sessionId", std::string("-")));
    broker_.Session(run, "after-" + std::to_string(i));
    Finish(run);
  }
  EXPECT_EQ(broker_.start_count(), 3);
  EXPECT_NE(std::find(sessions.begin(), sessions.end(), "work-session"), sessions.end());
}

TEST_F(SchedulerTest, ATaskOfARemovedGroupIsPausedWithAReason) {
  StartRouter();
  pb::Task task = CreateTask("work", pb::TASK_KIND_INTERVAL, "1h");
  pb::DeleteGroupRequest remove;
  remove.set_folder("work");
  ASSERT_TRUE(store_.DeleteGroup(remove).ok());
  executor_.AdvanceBy(absl::Hours(1));
  EXPECT_EQ(broker_.start_count(), 0);
  pb::Task paused = Load(task.id());
  EXPECT_EQ(paused.state(), pb::TASK_STATE_PAUSED);
  EXPECT_EQ(paused.paused_reason(), "group work is not registered");
  executor_.AdvanceBy(absl::Hours(3));
  EXPECT_EQ(broker_.start_count(), 0);
}

TEST_F(SchedulerTest, ADueTaskClosesAnIdleAgentButWaitsForAWorkingOne) {
  StartRouter();
  CreateTask("family", pb::TASK_KIND_INTERVAL, "1h");
  executor_.AdvanceBy(absl::Minutes(59));
  Ingest("tg:-100222", "1", "@Andy big job");
  FakeRun* chat_run = broker_.last();
  executor_.AdvanceBy(absl::Minutes(1));  // the task is due while the agent works
  EXPECT_FALSE(chat_run->closed);
  EXPECT_EQ(broker_.start_count(), 1);

  broker_.Output(chat_run, "Done.");  // now it only idles: the task closes it
  executor_.RunUntilIdle();
  EXPECT_TRUE(chat_run->closed);
  Finish(chat_run);
  ASSERT_EQ(broker_.start_count(), 2);
  EXPECT_EQ(StartJson(broker_.last())["isScheduledTask"], true);
}

TEST_F(SchedulerTest, AOnceTaskInterruptedByACrashRunsAgainExactlyOnce) {
  StartRouter();
  pb::Task task = CreateTask("work", pb::TASK_KIND_ONCE, "2026-01-09T12:00");
  executor_.AdvanceBy(absl::Hours(3));
  ASSERT_EQ(broker_.start_count(), 1);
  int64_t run_id = broker_.last()->run_id;

  testing::FakeBroker restarted;
  StartRouter(Options(), &restarted);
  ASSERT_EQ(restarted.start_count(), 1);
  EXPECT_EQ(restarted.last()->run_id, run_id);
  executor_.AdvanceBy(absl::Minutes(10));  // scheduler polls: the lease is still ours
  EXPECT_EQ(restarted.start_count(), 1);
  restarted.Finish(restarted.last());
  executor_.RunUntilIdle();
  EXPECT_EQ(Load(task.id()).state(), pb::TASK_STATE_COMPLETED);
  EXPECT_EQ(store_.TaskLog(task.id()).size(), 1u);
  executor_.AdvanceBy(absl::Hours(2));
  EXPECT_EQ(restarted.start_count(), 1);
}

TEST_F(SchedulerTest, AnotherSchedulerTakesOverADueTimeOnlyAfterTheLeaseExpires) {
  StartRouter();
  pb::Task task = CreateTask("work", pb::TASK_KIND_INTERVAL, "1h");
  executor_.AdvanceBy(absl::Hours(1));
  ASSERT_EQ(broker_.start_count(), 1);

  // This router dies for good; a second one with another identity takes over.
  pb::UpdateRunRequest abandon;
  abandon.set_run_id(broker_.last()->run_id);
  abandon.set_state(pb::RUN_STATE_FAILED);
  ASSERT_TRUE(store_.UpdateRun(abandon).ok());
  testing::FakeBroker other;
  RouterOptions options = Options();
  options.scheduler_owner = "router@other";
  StartRouter(options, &other);
  executor_.AdvanceBy(absl::Minutes(39));
  EXPECT_EQ(other.start_count(), 0);
  executor_.AdvanceBy(absl::Minutes(1) + absl::Seconds(5));
  ASSERT_EQ(other.start_count(), 1);
  other.Finish(other.last());
  executor_.RunUntilIdle();
  std::vector<pb::TaskRunLog> log = store_.TaskLog(task.id());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(FromProto(log[0].due_at()), absl::FromUnixSeconds(kStart) + absl::Hours(1));
}

}  // namespace
}  // namespace clawdie::router
