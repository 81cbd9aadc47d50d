// Typing refresh on simulated time.
#include "services/gateway/typing.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"

namespace clawdie::gateway {
namespace {

class TypingTest : public ::testing::Test {
 protected:
  // Waits (real time, bounded) until `n` actions were sent.
  bool AwaitSent(int n) {
    for (int i = 0; i < 500 && sent_.load() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return sent_.load() == n;
  }

  FakeClock clock_;
  std::atomic<int> sent_{0};
  std::mutex mu_;
  std::vector<std::string> chats_;
  TypingRefresher typing_{&clock_, [this](const std::string& chat) {
                            std::lock_guard<std::mutex> lock(mu_);
                            chats_.push_back(chat);
                            ++sent_;
                          }};
};

TEST_F(TypingTest, SendsAtOnceThenEveryFourSeconds) {
  typing_.SetTyping("tg:1", true);
  ASSERT_TRUE(AwaitSent(1));
  ASSERT_TRUE(clock_.AwaitSleepers(1));
  clock_.Advance(absl::Seconds(3));
  EXPECT_TRUE(AwaitSent(1));  // not yet due
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(AwaitSent(2));
  clock_.Advance(absl::Seconds(4));
  ASSERT_TRUE(AwaitSent(3));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(chats_, (std::vector<std::string>{"tg:1", "tg:1", "tg:1"}));
}

TEST_F(TypingTest, StopsWhenTurnedOff) {
  typing_.SetTyping("tg:1", true);
  ASSERT_TRUE(AwaitSent(1));
  typing_.SetTyping("tg:1", false);
  EXPECT_EQ(typing_.active(), 0u);
  ASSERT_TRUE(clock_.AwaitSleepers(1));
  clock_.Advance(absl::Seconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(sent_.load(), 1);
}

TEST_F(TypingTest, ExpiresAfterMaxDuration) {
  typing_.SetTyping("tg:1", true);
  ASSERT_TRUE(AwaitSent(1));
  for (int i = 0; i < 149; ++i) {
    ASSERT_TRUE(clock_.AwaitSleepers(1));
    clock_.Advance(absl::Seconds(4));
    ASSERT_TRUE(AwaitSent(i + 2)) << i;
  }
  // At 10 minutes after the first action (150 intervals) the safety net stops it.
  ASSERT_TRUE(clock_.AwaitSleepers(1));
  clock_.Advance(absl::Seconds(4));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(typing_.active(), 0u);
  EXPECT_EQ(sent_.load(), 150);
}

}  // namespace
}  // namespace clawdie::gateway
