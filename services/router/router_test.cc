// The core path: ingest, triggers, queue, prompt, runs, follow-ups, cursor, retries,
// sessions, idle agents and crash recovery, against in-memory fakes with a fake clock.
#include "services/router/router.h"

#include "services/router/testing/router_fixture.h"

namespace clawdie::router {
namespace {

using testing::FakeRun;

class RouterTest : public testing::RouterFixture {
 protected:
  // Starts a run for "@Andy plan dinner", lets it answer, and pipes "@Andy and dessert?" into
  // it as a follow-up that is not answered yet.
  FakeRun* RunWithAnUnansweredFollowUp() {
    Ingest("tg:-100222", "1", "@Andy plan dinner");
    FakeRun* run = broker_.last();
    broker_.Output(run, "Pasta?");
    Ingest("tg:-100222", "2", "@Andy and dessert?");
    EXPECT_EQ(testing::FakeBroker::FollowUps(run).size(), 1u);
    return run;
  }

  static constexpr char kDessertPrompt[] =
      "<messages>\n"
      "<message sender=\"Mara\" time=\"2026-01-09 10:00 CET\">@Andy and dessert?</message>\n"
      "</messages>";
};

TEST_F(RouterTest, UnregisteredChatsAreStoredButStartNothing) {
  StartRouter();
  pb::IngestResponse response = Ingest("tg:-100999", "1", "@Andy hello?");
  EXPECT_TRUE(response.inserted());
  EXPECT_FALSE(response.registered());
  EXPECT_FALSE(response.triggered());
  EXPECT_EQ(response.seq(), 1);
  EXPECT_EQ(broker_.start_count(), 0);
  EXPECT_TRUE(store_.Runs().empty());
}

TEST_F(RouterTest, RejectsMessagesWithoutChatOrPlatformId) {
  StartRouter();
  pb::IngestRequest request;
  request.mutable_message()->set_chat_jid("tg:1");
  absl::StatusOr<pb::IngestResponse> response = router_->Ingest(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RouterTest, IngestFailsUnavailableWhileTheStoreIsDown) {
  StartRouter();
  store_.SetUnavailable(true);
  pb::IngestRequest request;
  request.mutable_message()->set_chat_jid("tg:-100222");
  request.mutable_message()->set_platform_message_id("1");
  EXPECT_EQ(router_->Ingest(request).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RouterTest, ContextIsKeptAndATriggerRecordsARunBeforeOpeningRunAgent) {
  StartRouter();
  pb::IngestResponse context = Ingest("tg:-100222", "881", "I think it was 14:30");
  EXPECT_TRUE(context.registered());
  EXPECT_FALSE(context.triggered());
  EXPECT_EQ(broker_.start_count(), 0);

  pb::IngestResponse trigger =
      Ingest("tg:-100222", "882", "@Andy what time is the dentist?", "Jonas");
  EXPECT_TRUE(trigger.triggered());
  ASSERT_EQ(broker_.start_count(), 1);
  FakeRun* run = broker_.last();
  EXPECT_TRUE(run->started);

  // The run id given to the broker is the store's record, made before the call.
  pb::Run recorded = store_.RunById(run->run_id);
  EXPECT_EQ(recorded.group_folder(), "family");
  EXPECT_EQ(recorded.first_seq(), 1);
  EXPECT_EQ(recorded.last_seq(), 2);
  EXPECT_EQ(recorded.state(), pb::RUN_STATE_PENDING);

  nlohmann::json start = StartJson(run);
  EXPECT_EQ(start["groupFolder"], "family");
  EXPECT_EQ(start["chatJid"], "tg:-100222");
  EXPECT_EQ(start["isMain"], false);
  EXPECT_EQ(start["isScheduledTask"], false);
  EXPECT_EQ(start["assistantName"], "Andy");
  EXPECT_EQ(start["timezone"], "Europe/Stockholm");
  EXPECT_FALSE(start.contains("sessionId"));
  EXPECT_EQ(
      Prompt(run),
      "<messages>\n"
      "<message sender=\"Mara\" time=\"2026-01-09 10:00 CET\">I think it was 14:30</message>\n"
      "<message sender=\"Jonas\" time=\"2026-01-09 10:00 CET\">@Andy what time is the "
      "dentist?</message>\n"
      "</messages>");
  EXPECT_EQ(run->spec.group_folder(), "family");
  EXPECT_EQ(run->spec.limits().timeout().seconds(), 30 * 60);
}

TEST_F(RouterTest, OutputIsStrippedWrittenToTheOutboxDeliveredAndAcknowledged) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy dentist?");
  FakeRun* run = broker_.last();
  broker_.Output(run, "<internal>check calendar</internal>\nThe dentist is at 14:30.");
  executor_.RunUntilIdle();

  std::vector<pb::OutboxEntry> outbox = store_.Outbox();
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].text(), "The dentist is at 14:30.");
  EXPECT_EQ(outbox[0].chat_jid(), "tg:-100222");
  EXPECT_EQ(outbox[0].run_id(), run->run_id);
  EXPECT_EQ(outbox[0].state(), pb::OUTBOX_STATE_DELIVERED);
  ASSERT_EQ(outbox[0].platform_message_ids_size(), 1);
  EXPECT_EQ(outbox[0].platform_message_ids(0), "p1");
  ASSERT_EQ(gateway_.sent().size(), 1u);
  EXPECT_EQ(gateway_.sent()[0].outbox_id(), outbox[0].id());
  EXPECT_TRUE(store_.RunById(run->run_id).output_delivered());
}

TEST_F(RouterTest, OutputThatIsOnlyInternalIsNotSent) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy think");
  broker_.Output(broker_.last(), "<internal>nothing to say</internal>  ");
  executor_.RunUntilIdle();
  EXPECT_TRUE(store_.Outbox().empty());
  EXPECT_TRUE(gateway_.sent().empty());
}

