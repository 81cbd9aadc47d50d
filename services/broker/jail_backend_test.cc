#include "services/broker/jail_backend.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "services/broker/sandbox_contract_test.h"

namespace clawdie::broker::testing {
namespace {

std::string HarnessDir() { return std::string(CLAWDIE_TEST_FIXTURES) + "/broker/jail-harness"; }

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

JailOptions HarnessJail(const std::string& root) {
  JailOptions jail;
  jail.base_path = "/";
  jail.agent_path_inside = StandinPath();
  jail.command_path = HarnessDir() + ":/usr/bin:/bin";
  jail.command_env = {"CLAWDIE_JAIL_HARNESS_DIR=" + root};
  return jail;
}

// The scratch folder of the contract test being run, for Leftovers.
std::string& CurrentRoot() {
  static std::string root;
  return root;
}

// What the recorded commands created for `run_id` and did not remove again:
// mounts without umount, jails without `jail -r`, rctl rules without `rctl -r`.
std::vector<std::string> Leftovers(const std::string& run_id) {
  std::string name = JailName(run_id);
  std::multiset<std::string> live;
  std::istringstream log(ReadFile(CurrentRoot() + "/commands.log"));
  for (std::string line; std::getline(log, line);) {
    std::string last = line.substr(line.rfind(' ') + 1);
    bool ours = line.find("/" + run_id + "/root") != std::string::npos ||
                line.find(name) != std::string::npos;
    if (!ours) continue;
    if (line.rfind("mount", 0) == 0) live.insert("mount " + last);
    if (line.rfind("umount -f ", 0) == 0) live.erase(live.find("mount " + last));
    if (line.rfind("jail -c", 0) == 0) live.insert("jail " + name);
    if (line.rfind("jail -r ", 0) == 0 && live.count("jail " + name)) {
      live.erase(live.find("jail " + name));
    }
    if (line.rfind("rctl -a", 0) == 0) live.insert("rctl " + name);
    if (line.rfind("rctl -r ", 0) == 0) live.erase("rctl " + name);
  }
  return std::vector<std::string>(live.begin(), live.end());
}

INSTANTIATE_TEST_SUITE_P(JailHarness, SandboxContractTest,
                         ::testing::Values(ContractBackend{
                             "jail_harness",
                             [](const std::string& root,
                                StepHook hook) -> std::unique_ptr<SandboxBackend> {
                               CurrentRoot() = root;
                               SandboxOptions options;
                               options.step_hook = std::move(hook);
                               return std::make_unique<JailBackend>(options, HarnessJail(root));
                             },
                             Leftovers}),
                         ContractName);

constexpr char kBastilleJail[] = "clawdie-agents";

// A running persistent jail for the harness: jls answers with its root.
std::string MakeBastilleRoot(const std::string& root) {
  std::string jail_root = root + "/jails/" + kBastilleJail + "/root";
  std::filesystem::create_directories(jail_root + "/var");
  ::chmod((root + "/jails").c_str(), 0755);
  return jail_root;
}

JailOptions HarnessBastille(const std::string& root) {
  JailOptions jail = HarnessJail(root);
  jail.base_path = "/nonexistent/unused-in-bastille-mode";
  jail.persistent_jail = kBastilleJail;
  return jail;
}

// What the recorded commands mounted for `run_id` in the persistent jail and
// did not unmount again, and its run folder if it is still there.
std::vector<std::string> BastilleLeftovers(const std::string& run_id) {
  std::multiset<std::string> live;
  std::string run_root = CurrentRoot() + "/jails/" + kBastilleJail + "/root/var/clawdie/" + run_id;
  std::istringstream log(ReadFile(CurrentRoot() + "/commands.log"));
  for (std::string line; std::getline(log, line);) {
    std::string last = line.substr(line.rfind(' ') + 1);
    if (last.rfind(run_root + "/", 0) != 0) continue;
    if (line.rfind("mount", 0) == 0) live.insert("mount " + last);
    if (line.rfind("umount -f ", 0) == 0) live.erase(live.find("mount " + last));
  }
  std::vector<std::string> left(live.begin(), live.end());
  if (std::filesystem::exists(run_root)) left.push_back("folder " + run_root);
  return left;
}

INSTANTIATE_TEST_SUITE_P(BastilleHarness, SandboxContractTest,
                         ::testing::Values(ContractBackend{
                             "bastille_harness",
                             [](const std::string& root,
                                StepHook hook) -> std::unique_ptr<SandboxBackend> {
                               CurrentRoot() = root;
                               MakeBastilleRoot(root);
                               SandboxOptions options;
                               options.step_hook = std::move(hook);
                               return std::make_unique<JailBackend>(options, HarnessBastille(root));
                             },
                             BastilleLeftovers}),
                         ContractName);

HostLayout FixedLayout() { return HostLayout{"/var/db/clawdie/groups", "/var/run/clawdie/sb"}; }

RunSpec FixedSpec(bool network) {
  RunRequest request;
  request.run_id = "run-7.a";
  request.group_folder = "family";
  request.start_json = R"({"prompt":"hi"})";
  request.limits.memory_bytes = 512 << 20;
  request.limits.pids = 64;
  request.limits.cpu_millis = 1500;
  request.network = network ? NetworkPolicy::kFull : NetworkPolicy::kNone;
  return *ValidateRunSpec(request, FixedLayout(), MountAllowlist(), DefaultLimits(), "m");
}

TEST(JailBackendTest, ParametersAndRulesMatchTheGoldenFile) {
  RunSpec spec = FixedSpec(false);
  std::string text;
  for (const auto& arg :
       BuildJailParameters(spec, "/var/run/clawdie/sb/run-7.a/root", JailOptions())) {
    text += arg + "\n";
  }
  for (const auto& rule : BuildRctlRules(spec)) text += "rctl " + rule + "\n";
  SandboxOptions options;
  for (const auto& arg : BuildJexecCommand(spec, options, JailOptions())) text += arg + "\n";
  EXPECT_EQ(text, ReadFile(std::string(CLAWDIE_TEST_FIXTURES) + "/broker/jail_params.golden"));
}

TEST(JailBackendTest, NetworkPolicyInheritsTheHostAddresses) {
  auto params = BuildJailParameters(FixedSpec(true), "/r", JailOptions());
  EXPECT_EQ(params[params.size() - 2], "ip4=inherit");
  EXPECT_EQ(params.back(), "ip6=inherit");
}

TEST(JailBackendTest, NamesAreValidJailNamesAndDistinct) {
  EXPECT_EQ(JailName("run-7.a").rfind("clawdie_run_7_a_", 0), 0u);
  EXPECT_NE(JailName("a-b"), JailName("a_b"));
  EXPECT_EQ(JailName("a-b").find_first_not_of(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"),
            std::string::npos);
}

TEST(JailBackendTest, WholeLifecycleRunsTheGoldenCommands) {
  TempDir root;
  HostLayout layout = MakeLayout(root.path());
  std::filesystem::create_directories(root.path() + "/shared/notes");
  auto allowlist = MountAllowlist::Parse(
      R"({"allowedRoots":[{"path":")" + root.path() + R"(/shared"}]})", "test", {});
  ASSERT_TRUE(allowlist.ok());
  RunSpec spec = MakeSpec(layout, "life-1", "hello", TestLimits(), /*is_main=*/false,
                          {{root.path() + "/shared/notes", "notes", false}}, *allowlist);
  JailBackend backend(SandboxOptions(), HarnessJail(root.path()));
  auto outcome = RunToEnd(backend, spec);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->Outputs(), std::vector<std::string>{"echo: hello"});
  EXPECT_EQ(outcome->exit.reason, ExitReason::kExited);
  EXPECT_EQ(outcome->sandbox_id, JailName("life-1"));

  std::string log = ReadFile(root.path() + "/commands.log");
  log = Replace(Replace(log, root.path(), "@ROOT@"), StandinPath(), "@STANDIN@");
  log = Replace(log, JailName("life-1"), "@JAIL@");
  EXPECT_EQ(log, ReadFile(std::string(CLAWDIE_TEST_FIXTURES) + "/broker/jail_lifecycle.golden"));
}

TEST(JailBackendTest, BastilleRunUsesTheGoldenCommandsAndItsOwnFolders) {
  TempDir root;
  CurrentRoot() = root.path();
  HostLayout layout = MakeLayout(root.path());
  std::string jail_root = MakeBastilleRoot(root.path());
  std::filesystem::create_directories(root.path() + "/shared/notes");
  auto allowlist = MountAllowlist::Parse(
      R"({"allowedRoots":[{"path":")" + root.path() + R"(/shared"}]})", "test", {});
  ASSERT_TRUE(allowlist.ok());
  RunSpec spec = MakeSpec(layout, "life-2", "standin:env", TestLimits(), /*is_main=*/false,
                          {{root.path() + "/shared/notes", "notes", false}}, *allowlist);
  JailBackend backend(SandboxOptions(), HarnessBastille(root.path()));
  ASSERT_TRUE(backend.Init().ok());
  auto outcome = RunToEnd(backend, spec);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->exit.reason, ExitReason::kExited);
  EXPECT_EQ(outcome->sandbox_id.rfind(std::string(kBastilleJail) + ":", 0), 0u);
  ASSERT_EQ(outcome->Outputs().size(), 1u);
  EXPECT_NE(outcome->Outputs()[0].find("NANOCLAW_WORKSPACE=/var/clawdie/life-2/group\n"),
            std::string::npos);

