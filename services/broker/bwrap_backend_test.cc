#include "services/broker/bwrap_backend.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <fstream>
#include <sstream>

#include "services/broker/sandbox_contract_test.h"

namespace clawdie::broker::testing {
namespace {

namespace fs = std::filesystem;

SandboxOptions StandinOptions(StepHook hook) {
  SandboxOptions options;
  options.agent_command = StandinPath();
  options.step_hook = std::move(hook);
  return options;
}

INSTANTIATE_TEST_SUITE_P(
    Bwrap, SandboxContractTest,
    ::testing::Values(ContractBackend{
        "bwrap",
        [](const std::string&, StepHook hook) -> std::unique_ptr<SandboxBackend> {
          return std::make_unique<BwrapBackend>(StandinOptions(std::move(hook)), BwrapOptions());
        },
        [](const std::string&) { return std::vector<std::string>{}; }}),
    ContractName);

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// A listening Unix socket standing in for broker.sock / store.sock.
class Listener {
 public:
  explicit Listener(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_.get(), 4), 0);
    ::chmod(path.c_str(), 0777);
  }

 private:
  UniqueFd fd_;
};

class BwrapBackendTest : public ::testing::Test {
 protected:
  void SetUp() override { layout_ = MakeLayout(root_.path()); }

  RunOutcome Run(const std::string& run_id, const std::string& prompt, Limits limits = TestLimits(),
                 bool is_main = false) {
    BwrapBackend backend(StandinOptions(nullptr), BwrapOptions());
    auto outcome = RunToEnd(backend, MakeSpec(layout_, run_id, prompt, limits, is_main));
    EXPECT_TRUE(outcome.ok()) << outcome.status();
    return outcome.ok() ? *outcome : RunOutcome();
  }

  std::string SingleOutput(const RunOutcome& outcome) {
    auto outputs = outcome.Outputs();
    EXPECT_EQ(outputs.size(), 1u);
    return outputs.empty() ? "" : outputs[0];
  }

  TempDir root_;
  HostLayout layout_;
};

TEST_F(BwrapBackendTest, ArgumentsMatchTheGoldenFile) {
  fs::create_directories(root_.path() + "/shared/docs");
  auto allowlist = MountAllowlist::Parse(
      R"({"allowedRoots":[{"path":")" + root_.path() + R"(/shared","allowReadWrite":true}]})",
      "test", {});
  ASSERT_TRUE(allowlist.ok());
  RunSpec spec = MakeSpec(layout_, "golden-1", "hi", TestLimits(), /*is_main=*/false,
                          {{root_.path() + "/shared/docs", "docs", false}}, *allowlist);
  SandboxOptions options;
  options.agent_command = "/usr/libexec/clawdie/clawdie-agent";
  options.agent_args = {"--engine", "anthropic"};

  std::string args;
  for (const auto& arg : BuildBwrapArgs(spec, options, BwrapOptions())) args += arg + "\n";
  EXPECT_EQ(Replace(args, root_.path(), "@ROOT@"),
            ReadFile(std::string(CLAWDIE_TEST_FIXTURES) + "/broker/bwrap_args.golden"));
}

TEST_F(BwrapBackendTest, StagingRewritesEveryBindSourceButTheSystemDirectories) {
  RunSpec spec = MakeSpec(layout_, "stage-1", "hi");
  SandboxOptions options;
  options.agent_command = StandinPath();
  std::vector<std::string> args = BuildBwrapArgs(spec, options, BwrapOptions());
  const std::vector<std::string> original = args;
  LaunchOptions launch;
  StageBwrapSources(args, launch);

  EXPECT_EQ(launch.stage_root, "/tmp");
  std::vector<std::string> sources;
  for (const auto& staged : launch.staged_mounts) sources.push_back(staged.source);
  EXPECT_EQ(sources, (std::vector<std::string>{spec.group_dir(), spec.global_dir(),
                                               spec.run_state_dir() + "/ipc",
                                               spec.run_state_dir() + "/sock", StandinPath()}));
  ASSERT_EQ(launch.staged_mounts.size(), 5u);
  EXPECT_TRUE(launch.staged_mounts[0].directory);
  EXPECT_FALSE(launch.staged_mounts[4].directory);  // the agent program is a file
  ASSERT_EQ(args.size(), original.size());
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (original[i] == "--ro-bind-try") {
      EXPECT_EQ(args[i + 1], original[i + 1]);
    }
    if (original[i] == "--bind" || original[i] == "--ro-bind") {
      EXPECT_EQ(args[i + 1].rfind("/tmp/", 0), 0u) << original[i + 1] << " was not staged";
      EXPECT_EQ(args[i + 2], original[i + 2]);
    }
  }
}