TEST_F(RouterTest, SuccessMovesTheCursorPastTheRunAndStoresTheSession) {
  StartRouter();
  Ingest("tg:-100222", "1", "chatter");
  Ingest("tg:-100222", "2", "@Andy hi");
  FakeRun* run = broker_.last();
  broker_.Session(run, "sess-1");
  broker_.Output(run, "Hello!");
  Finish(run);

  EXPECT_EQ(store_.Cursor("family"), 2);
  EXPECT_EQ(store_.SessionOf("family"), "sess-1");
  pb::Run recorded = store_.RunById(run->run_id);
  EXPECT_EQ(recorded.state(), pb::RUN_STATE_SUCCEEDED);
  EXPECT_EQ(recorded.session_id(), "sess-1");

  // The next run continues the session and holds only newer messages.
  Ingest("tg:-100222", "3", "@Andy again");
  FakeRun* next = broker_.last();
  ASSERT_NE(next, run);
  EXPECT_EQ(StartJson(next)["sessionId"], "sess-1");
  EXPECT_EQ(Prompt(next),
            "<messages>\n<message sender=\"Mara\" time=\"2026-01-09 10:00 CET\">@Andy again"
            "</message>\n</messages>");
}

TEST_F(RouterTest, FollowUpsArePipedIntoTheLiveRunExactlyOnce) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy plan dinner");
  FakeRun* run = broker_.last();
  Ingest("tg:-100222", "2", "I'd like pasta", "Jonas");  // context only
  EXPECT_TRUE(testing::FakeBroker::FollowUps(run).empty());
  Ingest("tg:-100222", "3", "@Andy and dessert?");
  Ingest("tg:-100222", "3", "@Andy and dessert?");  // re-delivered by the gateway
  Ingest("tg:-100222", "4", "@Andy no nuts");

  EXPECT_EQ(broker_.start_count(), 1);
  std::vector<std::string> follow_ups = testing::FakeBroker::FollowUps(run);
  ASSERT_EQ(follow_ups.size(), 2u);
  EXPECT_EQ(
      follow_ups[0],
      "<messages>\n"
      "<message sender=\"Jonas\" time=\"2026-01-09 10:00 CET\">I&apos;d like pasta</message>\n"
      "<message sender=\"Mara\" time=\"2026-01-09 10:00 CET\">@Andy and dessert?</message>\n"
      "</messages>");
  EXPECT_EQ(follow_ups[1],
            "<messages>\n"
            "<message sender=\"Mara\" time=\"2026-01-09 10:00 CET\">@Andy no nuts</message>\n"
            "</messages>");
  EXPECT_EQ(store_.RunById(run->run_id).last_seq(), 4);

  broker_.Output(run, "Pasta without nuts it is.");
  Finish(run);
  EXPECT_EQ(store_.Cursor("family"), 4);
  EXPECT_EQ(broker_.start_count(), 1);  // nothing left for another run
}

