#include "services/broker/process_backend.h"

#include <fstream>

#include "services/broker/sandbox_contract_test.h"

namespace clawdie::broker::testing {
namespace {

SandboxOptions StandinOptions(StepHook hook) {
  SandboxOptions options;
  options.agent_command = StandinPath();
  options.step_hook = std::move(hook);
  return options;
}

INSTANTIATE_TEST_SUITE_P(
    Process, SandboxContractTest,
    ::testing::Values(ContractBackend{
        "process",
        [](const std::string&, StepHook hook) -> std::unique_ptr<SandboxBackend> {
          return std::make_unique<ProcessBackend>(StandinOptions(std::move(hook)));
        },
        [](const std::string&) { return std::vector<std::string>{}; }}),
    ContractName);

// A launcher whose fork/exec always fails, as when the process table is full.
class FailingLauncher : public ProcessLauncher {
 public:
  absl::StatusOr<LaunchedProcess> Launch(const LaunchOptions&) override {
    return absl::ResourceExhaustedError("fork: Resource temporarily unavailable");
  }
  void KillGroup(pid_t, int) override {}
};

TEST(ProcessBackendTest, ForkFailureIsReportedAndCleanedUp) {
  TempDir root;
  HostLayout layout = MakeLayout(root.path());
  FailingLauncher launcher;
  ProcessBackend backend(StandinOptions(nullptr), launcher);
  auto sandbox = backend.Start(MakeSpec(layout, "fork-1", "hello"));
  ASSERT_FALSE(sandbox.ok());
  EXPECT_EQ(sandbox.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(sandbox.status().message(),
            "start agent sandbox fork-1: fork: Resource temporarily unavailable");
  EXPECT_TRUE(std::filesystem::is_empty(layout.state_dir));
}

TEST(ProcessBackendTest, MissingAgentProgramFailsToStart) {
  TempDir root;
  HostLayout layout = MakeLayout(root.path());
  SandboxOptions options = StandinOptions(nullptr);
  options.agent_command = root.path() + "/no-such-agent";
  ProcessBackend backend(options);
  auto sandbox = backend.Start(MakeSpec(layout, "exec-1", "hello"));
  ASSERT_FALSE(sandbox.ok());
  EXPECT_EQ(sandbox.status().message(), "start agent sandbox exec-1: exec " + root.path() +
                                            "/no-such-agent: No such file or directory");
}

TEST(ProcessBackendTest, AgentSeesHostPathsAndNoSecrets) {
  TempDir root;
  HostLayout layout = MakeLayout(root.path());
  ::setenv("ANTHROPIC_API_KEY", "sk-test-secret", 1);
  ProcessBackend backend(StandinOptions(nullptr));
  auto outcome = RunToEnd(backend, MakeSpec(layout, "env-1", "standin:env"));
  ::unsetenv("ANTHROPIC_API_KEY");
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_EQ(outcome->Outputs().size(), 1u);
  const std::string env = outcome->Outputs()[0];
  EXPECT_NE(env.find("NANOCLAW_WORKSPACE=" + layout.groups_dir + "/team\n"), std::string::npos);
  EXPECT_NE(env.find("CLAWDIE_MODEL_SOCKET=" + layout.state_dir + "/env-1/sock/model.sock\n"),
            std::string::npos);
  EXPECT_EQ(env.find("sk-test-secret"), std::string::npos);
}

TEST(ProcessBackendTest, GroupFolderSymlinkIsRefused) {
  TempDir root;
  HostLayout layout = MakeLayout(root.path());
  std::filesystem::create_directory_symlink("/etc", layout.groups_dir + "/team");
  ProcessBackend backend(StandinOptions(nullptr));
  auto sandbox = backend.Start(MakeSpec(layout, "link-1", "hello"));
  ASSERT_FALSE(sandbox.ok());
  EXPECT_EQ(std::string(sandbox.status().message()),
            "prepare group folder sandbox link-1: open folder " + layout.groups_dir +
                "/team: not a directory (symlinks are not followed)");
}

}  // namespace
}  // namespace clawdie::broker::testing
