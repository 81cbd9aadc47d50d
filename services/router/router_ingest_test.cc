// How Ingest talks to the store: a message that starts its group's run records the run in
// its own store call, a stale group never starts a run its settings would not, and
// follow-ups travel with the append unless its listing falls short.
#include <iterator>
#include <map>

#include "services/router/group_cache.h"
#include "services/router/router.h"
#include "services/router/testing/router_fixture.h"

namespace clawdie::router {
namespace {

using testing::FakeRun;

class RouterIngestTest : public testing::RouterFixture {
 protected:
  pb::IngestRequest Request(const std::string& chat, const std::string& id,
                            const std::string& text) {
    pb::IngestRequest request;
    request.mutable_message()->set_chat_jid(chat);
    request.mutable_message()->set_platform_message_id(id);
    request.mutable_message()->set_sender_name("Mara");
    request.mutable_message()->set_text(text);
    request.mutable_message()->mutable_time()->set_seconds(kStart);
    return request;
  }
};

TEST_F(RouterIngestTest, AMessageThatStartsARunRecordsItInItsOwnStoreCall) {
  StartRouter();
  absl::StatusOr<pb::IngestResponse> response =
      router_->Ingest(Request("tg:-100222", "1", "@Andy what time?"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_TRUE(response->triggered());

  // Recorded before Ingest returned, with the message, and before the broker was asked.
  std::vector<pb::Run> runs = store_.Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].group_folder(), "family");
  EXPECT_EQ(runs[0].first_seq(), response->seq());
  EXPECT_EQ(runs[0].state(), pb::RUN_STATE_PENDING);
  EXPECT_EQ(broker_.start_count(), 0);

  executor_.RunUntilIdle();
  ASSERT_EQ(broker_.start_count(), 1);
  EXPECT_EQ(broker_.last()->run_id, runs[0].id());
  EXPECT_EQ(store_.CallCount("AppendMessage"), 1);
  EXPECT_EQ(store_.CallCount("BeginMessageRun"), 0);
  EXPECT_EQ(store_.Runs().size(), 1u);
}

TEST_F(RouterIngestTest, AnImplausibleMessageTimeBecomesTheTimeItArrived) {
  StartRouter();
  const int64_t sent_times[] = {-37868342400, 99999999999, 0, kStart - 3600};
  for (size_t i = 0; i < std::size(sent_times); ++i) {
    pb::IngestRequest request = Request("tg:-100999", std::to_string(i), "hi");
    request.mutable_message()->mutable_time()->set_seconds(sent_times[i]);
    ASSERT_TRUE(router_->Ingest(request).ok());
  }
  pb::ListMessagesRequest list;
  list.set_chat_jid("tg:-100999");
  list.set_limit(10);
  absl::StatusOr<pb::ListMessagesResponse> stored = store_.ListMessages(list);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->messages_size(), 4);
  int64_t now = absl::ToUnixSeconds(clock_.Now());
  std::map<std::string, int64_t> times;
  for (const pb::Message& m : stored->messages())
    times[m.platform_message_id()] = m.time().seconds();
  EXPECT_EQ(times["0"], now);
  EXPECT_EQ(times["1"], now);
  EXPECT_EQ(times["2"], now);
  EXPECT_EQ(times["3"], kStart - 3600);  // a plausible time is kept
}

TEST_F(RouterIngestTest, AGroupChangedSinceItWasCachedNeverStartsARunItWouldNot) {
  GroupCachingStore cache(&store_, &clock_, absl::Seconds(5));
  router_ = std::make_unique<Router>(Options(), &cache, &broker_, &gateway_, &clock_, &executor_);
  ASSERT_TRUE(router_->Start().ok());
  executor_.RunUntilIdle();
  ASSERT_TRUE(router_->Ingest(Request("tg:-100222", "1", "just context")).ok());

  // Someone else changes the trigger; the cache still has "@Andy".
  pb::Group changed = family_;
  changed.set_trigger("@Bob");
  pb::UpdateGroupRequest update;
  *update.mutable_group() = changed;
  ASSERT_TRUE(store_.UpdateGroup(update).ok());

  absl::StatusOr<pb::IngestResponse> response =
      router_->Ingest(Request("tg:-100222", "2", "@Andy are you there?"));
  ASSERT_TRUE(response.ok()) << response.status();
  executor_.RunUntilIdle();
  EXPECT_TRUE(response->registered());
  EXPECT_FALSE(response->triggered());
  EXPECT_TRUE(store_.Runs().empty());
  EXPECT_EQ(broker_.start_count(), 0);
  EXPECT_EQ(router_->QueueState().active(), 0);

  // The group's real trigger still starts a run, through the usual path.
  ASSERT_TRUE(router_->Ingest(Request("tg:-100222", "3", "@Bob are you there?")).ok());
  executor_.RunUntilIdle();
  ASSERT_EQ(broker_.start_count(), 1);
  EXPECT_EQ(store_.CallCount("BeginMessageRun"), 1);
  router_.reset();  // before the cache it uses
}

TEST_F(RouterIngestTest, FollowUpsTravelWithTheAppendWithoutAnotherStoreCall) {
  StartRouter();
  const int listed_at_start = store_.CallCount("ListMessages");
  Ingest("tg:-100222", "1", "@Andy plan dinner");
  FakeRun* run = broker_.last();
  Ingest("tg:-100222", "2", "I'd like pasta", "Jonas");
  Ingest("tg:-100222", "3", "@Andy and dessert?");

  ASSERT_EQ(testing::FakeBroker::FollowUps(run).size(), 1u);
  EXPECT_EQ(
      testing::FakeBroker::FollowUps(run)[0],
      "<messages>\n"
      "<message sender=\"Jonas\" time=\"2026-01-09 10:00 CET\">I&apos;d like pasta</message>\n"
      "<message sender=\"Mara\" time=\"2026-01-09 10:00 CET\">@Andy and dessert?</message>\n"
      "</messages>");
  EXPECT_EQ(store_.CallCount("ListMessages"), listed_at_start);
}

TEST_F(RouterIngestTest, AListingCutShortIsCompletedFromTheStore) {
  RouterOptions options = Options();
  options.prompt_max_messages = 2;
  StartRouter(options);
  const int listed_at_start = store_.CallCount("ListMessages");
  Ingest("tg:-100222", "1", "@Andy plan dinner");
  FakeRun* run = broker_.last();
  Ingest("tg:-100222", "2", "one", "Jonas");
  Ingest("tg:-100222", "3", "two", "Jonas");
  Ingest("tg:-100222", "4", "three", "Jonas");
  Ingest("tg:-100222", "5", "@Andy what do you think?");

  // The append listed the newest two of four unseen messages; the store's own listing says
  // how many were left out.
  ASSERT_EQ(testing::FakeBroker::FollowUps(run).size(), 1u);
  EXPECT_EQ(testing::FakeBroker::FollowUps(run)[0],
            "<messages>\n"
            "<omitted count=\"2\">2 older messages omitted</omitted>\n"
            "<message sender=\"Jonas\" time=\"2026-01-09 10:00 CET\">three</message>\n"
            "<message sender=\"Mara\" time=\"2026-01-09 10:00 CET\">@Andy what do you "
            "think?</message>\n"
            "</messages>");
  EXPECT_EQ(store_.CallCount("ListMessages"), listed_at_start + 1);
  EXPECT_EQ(store_.RunById(run->run_id).last_seq(), 5);
}

}  // namespace
}  // namespace clawdie::router