TEST_F(RouterTest, AtMostMaxConcurrentAgentsAndWaitingGroupsStartInArrivalOrder) {
  RouterOptions options = Options();
  options.max_concurrent_agents = 2;
  store_.AddGroup("g3", "tg:3", false, false, "UTC");
  store_.AddGroup("g4", "tg:4", false, false, "UTC");
  StartRouter(options);
  Ingest("tg:-100222", "1", "@Andy a");
  Ingest("tg:-100333", "1", "@Andy b");
  Ingest("tg:4", "1", "d first");
  Ingest("tg:3", "1", "c second");
  ASSERT_EQ(broker_.start_count(), 2);
  EXPECT_EQ(router_->QueueState().active(), 2);

  Finish(broker_.runs()[1]);
  ASSERT_EQ(broker_.start_count(), 3);
  EXPECT_EQ(broker_.runs()[2]->spec.group_folder(), "g4");
  Finish(broker_.runs()[0]);
  ASSERT_EQ(broker_.start_count(), 4);
  EXPECT_EQ(broker_.runs()[3]->spec.group_folder(), "g3");
}

TEST_F(RouterTest, AnIdleAgentGivesItsSlotToAWaitingGroup) {
  RouterOptions options = Options();
  options.max_concurrent_agents = 1;
  StartRouter(options);
  Ingest("tg:-100222", "1", "@Andy a");
  FakeRun* first = broker_.last();
  Ingest("tg:-100333", "1", "@Andy b");
  ASSERT_EQ(broker_.start_count(), 1);
  EXPECT_FALSE(first->closed);  // working: never closed for a waiting group

  broker_.Output(first, "Done with a.");
  EXPECT_TRUE(first->closed);  // idle, and another group waits
  Finish(first);
  ASSERT_EQ(broker_.start_count(), 2);
  EXPECT_EQ(broker_.last()->spec.group_folder(), "work");

  // Nobody waits: the idle agent keeps its slot until the idle timeout.
  broker_.Output(broker_.last(), "Done with b.");
  EXPECT_FALSE(broker_.last()->closed);
}

TEST_F(RouterTest, AReplyTheOutboxRefusesFailsTheRunWhichIsRetriedNotCountedAnswered) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy are you there?");
  FakeRun* run = broker_.last();
  int64_t run_id = run->run_id;
  store_.FailOutboxWrites(
      1, absl::ResourceExhaustedError("store EnqueueOutbox: database or disk is full"));
  broker_.Output(run, "Yes, here.");
  EXPECT_TRUE(run->closed);  // the agent is closed, not left idle as if it had answered
  Finish(run);

  EXPECT_EQ(store_.RunById(run_id).state(), pb::RUN_STATE_PENDING);
  EXPECT_EQ(store_.Cursor("family"), 0);  // the message is still unanswered
  executor_.AdvanceBy(absl::Seconds(5));
  ASSERT_EQ(broker_.start_count(), 2);
  EXPECT_EQ(broker_.last()->run_id, run_id);
  broker_.Output(broker_.last(), "Yes, here.");
  std::vector<pb::OutboxEntry> outbox = store_.Outbox();
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].text(), "Yes, here.");
}