// As root the broker runs bwrap as the sandbox user; the group folder lives below directories
// only root may enter, as it does in a 0700 home or the 0750 run directory.
TEST_F(BwrapBackendTest, FoldersBelowRootOnlyDirectoriesAreReachableWhenRoot) {
  ASSERT_EQ(::geteuid(), 0u) << "this test checks the root broker's staging; run it as root";
  ASSERT_EQ(::chmod(root_.path().c_str(), 0700), 0);
  ASSERT_EQ(::chmod(layout_.groups_dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(layout_.state_dir.c_str(), 0700), 0);
  std::string text = SingleOutput(Run("stage-2", "standin:write /workspace/group/note.txt kept"));
  EXPECT_EQ(ReadFile(layout_.groups_dir + "/team/note.txt"), "kept") << text;
}

TEST_F(BwrapBackendTest, BrokerStoreAndDockerSocketsAreUnreachable) {
  Listener broker(root_.path() + "/broker.sock");
  Listener store(layout_.state_dir + "/store.sock");
  std::string paths = root_.path() + "/broker.sock " + layout_.state_dir + "/store.sock " +
                      "/var/run/docker.sock /run/clawdie/model.sock";
  std::string text = SingleOutput(Run("sock-1", "standin:connect " + paths));
  EXPECT_EQ(text, root_.path() + "/broker.sock: No such file or directory\n" + layout_.state_dir +
                      "/store.sock: No such file or directory\n" +
                      "/var/run/docker.sock: No such file or directory\n" +
                      "/run/clawdie/model.sock: No such file or directory\n");
}

TEST_F(BwrapBackendTest, NoSecretInEnvironmentOrProcessList) {
  ::setenv("ANTHROPIC_API_KEY", "sk-ant-bwrap-secret", 1);
  std::string env = SingleOutput(Run("env-1", "standin:env"));
  std::string ps = SingleOutput(Run("ps-1", "standin:ps"));
  ::unsetenv("ANTHROPIC_API_KEY");

  EXPECT_EQ(env.find("sk-ant-bwrap-secret"), std::string::npos);
  EXPECT_NE(env.find("NANOCLAW_WORKSPACE=/workspace/group\n"), std::string::npos);
  EXPECT_NE(env.find("CLAWDIE_MODEL_SOCKET=/run/clawdie/model.sock\n"), std::string::npos);
  EXPECT_EQ(ps.find("sk-ant-bwrap-secret"), std::string::npos);
  // A new pid namespace: the sandbox sees only bwrap's init and the agent.
  EXPECT_EQ(ps.find("broker_bwrap_backend_test"), std::string::npos);
  EXPECT_EQ(ps.substr(0, 2), "1 ");
}

TEST_F(BwrapBackendTest, ForkBombIsStoppedByThePidsLimit) {
  Limits limits = TestLimits();
  limits.pids = 24;
  std::string text = SingleOutput(Run("bomb-1", "standin:forkbomb", limits));
  ASSERT_EQ(text.rfind("forkbomb: ", 0), 0u) << text;
  int forks = std::stoi(text.substr(10));
  EXPECT_LT(forks, 24);
  EXPECT_NE(text.find(" forks, then Resource temporarily unavailable"), std::string::npos);
}

TEST_F(BwrapBackendTest, GlobalFolderIsReadOnlyExceptForMain) {
  std::string denied = SingleOutput(Run("ro-1", "standin:write /workspace/global/note x"));
  EXPECT_EQ(denied, "write /workspace/global/note: Read-only file system");
  std::string wrote = SingleOutput(
      Run("rw-1", "standin:write /workspace/global/note x", TestLimits(), /*is_main=*/true));
  EXPECT_EQ(wrote, "wrote /workspace/global/note");
  EXPECT_EQ(ReadFile(layout_.groups_dir + "/global/note"), "x");
}

TEST_F(BwrapBackendTest, GroupFolderIsWritableAndSymlinksInItAreNotFollowedByTheHost) {
  fs::create_directories(layout_.groups_dir + "/team");
  fs::create_directory_symlink("/etc", layout_.groups_dir + "/team/conversations");
  struct stat before = {};
  ASSERT_EQ(::lstat("/etc", &before), 0);

  std::string wrote = SingleOutput(Run("grp-1", "standin:write /workspace/group/out.txt done"));
  EXPECT_EQ(wrote, "wrote /workspace/group/out.txt");
  EXPECT_EQ(ReadFile(layout_.groups_dir + "/team/out.txt"), "done");
  struct stat after = {};
  ASSERT_EQ(::lstat("/etc", &after), 0);
  EXPECT_EQ(after.st_uid, before.st_uid);
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_TRUE(fs::is_symlink(layout_.groups_dir + "/team/conversations"));
}

TEST_F(BwrapBackendTest, ReportsTheBwrapVersion) {
  BwrapBackend backend(StandinOptions(nullptr), BwrapOptions());
  auto version = backend.Version();
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(version->rfind("bubblewrap ", 0), 0u);
}

}  // namespace
}  // namespace clawdie::broker::testing
