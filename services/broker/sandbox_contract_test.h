// The sandbox contract every backend must keep (DESIGN.md §6, issue #3): the
// stand-in agent echoes to completion, follow-ups and close reach it, and a
// hard timeout, an idle timeout, an output flood, a kill and a failed creation
// step each end the run the right way. Each backend's test file instantiates
// this suite with a factory for its backend.
//
// Thread-safety: test-only.
#ifndef CLAWDIE_SERVICES_BROKER_SANDBOX_CONTRACT_TEST_H_
#define CLAWDIE_SERVICES_BROKER_SANDBOX_CONTRACT_TEST_H_

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "services/broker/broker_test_util.h"

namespace clawdie::broker::testing {

struct ContractBackend {
  std::string name;
  // Builds the backend for a test whose scratch folder is `root`.
  std::function<std::unique_ptr<SandboxBackend>(const std::string& root, StepHook hook)> make;
  // Describes anything of the backend's (containers, jails) still present for `run_id`.
  std::function<std::vector<std::string>(const std::string& run_id)> leftovers;
  // Why the backend cannot run here (empty when it can). Under CI the suite
  // fails with the reason; elsewhere it is skipped.
  std::function<std::string()> unavailable = [] { return std::string(); };
};

inline std::string ContractName(const ::testing::TestParamInfo<ContractBackend>& info) {
  return info.param.name;
}

class SandboxContractTest : public ::testing::TestWithParam<ContractBackend> {
 protected:
  void SetUp() override {
    CLAWDIE_REQUIRE_AVAILABLE(GetParam().unavailable());
    layout_ = MakeLayout(root_.path());
    backend_ = GetParam().make(root_.path(), nullptr);
    ASSERT_NE(backend_, nullptr);
    absl::Status init = backend_->Init();
    ASSERT_TRUE(init.ok()) << init;
  }

  std::vector<std::string> StateEntries() const {
    std::vector<std::string> entries;
    for (const auto& entry : std::filesystem::directory_iterator(layout_.state_dir)) {
      entries.push_back(entry.path().filename());
    }
    return entries;
  }

  TempDir root_;
  HostLayout layout_;
  std::unique_ptr<SandboxBackend> backend_;
};

TEST_P(SandboxContractTest, EchoRunsToCompletion) {
  auto outcome = RunToEnd(*backend_, MakeSpec(layout_, "echo-1", "hello"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();

  ASSERT_EQ(outcome->events.size(), 3u);
  EXPECT_EQ(outcome->events[0].kind, AgentEvent::Kind::kSession);
  EXPECT_EQ(outcome->events[0].session_id, "standin-session");
  EXPECT_EQ(outcome->Outputs(), std::vector<std::string>{"echo: hello"});
  EXPECT_TRUE(outcome->HasDone("success"));
  EXPECT_EQ(outcome->exit.reason, ExitReason::kExited);
  EXPECT_EQ(outcome->exit.code, 0);
  EXPECT_FALSE(outcome->sandbox_id.empty());
  EXPECT_TRUE(StateEntries().empty());
  EXPECT_TRUE(GetParam().leftovers("echo-1").empty());
}

TEST_P(SandboxContractTest, FollowUpsToolResultsAndCloseReachTheAgent) {
  AgentRun run(MakeSpec(layout_, "follow-1", "first"), *backend_);
  ASSERT_TRUE(run.Start().ok());
  ASSERT_TRUE(run.SendFollowUp("second").ok());
  ASSERT_TRUE(run.SendToolResult("t7", true, "sent").ok());
  ASSERT_TRUE(run.SendClose().ok());

  std::vector<AgentEvent> events;
  RunExit exit = run.Supervise([&](const AgentEvent& event) { events.push_back(event); });
  std::vector<std::string> outputs;
  for (const auto& event : events) {
    if (event.kind == AgentEvent::Kind::kOutput) outputs.push_back(event.text);
  }
  EXPECT_EQ(outputs, (std::vector<std::string>{"echo: first", "echo: second",
                                               "tool_result t7 ok=true sent"}));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, AgentEvent::Kind::kDone);
  EXPECT_EQ(exit.reason, ExitReason::kExited);
  EXPECT_EQ(exit.code, 0);
}

TEST_P(SandboxContractTest, ToolCallArrivesAsEvent) {
  auto outcome = RunToEnd(*backend_, MakeSpec(layout_, "tool-1", "standin:tool"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_GE(outcome->events.size(), 2u);
  const AgentEvent& call = outcome->events[1];
  EXPECT_EQ(call.kind, AgentEvent::Kind::kToolCall);
  EXPECT_EQ(call.tool_id, "t1");
  EXPECT_EQ(call.tool_name, "send_message");
  EXPECT_EQ(call.tool_input_json, R"({"text":"hi"})");
}

TEST_P(SandboxContractTest, HardTimeoutEndsTheRun) {
  Limits limits = TestLimits();
  limits.timeout = absl::Seconds(1);
  absl::Time start = absl::Now();
  auto outcome = RunToEnd(*backend_, MakeSpec(layout_, "hard-1", "standin:tick 50", limits));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->exit.reason, ExitReason::kTimedOut);
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
  EXPECT_GE(outcome->Outputs().size(), 5u);
  EXPECT_TRUE(StateEntries().empty());
}

TEST_P(SandboxContractTest, IdleTimeoutEndsTheRun) {
  Limits limits = TestLimits();
  limits.idle_timeout = absl::Milliseconds(700);
  absl::Time start = absl::Now();
  auto outcome = RunToEnd(*backend_, MakeSpec(layout_, "idle-1", "standin:silent", limits), {},
                          /*close_input=*/false);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->exit.reason, ExitReason::kIdle);
  EXPECT_EQ(outcome->exit.detail, "no agent event for 700ms");
  EXPECT_TRUE(outcome->events.empty());
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
}

TEST_P(SandboxContractTest, StdoutFloodEndsWithOutputLimit) {
  Limits limits = TestLimits();
  limits.stdout_bytes = 1 << 20;
  auto outcome = RunToEnd(*backend_, MakeSpec(layout_, "flood-1", "standin:flood", limits));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->exit.reason, ExitReason::kOutputLimit);
  size_t delivered = 0;
  for (const auto& text : outcome->Outputs()) delivered += text.size();
  EXPECT_LE(delivered, size_t{1} << 20);
  EXPECT_TRUE(StateEntries().empty());
}

TEST_P(SandboxContractTest, StderrFloodEndsWithOutputLimit) {
  Limits limits = TestLimits();
  limits.stderr_bytes = 1 << 20;
  auto outcome = RunToEnd(*backend_, MakeSpec(layout_, "flood-2", "standin:flood-stderr", limits));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->exit.reason, ExitReason::kOutputLimit);
  EXPECT_LE(outcome->exit.stderr_tail.size(), AgentRun::kStderrTailBytes);
  EXPECT_EQ(outcome->exit.stderr_tail.substr(0, 16), std::string(16, 'e'));
}

