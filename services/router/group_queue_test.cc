#include "services/router/group_queue.h"

#include "gtest/gtest.h"

namespace clawdie::router {
namespace {

std::vector<std::string> Folders(const std::vector<QueueWork>& work) {
  std::vector<std::string> out;
  for (const QueueWork& item : work) out.push_back(item.folder);
  return out;
}

QueueWork TaskWork(const std::string& folder, int64_t id) {
  QueueWork work;
  work.folder = folder;
  work.task.set_id(id);
  work.due = absl::FromUnixSeconds(1000);
  return work;
}

TEST(GroupQueueTest, StartsAtMostMaxConcurrentAndServesWaitingGroupsFirstInFirstOut) {
  GroupQueue queue(2);
  for (const char* folder : {"a", "b", "c", "d"}) {
    EXPECT_EQ(queue.AddMessages(folder), GroupQueue::MessageDecision::kQueued);
  }
  EXPECT_EQ(Folders(queue.TakeStartable()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(queue.active_count(), 2);
  EXPECT_TRUE(queue.TakeStartable().empty());

  queue.Finish("b");
  EXPECT_EQ(Folders(queue.TakeStartable()), (std::vector<std::string>{"c"}));
  queue.Finish("a");
  EXPECT_EQ(Folders(queue.TakeStartable()), (std::vector<std::string>{"d"}));
  EXPECT_EQ(queue.active_count(), 2);
}

TEST(GroupQueueTest, AnIdleGroupStartsAtOnceWhenASlotIsFreeAndNobodyWaits) {
  GroupQueue queue(2);
  EXPECT_TRUE(queue.TryStartMessagesNow("a"));
  EXPECT_TRUE(queue.IsActive("a"));
  EXPECT_EQ(queue.active_count(), 1);
  EXPECT_EQ(queue.AddMessages("a"), GroupQueue::MessageDecision::kPipeIntoActive);
  EXPECT_FALSE(queue.TryStartMessagesNow("a"));
  EXPECT_TRUE(queue.TakeStartable().empty());

  EXPECT_TRUE(queue.TryStartMessagesNow("b"));
  EXPECT_FALSE(queue.TryStartMessagesNow("c"));  // no slot
  EXPECT_EQ(queue.active_count(), 2);
  queue.Finish("a");
  EXPECT_EQ(queue.active_count(), 1);
  EXPECT_TRUE(queue.TakeStartable().empty());
}

TEST(GroupQueueTest, StartingAtOnceNeverOvertakesWaitingWork) {
  GroupQueue queue(1);
  queue.AddMessages("a");
  queue.AddMessages("b");
  ASSERT_EQ(Folders(queue.TakeStartable()), (std::vector<std::string>{"a"}));
  queue.Finish("a");
  // b waits in line for the free slot: c may not take it.
  EXPECT_FALSE(queue.TryStartMessagesNow("c"));
  EXPECT_EQ(Folders(queue.TakeStartable()), (std::vector<std::string>{"b"}));
  queue.Finish("b");

  queue.SetBackoff("d", true);
  EXPECT_FALSE(queue.TryStartMessagesNow("d"));
  queue.AddTask(TaskWork("e", 7));
  EXPECT_FALSE(queue.TryStartMessagesNow("e"));
  EXPECT_EQ(queue.active_count(), 0);
}

TEST(GroupQueueTest, MessagesForAnActiveGroupArePipedNotQueued) {
  GroupQueue queue(5);
  queue.AddMessages("a");
  ASSERT_EQ(queue.TakeStartable().size(), 1u);
  EXPECT_EQ(queue.AddMessages("a"), GroupQueue::MessageDecision::kPipeIntoActive);
  queue.Finish("a");
  EXPECT_TRUE(queue.TakeStartable().empty());
}

TEST(GroupQueueTest, MessagesForAClosingAgentWaitForTheNextRun) {
  GroupQueue queue(5);
  queue.AddMessages("a");
  queue.TakeStartable();
  queue.SetClosing("a");
  EXPECT_EQ(queue.AddMessages("a"), GroupQueue::MessageDecision::kQueued);
  EXPECT_TRUE(queue.TakeStartable().empty());
  queue.Finish("a");
  EXPECT_EQ(Folders(queue.TakeStartable()), (std::vector<std::string>{"a"}));
}

TEST(GroupQueueTest, OneAgentPerGroupAndAGroupGoesToTheBackOfTheLineAfterItsRun) {
  GroupQueue queue(1);
  queue.AddMessages("a");
  queue.TakeStartable();
  queue.SetClosing("a");
  queue.AddMessages("a");
  queue.AddMessages("b");
  queue.Finish("a");
  // b waited while a ran; a's new messages wait behind it.
  EXPECT_EQ(Folders(queue.TakeStartable()), (std::vector<std::string>{"b"}));
  queue.Finish("b");
  EXPECT_EQ(Folders(queue.TakeStartable()), (std::vector<std::string>{"a"}));
}

TEST(GroupQueueTest, ADueTaskGoesBeforeWaitingMessagesOfItsGroup) {
  GroupQueue queue(1);
  queue.AddMessages("x");
  queue.TakeStartable();  // x occupies the only slot
  queue.AddMessages("a");
  EXPECT_EQ(queue.AddTask(TaskWork("a", 7)), GroupQueue::TaskDecision::kQueued);
  queue.Finish("x");
  std::vector<QueueWork> first = queue.TakeStartable();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].kind, QueueWork::Kind::kTask);
  EXPECT_EQ(first[0].task.id(), 7);
  queue.Finish("a");
  std::vector<QueueWork> second = queue.TakeStartable();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].kind, QueueWork::Kind::kMessages);
}