TEST_F(RouterTest, AReplyOverTheOutboxLimitIsCutToFitWithANote) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy write a lot");
  broker_.Output(broker_.last(), std::string(70000, 'x'));
  std::vector<pb::OutboxEntry> outbox = store_.Outbox();
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].text().size(), 65536u);
  EXPECT_NE(outbox[0].text().find("[The reply was cut here: it was 70000 bytes"),
            std::string::npos);
}

TEST_F(RouterTest, AStoreAwayWhenARunFinishesNeitherRepeatsItsMessagesNorLeavesItRunning) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy plan dinner");
  FakeRun* run = broker_.last();
  int64_t run_id = run->run_id;
  broker_.Output(run, "Pasta.");
  store_.SetUnavailable(true);  // the cursor, session and run record cannot be written
  Finish(run);
  store_.SetUnavailable(false);

  // The next run starts after what the reply answered.
  Ingest("tg:-100222", "2", "@Andy and dessert?");
  ASSERT_EQ(broker_.start_count(), 2);
  EXPECT_EQ(Prompt(broker_.last()).find("plan dinner"), std::string::npos)
      << Prompt(broker_.last());
  EXPECT_NE(Prompt(broker_.last()).find("and dessert?"), std::string::npos);

  // The finished run's record is written once the store is back.
  executor_.AdvanceBy(absl::Seconds(2));
  EXPECT_EQ(store_.RunById(run_id).state(), pb::RUN_STATE_SUCCEEDED);
}

TEST_F(RouterTest, FailureBeforeOutputRetriesAfter5To80SecondsThenGivesUpAndSaysSoOnce) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy are you there?");
  int64_t run_id = broker_.last()->run_id;
  const int delays[] = {5, 10, 20, 40, 80};
  for (int delay : delays) {
    int starts = broker_.start_count();
    Finish(broker_.last(), "error", "model overloaded");
    EXPECT_EQ(store_.RunById(run_id).state(), pb::RUN_STATE_PENDING);
    executor_.AdvanceBy(absl::Seconds(delay) - absl::Milliseconds(1));
    EXPECT_EQ(broker_.start_count(), starts) << "retried before " << delay << " s";
    executor_.AdvanceBy(absl::Milliseconds(1));
    ASSERT_EQ(broker_.start_count(), starts + 1) << "no retry after " << delay << " s";
    EXPECT_EQ(broker_.last()->run_id, run_id);  // the same run record is continued
  }
  Finish(broker_.last(), "error", "model overloaded");

  pb::Run run = store_.RunById(run_id);
  EXPECT_EQ(run.state(), pb::RUN_STATE_ABANDONED);
  EXPECT_EQ(run.error(), "model overloaded");
  std::vector<pb::OutboxEntry> outbox = store_.Outbox();
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].text(),
            "Sorry, I could not answer: the last 6 attempts failed. I will try again when the "
            "next message arrives.");
  executor_.AdvanceBy(absl::Minutes(10));
  EXPECT_EQ(broker_.start_count(), 6);
  EXPECT_EQ(store_.Cursor("family"), 0);

  // The next message starts a fresh run that still holds the unanswered message.
  Ingest("tg:-100222", "2", "@Andy hello?");
  ASSERT_EQ(broker_.start_count(), 7);
  EXPECT_NE(broker_.last()->run_id, run_id);
  EXPECT_NE(Prompt(broker_.last()).find("are you there?"), std::string::npos);
  EXPECT_EQ(store_.Outbox().size(), 1u);
}

TEST_F(RouterTest, BrokerRefusingToStartCountsAsAFailedAttempt) {
  StartRouter();
  broker_.FailNextStart(absl::UnavailableError("broker RunAgent: connection refused"));
  Ingest("tg:-100222", "1", "@Andy hi");
  EXPECT_EQ(broker_.start_count(), 0);
  pb::Run run = store_.Runs().at(0);
  EXPECT_EQ(run.state(), pb::RUN_STATE_PENDING);
  EXPECT_EQ(run.error(), "broker RunAgent: connection refused");
  executor_.AdvanceBy(absl::Seconds(5));
  EXPECT_EQ(broker_.start_count(), 1);
}

