#include "services/broker/steps.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace clawdie::broker {
namespace {

TEST(StepRunnerTest, FailureUndoesEarlierStepsInReverseOrder) {
  std::vector<std::string> log;
  StepRunner steps("sandbox r1");
  auto step = [&](const char* name) {
    return steps.Run(
        name,
        [&, name] {
          log.push_back(std::string("do ") + name);
          return absl::OkStatus();
        },
        [&, name] { log.push_back(std::string("undo ") + name); });
  };
  ASSERT_TRUE(step("a").ok());
  ASSERT_TRUE(step("b").ok());
  absl::Status status =
      steps.Run("c", [] { return absl::UnavailableError("docker: connection refused"); });

  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "c sandbox r1: docker: connection refused");
  EXPECT_EQ(log, (std::vector<std::string>{"do a", "do b", "undo b", "undo a"}));
  EXPECT_TRUE(steps.done().empty());
}

TEST(StepRunnerTest, HookFailsAStepWithoutRunningIt) {
  bool ran = false;
  StepRunner steps("sandbox r2", [](std::string_view step) {
    return step == "create" ? absl::InternalError("injected") : absl::OkStatus();
  });
  ASSERT_TRUE(steps.Run("prepare", [] { return absl::OkStatus(); }).ok());
  absl::Status status = steps.Run("create", [&] {
    ran = true;
    return absl::OkStatus();
  });
  EXPECT_FALSE(ran);
  EXPECT_EQ(status.message(), "create sandbox r2: injected");
}

TEST(StepRunnerTest, TeardownUndoesOnceAndDestructorDoesNotRepeat) {
  int undone = 0;
  {
    StepRunner steps("sandbox r3");
    ASSERT_TRUE(steps
                    .Run(
                        "a", [] { return absl::OkStatus(); }, [&] { ++undone; })
                    .ok());
    ASSERT_TRUE(steps.Run("b", [] { return absl::OkStatus(); }).ok());
    EXPECT_EQ(steps.done(), (std::vector<std::string>{"a", "b"}));
    steps.UndoAll();
    steps.UndoAll();
  }
  EXPECT_EQ(undone, 1);
}

TEST(StepRunnerTest, DestructorUndoesPendingSteps) {
  std::vector<int> order;
  {
    StepRunner steps("sandbox r4");
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(steps
                      .Run(
                          "s", [] { return absl::OkStatus(); }, [&, i] { order.push_back(i); })
                      .ok());
    }
  }
  EXPECT_EQ(order, (std::vector<int>{2, 1, 0}));
}

}  // namespace
}  // namespace clawdie::broker
