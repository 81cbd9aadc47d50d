#include "services/router/group_cache.h"

#include "gtest/gtest.h"
#include "services/router/testing/fakes.h"

namespace clawdie::router {
namespace {

// Counts GetGroup calls that reach the store.
class CountingStore : public testing::FakeStore {
 public:
  using FakeStore::FakeStore;
  absl::StatusOr<pb::Group> GetGroup(const pb::GetGroupRequest& request) override {
    ++calls;
    return FakeStore::GetGroup(request);
  }
  int calls = 0;
};

pb::GetGroupRequest ByChat(const std::string& jid) {
  pb::GetGroupRequest request;
  request.set_chat_jid(jid);
  return request;
}

TEST(GroupCachingStoreTest, AnswersRepeatedLookupsFromMemoryUntilTheyExpire) {
  testing::FakeClock clock(absl::FromUnixSeconds(1000));
  CountingStore store(&clock);
  store.AddGroup("family", "tg:1");
  GroupCachingStore cache(&store, &clock, absl::Seconds(5));

  EXPECT_EQ(cache.GetGroup(ByChat("tg:1"))->folder(), "family");
  EXPECT_EQ(cache.GetGroup(ByChat("tg:1"))->folder(), "family");
  EXPECT_EQ(cache.GetGroup(ByChat("tg:2")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(cache.GetGroup(ByChat("tg:2")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.calls, 2);

  clock.Set(clock.Now() + absl::Seconds(5));
  cache.GetGroup(ByChat("tg:1")).IgnoreError();
  EXPECT_EQ(store.calls, 3);
}

TEST(GroupCachingStoreTest, GroupWritesThroughItClearTheCache) {
  testing::FakeClock clock(absl::FromUnixSeconds(1000));
  CountingStore store(&clock);
  GroupCachingStore cache(&store, &clock, absl::Seconds(5));
  EXPECT_FALSE(cache.GetGroup(ByChat("tg:9")).ok());

  pb::CreateGroupRequest create;
  create.mutable_group()->set_chat_jid("tg:9");
  create.mutable_group()->set_folder("club");
  ASSERT_TRUE(cache.CreateGroup(create).ok());
  EXPECT_EQ(cache.GetGroup(ByChat("tg:9"))->folder(), "club");

  pb::DeleteGroupRequest remove;
  remove.set_folder("club");
  ASSERT_TRUE(cache.DeleteGroup(remove).ok());
  EXPECT_EQ(cache.GetGroup(ByChat("tg:9")).status().code(), absl::StatusCode::kNotFound);
}

TEST(GroupCachingStoreTest, DoesNotRememberThatTheStoreWasDown) {
  testing::FakeClock clock(absl::FromUnixSeconds(1000));
  CountingStore store(&clock);
  store.AddGroup("family", "tg:1");
  GroupCachingStore cache(&store, &clock, absl::Seconds(5));
  store.SetUnavailable(true);
  EXPECT_EQ(cache.GetGroup(ByChat("tg:1")).status().code(), absl::StatusCode::kUnavailable);
  store.SetUnavailable(false);
  EXPECT_TRUE(cache.GetGroup(ByChat("tg:1")).ok());
}

}  // namespace
}  // namespace clawdie::router

namespace clawdie::router {
namespace {

TEST(GroupCachingStoreTest, CursorsFollowTheRoutersOwnAdvancesAndSessionsAreReadAfterWrites) {
  testing::FakeClock clock(absl::FromUnixSeconds(1000));
  testing::FakeStore store(&clock);
  GroupCachingStore cache(&store, &clock, absl::Seconds(5));
  pb::GetCursorRequest get_cursor;
  get_cursor.set_group_folder("family");
  EXPECT_EQ(cache.GetCursor(get_cursor)->seq(), 0);
  pb::AdvanceCursorRequest advance;
  advance.set_group_folder("family");
  advance.set_seq(7);
  ASSERT_TRUE(cache.AdvanceCursor(advance).ok());
  EXPECT_EQ(cache.GetCursor(get_cursor)->seq(), 7);
  advance.set_seq(3);  // lower: the store keeps 7 and so does the cache
  ASSERT_TRUE(cache.AdvanceCursor(advance).ok());
  EXPECT_EQ(cache.GetCursor(get_cursor)->seq(), 7);

  pb::GetSessionRequest get_session;
  get_session.set_group_folder("family");
  EXPECT_EQ(cache.GetSession(get_session)->session_id(), "");
  pb::SetSessionRequest set;
  set.set_group_folder("family");
  set.set_session_id("s-1");
  ASSERT_TRUE(cache.SetSession(set).ok());
  EXPECT_EQ(cache.GetSession(get_session)->session_id(), "s-1");
}

}  // namespace
}  // namespace clawdie::router
