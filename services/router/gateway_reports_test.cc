// The router's side of what the gateway reports besides messages: a registered group follows
// its chat to a new key, and platform receipts land on the outbox entry. Against the
// in-memory store with store.proto's semantics, behind the group cache the server uses.
#include "services/router/gateway_reports.h"

#include "gtest/gtest.h"
#include "services/router/group_cache.h"
#include "services/router/testing/fakes.h"

namespace clawdie::router {
namespace {

using testing::FakeClock;
using testing::FakeStore;

class GatewayReportsTest : public ::testing::Test {
 protected:
  GatewayReportsTest()
      : clock_(absl::FromUnixSeconds(1767949200)),
        fake_(&clock_),
        store_(&fake_, &clock_, absl::Seconds(5)) {}

  pb::MigrateChatRequest Migration(const std::string& from, const std::string& to) {
    pb::MigrateChatRequest request;
    request.set_from_chat_jid(from);
    request.set_to_chat_jid(to);
    return request;
  }

  absl::StatusOr<pb::Group> GroupOfChat(const std::string& chat_jid) {
    pb::GetGroupRequest lookup;
    lookup.set_chat_jid(chat_jid);
    return store_.GetGroup(lookup);
  }

  FakeClock clock_;
  FakeStore fake_;
  GroupCachingStore store_;
};

TEST_F(GatewayReportsTest, RegisteredGroupFollowsItsChatToTheNewKey) {
  pb::Group before = fake_.AddGroup("family", "tg:-4012345678", false, true, "Europe/Stockholm");
  ASSERT_TRUE(GroupOfChat("tg:-4012345678").ok());  // now cached under the old key

  absl::StatusOr<pb::MigrateChatResponse> migrated =
      MigrateGroupChat(&store_, Migration("tg:-4012345678", "tg:-1004012345678"));
  ASSERT_TRUE(migrated.ok()) << migrated.status();
  EXPECT_TRUE(migrated->moved());
  EXPECT_EQ(migrated->group_folder(), "family");

  absl::StatusOr<pb::Group> after = GroupOfChat("tg:-1004012345678");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->folder(), "family");
  EXPECT_EQ(after->timezone(), "Europe/Stockholm");
  EXPECT_EQ(after->trigger(), before.trigger());
  EXPECT_TRUE(after->requires_trigger());
  EXPECT_EQ(GroupOfChat("tg:-4012345678").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GatewayReportsTest, RedeliveredMigrationIsAcceptedAndChangesNothing) {
  fake_.AddGroup("family", "tg:-4012345678");
  ASSERT_TRUE(MigrateGroupChat(&store_, Migration("tg:-4012345678", "tg:-1004012345678")).ok());

  absl::StatusOr<pb::MigrateChatResponse> again =
      MigrateGroupChat(&store_, Migration("tg:-4012345678", "tg:-1004012345678"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->moved());
  EXPECT_EQ(again->group_folder(), "family");
}

TEST_F(GatewayReportsTest, UnregisteredChatHasNothingToMove) {
  absl::StatusOr<pb::MigrateChatResponse> migrated =
      MigrateGroupChat(&store_, Migration("tg:-4012345678", "tg:-1004012345678"));
  ASSERT_TRUE(migrated.ok()) << migrated.status();
  EXPECT_FALSE(migrated->moved());
  EXPECT_EQ(migrated->group_folder(), "");
  EXPECT_TRUE(fake_.Outbox().empty());
}

TEST_F(GatewayReportsTest, NewKeyTakenByAnotherGroupIsRefused) {
  fake_.AddGroup("family", "tg:-4012345678");
  fake_.AddGroup("family-new", "tg:-1004012345678");
  absl::StatusOr<pb::MigrateChatResponse> migrated =
      MigrateGroupChat(&store_, Migration("tg:-4012345678", "tg:-1004012345678"));
  EXPECT_EQ(migrated.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GroupOfChat("tg:-4012345678")->folder(), "family");
  EXPECT_EQ(GroupOfChat("tg:-1004012345678")->folder(), "family-new");
}

TEST_F(GatewayReportsTest, BadKeysAreInvalidAndStoreOutageIsUnavailable) {
  EXPECT_EQ(MigrateGroupChat(&store_, Migration("", "tg:-1")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MigrateGroupChat(&store_, Migration("tg:-1", "tg:-1")).status().code(),
            absl::StatusCode::kInvalidArgument);
  fake_.AddGroup("family", "tg:-4012345678");
  fake_.SetUnavailable(true);
  EXPECT_EQ(
      MigrateGroupChat(&store_, Migration("tg:-4012345678", "tg:-1004012345678")).status().code(),
      absl::StatusCode::kUnavailable);
  fake_.SetUnavailable(false);
  EXPECT_EQ(GroupOfChat("tg:-4012345678")->folder(), "family");
}

TEST_F(GatewayReportsTest, ReceiptsReachTheOutboxEntry) {
  pb::EnqueueOutboxRequest enqueue;
  enqueue.mutable_entry()->set_chat_jid("wa:46701234567");
  enqueue.mutable_entry()->set_text("Nothing on your calendar today.");
  absl::StatusOr<pb::OutboxEntry> entry = store_.EnqueueOutbox(enqueue);
  ASSERT_TRUE(entry.ok());
  pb::MarkDeliveredRequest delivered;
  delivered.set_id(entry->id());
  delivered.add_platform_message_ids("wamid.HBgLNDY3MDEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA");
  ASSERT_TRUE(store_.MarkDelivered(delivered).ok());

  pb::ReportDeliveryRequest report;
  pb::DeliveryReceipt* receipt = report.mutable_receipt();
  receipt->set_chat_jid("wa:46701234567");
  receipt->set_platform_message_id("wamid.HBgLNDY3MDEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA");
  receipt->set_outbox_id(entry->id());
  receipt->set_state(pb::PLATFORM_DELIVERY_STATE_DELIVERED);
  receipt->mutable_time()->set_seconds(1767950010);
  absl::StatusOr<pb::ReportDeliveryResponse> recorded = RecordDeliveryReceipt(&store_, report);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->outbox_id(), entry->id());
  EXPECT_EQ(recorded->platform_state(), pb::PLATFORM_DELIVERY_STATE_DELIVERED);
  ASSERT_EQ(fake_.Outbox().size(), 1u);
  EXPECT_EQ(fake_.Outbox()[0].platform_state(), pb::PLATFORM_DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(fake_.Outbox()[0].platform_state_at().seconds(), 1767950010);

  // Without the outbox id (the gateway restarted) it is found by the platform id.
  receipt->set_outbox_id(0);
  receipt->set_state(pb::PLATFORM_DELIVERY_STATE_FAILED);
  receipt->set_error("131026: Message undeliverable");
  recorded = RecordDeliveryReceipt(&store_, report);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(fake_.Outbox()[0].platform_state(), pb::PLATFORM_DELIVERY_STATE_FAILED);
  EXPECT_EQ(fake_.Outbox()[0].platform_error(), "131026: Message undeliverable");

  receipt->set_platform_message_id("wamid.unknown");
  EXPECT_EQ(RecordDeliveryReceipt(&store_, report).status().code(), absl::StatusCode::kNotFound);
  fake_.SetUnavailable(true);
  EXPECT_EQ(RecordDeliveryReceipt(&store_, report).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace clawdie::router