TEST_F(RouterTest, FailureAfterOutputIsNotRetriedAndTheCursorMoves) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy long job");
  FakeRun* run = broker_.last();
  broker_.Output(run, "Working on it...");
  Finish(run, "error", "tool crashed");
  executor_.AdvanceBy(absl::Minutes(5));
  EXPECT_EQ(broker_.start_count(), 1);
  EXPECT_EQ(store_.RunById(run->run_id).state(), pb::RUN_STATE_FAILED);
  EXPECT_EQ(store_.Cursor("family"), 1);
}

TEST_F(RouterTest, FollowUpsAfterTheLastReplyOfAFailedRunGetANewRun) {
  StartRouter();
  FakeRun* run = RunWithAnUnansweredFollowUp();
  // The sandbox dies before the agent answered the follow-up.
  Finish(run, "error", "broker RunAgent: Socket closed");

  EXPECT_EQ(store_.RunById(run->run_id).state(), pb::RUN_STATE_FAILED);
  EXPECT_EQ(store_.Cursor("family"), 1);  // the first message was answered
  ASSERT_EQ(broker_.start_count(), 2);
  FakeRun* next = broker_.last();
  EXPECT_NE(next->run_id, run->run_id);
  EXPECT_EQ(Prompt(next), kDessertPrompt);
  broker_.Output(next, "Tiramisu.");
  Finish(next);
  EXPECT_EQ(store_.Cursor("family"), 2);
  EXPECT_EQ(broker_.start_count(), 2);
}

TEST_F(RouterTest, UnknownSessionIsClearedAndRetriedOnceWithAFreshSession) {
  pb::SetSessionRequest set;
  set.set_group_folder("family");
  set.set_session_id("gone-42");
  ASSERT_TRUE(store_.SetSession(set).ok());
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy hi");
  EXPECT_EQ(StartJson(broker_.last())["sessionId"], "gone-42");

  Finish(broker_.last(), "error", "No conversation found with session ID: gone-42");
  ASSERT_EQ(broker_.start_count(), 2);  // at once, no backoff
  EXPECT_FALSE(StartJson(broker_.last()).contains("sessionId"));
  EXPECT_EQ(store_.SessionOf("family"), "");

  // A second such error is an ordinary failure: backoff, no second fresh retry at once.
  Finish(broker_.last(), "error", "No conversation found with session ID: x");
  EXPECT_EQ(broker_.start_count(), 2);
  executor_.AdvanceBy(absl::Seconds(5));
  EXPECT_EQ(broker_.start_count(), 3);
}

TEST_F(RouterTest, AnErrorResultNeverOverwritesAGoodSession) {
  pb::SetSessionRequest set;
  set.set_group_folder("family");
  set.set_session_id("good-1");
  ASSERT_TRUE(store_.SetSession(set).ok());
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy hi");
  broker_.Session(broker_.last(), "half-done-2");
  Finish(broker_.last(), "error", "model overloaded");
  EXPECT_EQ(store_.SessionOf("family"), "good-1");
}

TEST_F(RouterTest, AnIdleAgentIsClosedAfterTheIdleTimeoutAndFollowUpsResetIt) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy hi");
  FakeRun* run = broker_.last();
  broker_.Output(run, "Hi!");
  executor_.AdvanceBy(absl::Minutes(20));
  EXPECT_FALSE(run->closed);
  Ingest("tg:-100222", "2", "@Andy one more");
  broker_.Output(run, "Sure.");
  executor_.AdvanceBy(absl::Minutes(29));
  EXPECT_FALSE(run->closed);
  executor_.AdvanceBy(absl::Minutes(1));
  EXPECT_TRUE(run->closed);
  EXPECT_TRUE(run->inputs.back().close());
}

