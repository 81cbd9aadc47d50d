// The docker backend with a daemon that cannot reach this host's folders: the
// TLS dockerd on loopback (docker_tls_daemon.h) with the copy of folders
// forced (CLAWDIE_DOCKER_REMOTE=yes). The sandbox contract holds, the group
// folder is copied into the container and the agent's changes come back, and
// links are refused in both directions.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "services/broker/docker_tls_daemon.h"
#include "services/broker/sandbox_contract_test.h"

namespace clawdie::broker::testing {
namespace {

// The suite's daemon, started on first use and stopped after the last test.
class RemoteDaemonEnvironment : public ::testing::Environment {
 public:
  static TlsDaemon& Daemon() {
    if (daemon_ == nullptr) daemon_ = new TlsDaemon();
    return *daemon_;
  }
  void TearDown() override {
    delete daemon_;
    daemon_ = nullptr;
  }

 private:
  static TlsDaemon* daemon_;
};

TlsDaemon* RemoteDaemonEnvironment::daemon_ = nullptr;
::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new RemoteDaemonEnvironment);

std::string RemoteUnavailable() {
  if (std::string reason = DockerUnavailable(); !reason.empty()) return reason;
  return RemoteDaemonEnvironment::Daemon().error();
}

DockerOptions RemoteDocker() {
  TlsDaemon& daemon = RemoteDaemonEnvironment::Daemon();
  DockerOptions docker = StandinDocker();
  docker.endpoint = daemon.Endpoint(daemon.cert_dir());
  docker.copy_workspace = true;
  return docker;
}

// Containers and workspace volumes of `run_id` still on the daemon.
std::vector<std::string> Leftovers(const std::string& run_id) {
  DockerBackend backend(SandboxOptions(), RemoteDocker());
  if (!backend.client().Negotiate().ok()) return {"no daemon"};
  auto ids = backend.ListContainers(run_id);
  if (!ids.ok()) return {std::string(ids.status().message())};
  nlohmann::json filters = {{"label",
                             {std::string(kInstallLabel) + "=" + TestInstallId(),
                              std::string(kRunLabel) + "=" + run_id}}};
  auto volumes = backend.client().Call("GET", "/volumes?filters=" + UrlEncode(filters.dump()), "");
  if (!volumes.ok()) return {std::string(volumes.status().message())};
  nlohmann::json listed = nlohmann::json::parse(volumes->body, nullptr, false);
  std::vector<std::string> left = *ids;
  if (listed.is_object() && listed["Volumes"].is_array()) {
    for (const auto& volume : listed["Volumes"])
      left.push_back("volume " + volume.value("Name", ""));
  }
  return left;
}

INSTANTIATE_TEST_SUITE_P(DockerRemote, SandboxContractTest,
                         ::testing::Values(ContractBackend{
                             "docker_remote",
                             [](const std::string&,
                                StepHook hook) -> std::unique_ptr<SandboxBackend> {
                               SandboxOptions options;
                               options.step_hook = std::move(hook);
                               auto backend =
                                   std::make_unique<DockerBackend>(options, RemoteDocker());
                               backend->client().Negotiate().IgnoreError();
                               return backend;
                             },
                             Leftovers, RemoteUnavailable}),
                         ContractName);

class DockerRemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CLAWDIE_REQUIRE_AVAILABLE(RemoteUnavailable());
    layout_ = MakeLayout(root_.path());
    group_ = layout_.groups_dir + "/team";
    global_ = layout_.groups_dir + "/global";
    std::filesystem::create_directories(group_ + "/notes");
    std::filesystem::create_directories(global_);
    WriteText(group_ + "/CLAUDE.md", "team memory");
    WriteText(group_ + "/notes/a.md", "alpha");
    WriteText(global_ + "/CLAUDE.md", "global memory");
    backend_ = std::make_unique<DockerBackend>(SandboxOptions(), RemoteDocker());
    absl::Status init = backend_->Init();
    ASSERT_TRUE(init.ok()) << init;
  }

  TempDir root_;
  HostLayout layout_;
  std::string group_;
  std::string global_;
  std::unique_ptr<DockerBackend> backend_;
};

