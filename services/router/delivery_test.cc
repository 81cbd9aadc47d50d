// Delivery through the outbox: transient retries with backoff, permanent failures, and never
// sending an acknowledged entry twice.
#include "services/router/delivery.h"

#include "gtest/gtest.h"
#include "services/router/proto_time.h"
#include "services/router/testing/fakes.h"

namespace clawdie::router {
namespace {

class DeliveryTest : public ::testing::Test {
 protected:
  DeliveryTest()
      : clock_(absl::FromUnixSeconds(1767949200)),
        executor_(&clock_),
        store_(&clock_),
        deliverer_(&store_, &gateway_, &clock_, &executor_) {}

  pb::OutboxEntry Entry(int64_t id) {
    for (const pb::OutboxEntry& entry : store_.Outbox()) {
      if (entry.id() == id) return entry;
    }
    ADD_FAILURE() << "no outbox entry " << id;
    return pb::OutboxEntry();
  }

  testing::FakeClock clock_;
  testing::ManualExecutor executor_;
  testing::FakeStore store_;
  testing::FakeGateway gateway_;
  Deliverer deliverer_;
};

TEST_F(DeliveryTest, TransientFailuresAreRetriedWithBackoffUntilDelivered) {
  gateway_.FailNextSends(
      {absl::UnavailableError("telegram 502"), absl::ResourceExhaustedError("retry after 3")});
  absl::StatusOr<pb::OutboxEntry> entry = deliverer_.Enqueue("tg:1", "hello", 7);
  ASSERT_TRUE(entry.ok());
  executor_.RunUntilIdle();
  pb::OutboxEntry after_first = Entry(entry->id());
  EXPECT_EQ(after_first.state(), pb::OUTBOX_STATE_PENDING);
  EXPECT_EQ(after_first.last_error(), "telegram 502");
  EXPECT_EQ(FromProto(after_first.next_attempt_at()), clock_.Now() + absl::Seconds(5));

  executor_.AdvanceBy(absl::Seconds(5));
  EXPECT_EQ(gateway_.sent().size(), 2u);
  EXPECT_EQ(FromProto(Entry(entry->id()).next_attempt_at()), clock_.Now() + absl::Seconds(10));
  executor_.AdvanceBy(absl::Seconds(10));
  EXPECT_EQ(gateway_.sent().size(), 3u);
  EXPECT_EQ(Entry(entry->id()).state(), pb::OUTBOX_STATE_DELIVERED);

  // Acknowledged: never sent again.
  EXPECT_TRUE(deliverer_.DeliverDue().ok());
  executor_.AdvanceBy(absl::Minutes(10));
  EXPECT_EQ(gateway_.sent().size(), 3u);
}

TEST_F(DeliveryTest, PermanentFailuresAreMarkedFailedWithTheReasonAndNotRetried) {
  gateway_.FailNextSends({absl::FailedPreconditionError("bot was blocked by the user")});
  absl::StatusOr<pb::OutboxEntry> entry = deliverer_.Enqueue("tg:1", "hello", 0);
  ASSERT_TRUE(entry.ok());
  executor_.RunUntilIdle();
  pb::OutboxEntry failed = Entry(entry->id());
  EXPECT_EQ(failed.state(), pb::OUTBOX_STATE_FAILED);
  EXPECT_EQ(failed.last_error(), "bot was blocked by the user");
  executor_.AdvanceBy(absl::Hours(1));
  EXPECT_EQ(gateway_.sent().size(), 1u);
}

TEST_F(DeliveryTest, GivesUpAfterTheMaximumNumberOfTransientFailures) {
  std::vector<absl::Status> failures(20, absl::UnavailableError("down"));
  gateway_.FailNextSends(failures);
  absl::StatusOr<pb::OutboxEntry> entry = deliverer_.Enqueue("tg:1", "hello", 0);
  ASSERT_TRUE(entry.ok());
  executor_.AdvanceBy(absl::Hours(2));
  pb::OutboxEntry failed = Entry(entry->id());
  EXPECT_EQ(failed.state(), pb::OUTBOX_STATE_FAILED);
  EXPECT_EQ(failed.last_error(), "gave up after 12 attempts: down");
  EXPECT_EQ(gateway_.sent().size(), 12u);
}

TEST_F(DeliveryTest, ASentEntryIsAcknowledgedLaterNotSentTwiceWhenTheStoreWasAway) {
  absl::StatusOr<pb::OutboxEntry> entry = deliverer_.Enqueue("tg:1", "hello", 0);
  ASSERT_TRUE(entry.ok());
  store_.SetUnavailable(true);  // Send works, MarkDelivered does not
  executor_.RunUntilIdle();
  EXPECT_EQ(gateway_.sent().size(), 1u);
  store_.SetUnavailable(false);
  EXPECT_EQ(Entry(entry->id()).state(), pb::OUTBOX_STATE_PENDING);

  EXPECT_TRUE(deliverer_.DeliverDue().ok());
  EXPECT_EQ(gateway_.sent().size(), 1u);
  pb::OutboxEntry delivered = Entry(entry->id());
  EXPECT_EQ(delivered.state(), pb::OUTBOX_STATE_DELIVERED);
  ASSERT_EQ(delivered.platform_message_ids_size(), 1);
  EXPECT_EQ(delivered.platform_message_ids(0), "p1");
}

TEST_F(DeliveryTest, PendingEntriesFromBeforeARestartAreDelivered) {
  pb::EnqueueOutboxRequest request;
  request.mutable_entry()->set_chat_jid("tg:1");
  request.mutable_entry()->set_text("left over");
  absl::StatusOr<pb::OutboxEntry> entry = store_.EnqueueOutbox(request);
  ASSERT_TRUE(entry.ok());
  EXPECT_TRUE(deliverer_.DeliverDue().ok());
  EXPECT_EQ(Entry(entry->id()).state(), pb::OUTBOX_STATE_DELIVERED);
  ASSERT_EQ(gateway_.sent().size(), 1u);
  EXPECT_EQ(gateway_.sent()[0].text(), "left over");
}

}  // namespace
}  // namespace clawdie::router