TEST_F(RouterTest, MessagesArrivingWhileTheAgentClosesStartTheNextRun) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy hi");
  FakeRun* run = broker_.last();
  broker_.Output(run, "Hi!");
  executor_.AdvanceBy(absl::Minutes(30));
  ASSERT_TRUE(run->closed);
  Ingest("tg:-100222", "2", "@Andy still there?");
  EXPECT_TRUE(testing::FakeBroker::FollowUps(run).empty());
  Finish(run);
  ASSERT_EQ(broker_.start_count(), 2);
  EXPECT_EQ(Prompt(broker_.last()),
            "<messages>\n<message sender=\"Mara\" time=\"2026-01-09 10:30 CET\">@Andy still "
            "there?</message>\n</messages>");
}

TEST_F(RouterTest, TypingIsShownWhileTheAgentWorks) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy hi");
  broker_.Output(broker_.last(), "Hi!");
  executor_.RunUntilIdle();
  std::vector<pb::SetTypingRequest> typing = gateway_.typing();
  ASSERT_EQ(typing.size(), 2u);
  EXPECT_EQ(typing[0].chat_jid(), "tg:-100222");
  EXPECT_TRUE(typing[0].typing());
  EXPECT_FALSE(typing[1].typing());
}

TEST_F(RouterTest, AfterACrashAnUnfinishedRunIsRedoneWithItsRecord) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy hi");
  int64_t run_id = broker_.last()->run_id;

  // The router dies; a new one starts on the same store with a new broker connection.
  testing::FakeBroker restarted;
  StartRouter(Options(), &restarted);
  ASSERT_EQ(restarted.start_count(), 1);
  EXPECT_EQ(restarted.last()->run_id, run_id);
  EXPECT_NE(Prompt(restarted.last()).find("@Andy hi"), std::string::npos);
  restarted.Output(restarted.last(), "Hello");
  restarted.Finish(restarted.last());
  executor_.RunUntilIdle();
  EXPECT_EQ(store_.RunById(run_id).state(), pb::RUN_STATE_SUCCEEDED);
  EXPECT_EQ(store_.Outbox().size(), 1u);
}

TEST_F(RouterTest, AfterACrashARunWhoseReplyWasDeliveredIsNotRedone) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy hi");
  int64_t run_id = broker_.last()->run_id;
  broker_.Output(broker_.last(), "Hello");
  executor_.RunUntilIdle();

  testing::FakeBroker restarted;
  StartRouter(Options(), &restarted);
  EXPECT_EQ(restarted.start_count(), 0);
  EXPECT_EQ(store_.RunById(run_id).state(), pb::RUN_STATE_FAILED);
  EXPECT_EQ(store_.Cursor("family"), 1);
  EXPECT_EQ(gateway_.sent().size(), 1u);
}

TEST_F(RouterTest, AfterACrashFollowUpsAfterTheLastReplyGetANewRun) {
  StartRouter();
  FakeRun* run = RunWithAnUnansweredFollowUp();
  executor_.RunUntilIdle();  // the follow-up's last seq is written
  EXPECT_TRUE(store_.RunById(run->run_id).output_delivered());
  EXPECT_EQ(store_.RunById(run->run_id).answered_seq(), 1);

  // The router dies before the agent answered the follow-up.
  testing::FakeBroker restarted;
  StartRouter(Options(), &restarted);
  EXPECT_EQ(store_.RunById(run->run_id).state(), pb::RUN_STATE_FAILED);
  ASSERT_EQ(restarted.start_count(), 1);
  EXPECT_EQ(Prompt(restarted.last()), kDessertPrompt);
  EXPECT_EQ(gateway_.sent().size(), 1u);  // "Pasta?" only, not again
}