TEST(GroupQueueTest, ATaskAlreadyQueuedOrRunningIsNotAddedTwice) {
  GroupQueue queue(1);
  EXPECT_EQ(queue.AddTask(TaskWork("a", 7)), GroupQueue::TaskDecision::kQueued);
  EXPECT_EQ(queue.AddTask(TaskWork("a", 7)), GroupQueue::TaskDecision::kDuplicate);
  queue.TakeStartable();
  EXPECT_EQ(queue.AddTask(TaskWork("a", 7)), GroupQueue::TaskDecision::kDuplicate);
  queue.Finish("a");
  EXPECT_EQ(queue.AddTask(TaskWork("a", 7)), GroupQueue::TaskDecision::kQueued);
}

TEST(GroupQueueTest, ADueTaskAsksToCloseAnIdleAgentButNotAWorkingOne) {
  GroupQueue queue(5);
  queue.AddMessages("a");
  queue.TakeStartable();
  EXPECT_EQ(queue.AddTask(TaskWork("a", 1)), GroupQueue::TaskDecision::kQueued);
  queue.SetIdle("a", true);
  EXPECT_EQ(queue.AddTask(TaskWork("a", 2)), GroupQueue::TaskDecision::kCloseIdleAgent);
  EXPECT_TRUE(queue.HasWaitingTask("a"));
}

TEST(GroupQueueTest, WaitingGroupsGetTheSlotsOfTheLongestIdleAgents) {
  GroupQueue queue(3);
  for (const char* folder : {"a", "b", "c"}) queue.AddMessages(folder);
  queue.TakeStartable();
  queue.SetIdle("b", true);
  queue.SetIdle("a", true);
  EXPECT_TRUE(queue.IdleAgentsToClose().empty());  // nobody waits

  queue.AddMessages("d");
  EXPECT_EQ(queue.IdleAgentsToClose(), (std::vector<std::string>{"b"}));
  queue.AddMessages("e");
  EXPECT_EQ(queue.IdleAgentsToClose(), (std::vector<std::string>{"b", "a"}));

  // An agent already closing frees a slot of its own; a working one is never named.
  queue.SetClosing("b");
  EXPECT_EQ(queue.IdleAgentsToClose(), (std::vector<std::string>{"a"}));
  queue.SetIdle("a", false);
  EXPECT_TRUE(queue.IdleAgentsToClose().empty());
  queue.Finish("b");
  EXPECT_EQ(Folders(queue.TakeStartable()), (std::vector<std::string>{"d"}));
  EXPECT_TRUE(queue.IdleAgentsToClose().empty());
}

TEST(GroupQueueTest, BackoffHoldsMessagesUntilItEnds) {
  GroupQueue queue(5);
  queue.AddMessages("a");
  queue.TakeStartable();
  queue.SetBackoff("a", true);
  queue.Finish("a");
  EXPECT_TRUE(queue.TakeStartable().empty());
  EXPECT_EQ(queue.AddMessages("a"), GroupQueue::MessageDecision::kQueued);
  EXPECT_TRUE(queue.TakeStartable().empty());
  queue.SetBackoff("a", false);
  EXPECT_EQ(Folders(queue.TakeStartable()), (std::vector<std::string>{"a"}));
}

TEST(GroupQueueTest, ForgetDropsWaitingWork) {
  GroupQueue queue(1);
  queue.AddMessages("x");
  queue.TakeStartable();
  queue.AddMessages("a");
  queue.AddTask(TaskWork("a", 3));
  queue.Forget("a");
  queue.Finish("x");
  EXPECT_TRUE(queue.TakeStartable().empty());
}

TEST(GroupQueueTest, SnapshotListsActiveGroupsFirstThenTheLine) {
  GroupQueue queue(1);
  queue.AddMessages("b");
  queue.AddMessages("a");
  queue.TakeStartable();
  queue.AddTask(TaskWork("c", 4));
  std::vector<GroupQueueSnapshot> snapshot = queue.Snapshot();
  ASSERT_EQ(snapshot.size(), 3u);
  EXPECT_EQ(snapshot[0].folder, "b");
  EXPECT_TRUE(snapshot[0].active);
  EXPECT_EQ(snapshot[1].folder, "a");
  EXPECT_TRUE(snapshot[1].pending_messages);
  EXPECT_EQ(snapshot[2].folder, "c");
  EXPECT_EQ(snapshot[2].pending_tasks, 1);
}

}  // namespace
}  // namespace clawdie::router
