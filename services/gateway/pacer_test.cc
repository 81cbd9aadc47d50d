// Pacing limits on simulated time: per chat, per group burst, global burst, 429 pauses.
#include "services/gateway/pacer.h"

#include "gtest/gtest.h"

namespace clawdie::gateway {
namespace {

class PacerTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  Pacer pacer_{&clock_, PacerOptions()};
  absl::Time t0_ = clock_.Now();
};

TEST_F(PacerTest, OneMessagePerSecondInAPrivateChat) {
  EXPECT_EQ(pacer_.ReserveChat("tg:1"), t0_);
  EXPECT_EQ(pacer_.ReserveChat("tg:1"), t0_ + absl::Seconds(1));
  EXPECT_EQ(pacer_.ReserveChat("tg:1"), t0_ + absl::Seconds(2));
  // Another chat is not held back by the first.
  EXPECT_EQ(pacer_.ReserveChat("tg:2"), t0_);
  EXPECT_EQ(pacer_.ReserveShared("tg:2", false), t0_);
}

TEST_F(PacerTest, GroupAllowsTwentyPerMinute) {
  PacerOptions options;
  options.per_chat = absl::ZeroDuration();  // isolate the group limit
  Pacer pacer(&clock_, options);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(pacer.ReserveShared("tg:-5", true), t0_) << i;
  // Another group has its own budget.
  EXPECT_EQ(pacer.ReserveShared("tg:-6", true), t0_);
  // The 21st waits for the bucket to refill one message: 60 s / 20.
  EXPECT_EQ(pacer.ReserveShared("tg:-5", true), t0_ + absl::Seconds(3));
  EXPECT_EQ(pacer.ReserveShared("tg:-5", true), t0_ + absl::Seconds(6));
}

TEST_F(PacerTest, GlobalAllowsThirtyPerSecond) {
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(pacer_.ReserveShared("tg:" + std::to_string(i), false), t0_);
  }
  EXPECT_EQ(pacer_.ReserveShared("tg:100", false), t0_ + absl::Seconds(1) / 30);
}

TEST_F(PacerTest, RetryAfterPausesOnlyThatChat) {
  pacer_.ReserveChat("tg:1");
  pacer_.PauseChat("tg:1", absl::Seconds(3));
  EXPECT_EQ(pacer_.NextSlot("tg:1", false), t0_ + absl::Seconds(3));
  EXPECT_EQ(pacer_.NextSlot("tg:2", false), t0_);
  EXPECT_EQ(pacer_.ReserveChat("tg:1"), t0_ + absl::Seconds(3));
}

TEST_F(PacerTest, BucketsRefillOverTime) {
  for (int i = 0; i < 3; ++i) pacer_.ReserveChat("tg:1");
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(pacer_.ReserveChat("tg:1"), clock_.Now());
}

}  // namespace
}  // namespace clawdie::gateway