TEST_F(RouterTest, AfterACrashAFollowUpNotYetRecordedOnItsRunGetsANewRun) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy plan dinner");
  FakeRun* run = broker_.last();
  broker_.Output(run, "Pasta?");
  executor_.RunUntilIdle();
  // The follow-up reaches the agent, but the router dies before the run's record says so.
  ASSERT_TRUE(router_->Ingest(IngestRequest("tg:-100222", "2", "@Andy and dessert?")).ok());
  store_.SetUnavailable(true);
  executor_.RunUntilIdle();
  store_.SetUnavailable(false);
  ASSERT_EQ(testing::FakeBroker::FollowUps(run).size(), 1u);
  ASSERT_EQ(store_.RunById(run->run_id).last_seq(), 1);

  testing::FakeBroker restarted;
  StartRouter(Options(), &restarted);
  ASSERT_EQ(restarted.start_count(), 1);
  EXPECT_EQ(Prompt(restarted.last()), kDessertPrompt);
  EXPECT_EQ(gateway_.sent().size(), 1u);  // "Pasta?" only, not again
}

TEST_F(RouterTest, AfterACrashAGroupThatWaitedForASlotStillGetsItsRun) {
  RouterOptions options = Options();
  options.max_concurrent_agents = 1;
  StartRouter(options);
  Ingest("tg:-100222", "1", "@Andy plan dinner");
  Ingest("tg:-100333", "1", "@Andy book the room");
  ASSERT_EQ(broker_.start_count(), 1);  // work waits: no run of it is recorded yet

  testing::FakeBroker restarted;
  StartRouter(options, &restarted);
  ASSERT_EQ(restarted.start_count(), 1);
  EXPECT_EQ(restarted.last()->spec.group_folder(), "family");
  restarted.Output(restarted.last(), "Pasta?");
  restarted.Finish(restarted.last());
  executor_.RunUntilIdle();
  ASSERT_EQ(restarted.start_count(), 2);
  EXPECT_EQ(restarted.last()->spec.group_folder(), "work");
  EXPECT_NE(Prompt(restarted.last()).find("@Andy book the room"), std::string::npos);
}

TEST_F(RouterTest, AfterACrashContextAndAbandonedMessagesStartNoRun) {
  StartRouter();
  Ingest("tg:-100222", "1", "just talking among ourselves");  // context, no trigger
  Ingest("tg:-100333", "1", "@Andy book the room");
  FakeRun* run = broker_.last();
  // Every attempt fails: the router gives up on work's message until the next one.
  for (int attempt = 0; attempt < 6; ++attempt) {
    Finish(broker_.last(), "error", "model unreachable");
    executor_.AdvanceBy(absl::Seconds(81));
  }
  ASSERT_EQ(store_.RunById(run->run_id).state(), pb::RUN_STATE_ABANDONED);

  testing::FakeBroker restarted;
  StartRouter(Options(), &restarted);
  EXPECT_EQ(restarted.start_count(), 0);
}

TEST_F(RouterTest, ShutdownLeavesLiveRunsUnfinishedForTheNextStart) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy hi");
  FakeRun* run = broker_.last();
  router_->Shutdown(absl::ZeroDuration());
  EXPECT_TRUE(run->cancelled);
  broker_.Break(run, absl::CancelledError("cancelled"));
  executor_.RunUntilIdle();
  EXPECT_EQ(store_.RunById(run->run_id).state(), pb::RUN_STATE_PENDING);
  EXPECT_TRUE(store_.Outbox().empty());
}

TEST_F(RouterTest, QueueStateShowsTheActiveRun) {
  StartRouter();
  Ingest("tg:-100222", "1", "@Andy hi");
  pb::QueueStateResponse state = router_->QueueState();
  EXPECT_EQ(state.active(), 1);
  EXPECT_EQ(state.max_concurrent(), 5);
  ASSERT_EQ(state.groups_size(), 1);
  EXPECT_EQ(state.groups(0).group_folder(), "family");
  EXPECT_TRUE(state.groups(0).active());
  EXPECT_EQ(state.groups(0).run_id(), broker_.last()->run_id);
}

}  // namespace
}  // namespace clawdie::router