TEST_P(SandboxContractTest, StderrTailHoldsTheLastLines) {
  auto outcome = RunToEnd(*backend_, MakeSpec(layout_, "stderr-1", "standin:stderr 1000"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  const std::string& tail = outcome->exit.stderr_tail;
  EXPECT_LE(tail.size(), AgentRun::kStderrTailBytes);
  EXPECT_EQ(tail.substr(0, 12), "stderr line ");
  EXPECT_EQ(tail.substr(tail.size() - 16), "stderr line 999\n");
}

TEST_P(SandboxContractTest, ExitCodeIsReported) {
  auto outcome = RunToEnd(*backend_, MakeSpec(layout_, "exit-1", "standin:exit 3"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->exit.reason, ExitReason::kExited);
  EXPECT_EQ(outcome->exit.code, 3);
  EXPECT_FALSE(outcome->HasDone("success"));
}

TEST_P(SandboxContractTest, KillEndsTheRunAsKilled) {
  AgentRun run(MakeSpec(layout_, "kill-1", "standin:sleep 60"), *backend_);
  ASSERT_TRUE(run.Start().ok());
  absl::Time start = absl::Now();
  RunExit exit = run.Supervise([&](const AgentEvent& event) {
    if (event.kind == AgentEvent::Kind::kOutput) run.Kill();
  });
  EXPECT_EQ(exit.reason, ExitReason::kKilled);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_TRUE(StateEntries().empty());
  EXPECT_TRUE(GetParam().leftovers("kill-1").empty());
}

TEST_P(SandboxContractTest, ChildLeftBehindDoesNotKeepTheRunAlive) {
  absl::Time start = absl::Now();
  auto outcome = RunToEnd(*backend_, MakeSpec(layout_, "orphan-1", "standin:spawn-and-exit"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->exit.reason, ExitReason::kExited);
  EXPECT_EQ(outcome->exit.code, 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));
}

TEST_P(SandboxContractTest, FailingEachCreationStepLeavesNothingBehind) {
  std::vector<std::string> failed_steps;
  for (int fail_at = 0;; ++fail_at) {
    int calls = 0;
    std::string failed;
    StepHook hook = [&](std::string_view step) -> absl::Status {
      if (calls++ != fail_at) return absl::OkStatus();
      failed = std::string(step);
      return absl::InternalError("injected");
    };
    auto backend = GetParam().make(root_.path(), hook);
    std::string run_id = "steps-" + std::to_string(fail_at);
    auto sandbox = backend->Start(MakeSpec(layout_, run_id, "hello"));
    if (sandbox.ok()) break;
    failed_steps.push_back(failed);
    EXPECT_EQ(sandbox.status().message(), failed + " sandbox " + run_id + ": injected");
    EXPECT_TRUE(StateEntries().empty()) << "after failing " << failed;
    EXPECT_TRUE(GetParam().leftovers(run_id).empty()) << "after failing " << failed;
    ASSERT_LT(fail_at, 20);
  }
  EXPECT_GE(failed_steps.size(), 3u);
}

}  // namespace clawdie::broker::testing

#endif  // CLAWDIE_SERVICES_BROKER_SANDBOX_CONTRACT_TEST_H_