  std::string log = ReadFile(root.path() + "/commands.log");
  log = Replace(Replace(log, root.path(), "@ROOT@"), StandinPath(), "@STANDIN@");
  EXPECT_EQ(
      log, ReadFile(std::string(CLAWDIE_TEST_FIXTURES) + "/broker/jail_bastille_lifecycle.golden"));
  // The run folder is gone; the folder holding run folders stays for the next run.
  EXPECT_TRUE(std::filesystem::is_empty(jail_root + "/var/clawdie"));
  EXPECT_TRUE(BastilleLeftovers("life-2").empty());
}

TEST(JailBackendTest, BastilleJailThatIsNotRunningFailsInit) {
  TempDir root;
  JailBackend backend(SandboxOptions(), HarnessBastille(root.path()));
  absl::Status status = backend.Init();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "find jail clawdie-agents: jls -j clawdie-agents path: exit code 1: jls: jail "
            "\"clawdie-agents\" not found");
}

TEST(JailBackendTest, BastilleRunFoldersMustBeRootsAlone) {
  TempDir root;
  CurrentRoot() = root.path();
  HostLayout layout = MakeLayout(root.path());
  std::string jail_root = MakeBastilleRoot(root.path());
  JailBackend backend(SandboxOptions(), HarnessBastille(root.path()));

  // A folder a process in the jail could replace by a link is refused...
  std::filesystem::create_directories(jail_root + "/var/clawdie");
  ::chmod((jail_root + "/var/clawdie").c_str(), 0777);
  auto sandbox = backend.Start(MakeSpec(layout, "open-1", "hello"));
  EXPECT_EQ(sandbox.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sandbox.status().message(), "create run folders sandbox open-1: check folder " +
                                            jail_root +
                                            "/var/clawdie: writable by group or others");

  // ...and so is a link where the folder should be, never followed.
  std::filesystem::remove(jail_root + "/var/clawdie");
  std::filesystem::create_directories(root.path() + "/elsewhere");
  ::symlink((root.path() + "/elsewhere").c_str(), (jail_root + "/var/clawdie").c_str());
  sandbox = backend.Start(MakeSpec(layout, "link-1", "hello"));
  EXPECT_EQ(sandbox.status().message(), "create run folders sandbox link-1: open folder " +
                                            jail_root +
                                            "/var/clawdie: not a directory (symlinks are not "
                                            "followed)");
  EXPECT_TRUE(std::filesystem::is_empty(root.path() + "/elsewhere"));
  EXPECT_TRUE(std::filesystem::is_empty(layout.state_dir));
}

TEST(JailBackendTest, MissingBaseFailsInit) {
  JailOptions jail;
  jail.base_path = "/nonexistent/clawdie-base";
  JailBackend backend(SandboxOptions(), jail);
  absl::Status status = backend.Init();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "open jail base /nonexistent/clawdie-base: No such file or directory");
}

}  // namespace
}  // namespace clawdie::broker::testing