TEST_F(DockerRemoteTest, GroupFolderIsCopiedInAndTheAgentsFileComesBack) {
  ASSERT_EQ(::symlink("/etc", (group_ + "/etc-link").c_str()), 0);
  auto outcome = RunToEnd(
      *backend_, MakeSpec(layout_, "remote-1", "standin:list /workspace/group"),
      {"standin:list /workspace/group/notes", "standin:read /workspace/group/notes/a.md",
       "standin:read /workspace/group/etc-link/passwd", "standin:read /workspace/global/CLAUDE.md",
       "standin:write /workspace/global/CLAUDE.md changed",
       "standin:write /workspace/group/out.txt from the agent", "standin:model"});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->Outputs(), (std::vector<std::string>{
                                    "CLAUDE.md file\nnotes dir\n",
                                    "a.md file\n",
                                    "alpha",
                                    "read /workspace/group/etc-link/passwd: No such file or "
                                    "directory",
                                    "global memory",
                                    "write /workspace/global/CLAUDE.md: Permission denied",
                                    "wrote /workspace/group/out.txt",
                                    "model: connect: No such file or directory",
                                }));
  EXPECT_EQ(outcome->exit.reason, ExitReason::kExited);
  EXPECT_EQ(outcome->exit.code, 0);

  EXPECT_EQ(ReadText(group_ + "/out.txt"), "from the agent");
  EXPECT_EQ(ReadText(group_ + "/CLAUDE.md"), "team memory");
  EXPECT_EQ(ReadText(group_ + "/notes/a.md"), "alpha");
  EXPECT_EQ(std::filesystem::read_symlink(group_ + "/etc-link"), "/etc");
  EXPECT_EQ(ReadText(global_ + "/CLAUDE.md"), "global memory");
  struct stat info = {};
  ASSERT_EQ(::stat((group_ + "/out.txt").c_str(), &info), 0);
  if (::geteuid() == 0) {
    EXPECT_EQ(info.st_uid, 65534u);
  }
  EXPECT_TRUE(Leftovers("remote-1").empty());
}

TEST_F(DockerRemoteTest, LinksTheAgentMadeAreRefusedOnTheWayBack) {
  auto outcome = RunToEnd(
      *backend_, MakeSpec(layout_, "remote-2", "standin:write /workspace/group/out.txt kept"),
      {"standin:symlink /etc/passwd /workspace/group/leak",
       "standin:symlink .. /workspace/group/up",
       "standin:hardlink /workspace/group/out.txt /workspace/group/z-link"});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->Outputs(), (std::vector<std::string>{
                                    "wrote /workspace/group/out.txt",
                                    "linked /workspace/group/leak",
                                    "linked /workspace/group/up",
                                    "linked /workspace/group/z-link",
                                }));

  EXPECT_EQ(ReadText(group_ + "/out.txt"), "kept");
  std::error_code error;
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(group_ + "/leak", error)));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(group_ + "/up", error)));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(group_ + "/z-link", error)));
}

TEST_F(DockerRemoteTest, MainWritesTheGlobalFolderBack) {
  auto outcome = RunToEnd(*backend_, MakeSpec(layout_, "remote-3",
                                              "standin:write /workspace/global/CLAUDE.md "
                                              "from main",
                                              TestLimits(), /*is_main=*/true));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->Outputs(), std::vector<std::string>{"wrote /workspace/global/CLAUDE.md"});
  EXPECT_EQ(ReadText(global_ + "/CLAUDE.md"), "from main");
}

TEST_F(DockerRemoteTest, WorkspaceVolumeIsLabelledAndRemovedWithTheContainer) {
  auto sandbox = backend_->Start(MakeSpec(layout_, "remote-5", "standin:silent"));
  ASSERT_TRUE(sandbox.ok()) << sandbox.status();
  std::vector<std::string> live = Leftovers("remote-5");
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[1].rfind("volume ", 0), 0u) << live[1];
  sandbox->reset();
  EXPECT_TRUE(Leftovers("remote-5").empty());
}

TEST_F(DockerRemoteTest, FolderOverTheCopyLimitFailsTheStartAndLeavesNothing) {
  DockerOptions docker = RemoteDocker();
  docker.copy_limit_bytes = 8;
  DockerBackend backend(SandboxOptions(), docker);
  ASSERT_TRUE(backend.Init().ok());
  auto sandbox = backend.Start(MakeSpec(layout_, "remote-4", "hello"));
  EXPECT_EQ(sandbox.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(sandbox.status().message(),
            "copy workspace in sandbox remote-4: copy group/CLAUDE.md: more than 8 bytes to copy");
  EXPECT_TRUE(Leftovers("remote-4").empty());
  EXPECT_TRUE(std::filesystem::is_empty(layout_.state_dir));
}

}  // namespace
}  // namespace clawdie::broker::testing
