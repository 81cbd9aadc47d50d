#include "services/broker/docker_backend.h"

#include <fstream>
#include <sstream>

#include "httplib.h"
#include "services/broker/docker_test_util.h"
#include "services/broker/sandbox_contract_test.h"

namespace clawdie::broker::testing {
namespace {

SandboxOptions ImageOptions(StepHook hook) {
  SandboxOptions options;
  options.agent_command = "/usr/local/bin/clawdie-agent";
  options.step_hook = std::move(hook);
  return options;
}

std::vector<std::string> Leftovers(const std::string& run_id) {
  DockerBackend backend(ImageOptions(nullptr), StandinDocker());
  if (!backend.client().Negotiate().ok()) return {"no daemon"};
  auto ids = backend.ListContainers(run_id);
  return ids.ok() ? *ids : std::vector<std::string>{std::string(ids.status().message())};
}

INSTANTIATE_TEST_SUITE_P(Docker, SandboxContractTest,
                         ::testing::Values(ContractBackend{
                             "docker",
                             [](const std::string&,
                                StepHook hook) -> std::unique_ptr<SandboxBackend> {
                               auto backend = std::make_unique<DockerBackend>(
                                   ImageOptions(std::move(hook)), StandinDocker());
                               backend->client().Negotiate().IgnoreError();
                               return backend;
                             },
                             Leftovers, DockerUnavailable}),
                         ContractName);

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The container-create body for the run the golden files were made from.
std::string GoldenCreateBody(const TempDir& root, bool copy_workspace) {
  Limits limits = TestLimits();
  limits.cpu_millis = 500;
  RunSpec spec = MakeSpec(MakeLayout(root.path()), "golden-1", "hi", limits);
  DockerOptions docker;
  docker.image = "clawdie-agent:1.0";
  docker.install_id = "home";
  docker.copy_workspace = copy_workspace;
  return BuildContainerConfig(spec, SandboxOptions(), docker).dump(2) + "\n";
}

TEST(DockerConfigTest, CreateBodyMatchesTheGoldenFile) {
  TempDir root;
  std::string body = GoldenCreateBody(root, /*copy_workspace=*/false);
  EXPECT_EQ(Replace(body, root.path(), "@ROOT@"),
            ReadText(std::string(CLAWDIE_TEST_FIXTURES) + "/broker/docker_create.golden.json"));
}

TEST(DockerConfigTest, RemoteCreateBodyHasOnlyTheWorkspaceVolume) {
  TempDir root;
  std::string body = GoldenCreateBody(root, /*copy_workspace=*/true);
  EXPECT_EQ(body.find(root.path()), std::string::npos) << body;
  EXPECT_EQ(body, ReadText(std::string(CLAWDIE_TEST_FIXTURES) +
                           "/broker/docker_create_remote.golden.json"));
}

TEST(DockerConfigTest, RemoteModeComesFromTheKeyOrTheAddress) {
  DockerEndpoint local = *MakeDockerEndpoint("unix:///var/run/docker.sock", false, "");
  DockerEndpoint loopback = *MakeDockerEndpoint("tcp://127.0.0.1:2376", true, "/certs");
  DockerEndpoint remote = *MakeDockerEndpoint("tcp://10.0.0.5:2376", true, "/certs");
  EXPECT_FALSE(*ParseDockerRemote("auto", local));
  EXPECT_FALSE(*ParseDockerRemote("", loopback));
  EXPECT_TRUE(*ParseDockerRemote("auto", remote));
  EXPECT_TRUE(*ParseDockerRemote("yes", loopback));
  EXPECT_FALSE(*ParseDockerRemote("no", remote));
  EXPECT_EQ(ParseDockerRemote("sometimes", remote).status().message(),
            "config CLAWDIE_DOCKER_REMOTE: expected auto, yes or no, got sometimes");
}

// A fake daemon answering /version, for version negotiation.
class FakeDaemon {
 public:
  explicit FakeDaemon(const std::string& version_json) {
    server_.Get("/version", [version_json](const httplib::Request&, httplib::Response& res) {
      res.set_content(version_json, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeDaemon() {
    server_.stop();
    thread_.join();
  }
  std::string host() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

absl::Status NegotiateWith(const std::string& version_json, std::string* picked = nullptr) {
  FakeDaemon daemon(version_json);
  DockerClient client(*MakeDockerEndpoint(daemon.host(), false, ""));
  absl::Status status = client.Negotiate();
  if (picked != nullptr) *picked = client.api_version();
  return status;
}

TEST(DockerNegotiationTest, PicksTheLowerOfBothVersions) {
  std::string picked;
  ASSERT_TRUE(
      NegotiateWith(R"({"Version":"20.10","ApiVersion":"1.41","MinAPIVersion":"1.12"})", &picked)
          .ok());
  EXPECT_EQ(picked, "1.41");
  ASSERT_TRUE(
      NegotiateWith(R"({"Version":"27.0","ApiVersion":"1.46","MinAPIVersion":"1.24"})", &picked)
          .ok());
  EXPECT_EQ(picked, "1.43");
}

TEST(DockerNegotiationTest, RefusesWithBothVersionsInTheMessage) {
  absl::Status too_new =
      NegotiateWith(R"({"Version":"99.0","ApiVersion":"1.60","MinAPIVersion":"1.50"})");
  EXPECT_EQ(too_new.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(too_new.message(),
            "negotiate docker API version: daemon requires at least 1.50, broker supports at "
            "most 1.43");
  absl::Status too_old =
      NegotiateWith(R"({"Version":"18.09","ApiVersion":"1.39","MinAPIVersion":"1.12"})");
  EXPECT_EQ(too_old.message(),
            "negotiate docker API version: daemon supports at most 1.39, broker needs at least "
            "1.40");
}

TEST(DockerEndpointTest, ParsesDockerHostValues) {
  EXPECT_FALSE(MakeDockerEndpoint("unix:///var/run/docker.sock", false, "")->IsRemote());
  EXPECT_FALSE(MakeDockerEndpoint("tcp://127.0.0.1:2376", false, "")->IsRemote());
  EXPECT_TRUE(MakeDockerEndpoint("tcp://10.0.0.5:2376", true, "/certs")->IsRemote());
  EXPECT_EQ(MakeDockerEndpoint("tcp://10.0.0.5:2375", false, "").status().message(),
            "parse DOCKER_HOST tcp://10.0.0.5:2375: a remote daemon needs DOCKER_TLS_VERIFY=1");
  EXPECT_EQ(MakeDockerEndpoint("ssh://host", false, "").status().message(),
            "parse DOCKER_HOST ssh://host: expected unix:// or tcp://");
}

class DockerBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CLAWDIE_REQUIRE_AVAILABLE(DockerUnavailable());
    layout_ = MakeLayout(root_.path());
    backend_ = std::make_unique<DockerBackend>(ImageOptions(nullptr), StandinDocker());
    absl::Status init = backend_->Init();
    ASSERT_TRUE(init.ok()) << init;
  }

  std::string SingleOutput(const std::string& run_id, const std::string& prompt,
                           Limits limits = TestLimits()) {
    auto outcome = RunToEnd(*backend_, MakeSpec(layout_, run_id, prompt, limits));
    EXPECT_TRUE(outcome.ok()) << outcome.status();
    if (!outcome.ok()) return "";
    auto outputs = outcome->Outputs();
    EXPECT_EQ(outputs.size(), 1u);
    return outputs.empty() ? "" : outputs[0];
  }

  TempDir root_;
  HostLayout layout_;
  std::unique_ptr<DockerBackend> backend_;
};

TEST_F(DockerBackendTest, ForkBombIsStoppedByThePidsLimit) {
  Limits limits = TestLimits();
  limits.pids = 24;
  std::string text = SingleOutput("bomb-1", "standin:forkbomb", limits);
  ASSERT_EQ(text.rfind("forkbomb: ", 0), 0u) << text;
  EXPECT_LT(std::stoi(text.substr(10)), 24);
  EXPECT_NE(text.find(" forks, then Resource temporarily unavailable"), std::string::npos);
}

TEST_F(DockerBackendTest, MemoryExhaustionEndsAsOutOfMemory) {
  Limits limits = TestLimits();
  limits.memory_bytes = 64 << 20;
  auto outcome = RunToEnd(*backend_, MakeSpec(layout_, "oom-1", "standin:alloc 1024", limits));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->exit.reason, ExitReason::kOutOfMemory);
  EXPECT_EQ(outcome->exit.code, 137);
  EXPECT_EQ(outcome->exit.detail, "memory limit of 67108864 bytes reached");
}

TEST_F(DockerBackendTest, DaemonAndBrokerSocketsAreUnreachableAndNoKeyIsVisible) {
  ::setenv("ANTHROPIC_API_KEY", "sk-ant-docker-secret", 1);
  std::string sockets =
      SingleOutput("sock-1", "standin:connect /var/run/docker.sock /run/docker.sock " +
                                 root_.path() + "/broker.sock /run/clawdie/store.sock");
  std::string env = SingleOutput("env-1", "standin:env");
  std::string ps = SingleOutput("ps-1", "standin:ps");
  ::unsetenv("ANTHROPIC_API_KEY");

  EXPECT_EQ(sockets,
            "/var/run/docker.sock: No such file or directory\n"
            "/run/docker.sock: No such file or directory\n" +
                root_.path() + "/broker.sock: No such file or directory\n" +
                "/run/clawdie/store.sock: No such file or directory\n");
  EXPECT_EQ(env.find("sk-ant-docker-secret"), std::string::npos);
  EXPECT_NE(env.find("NANOCLAW_WORKSPACE=/workspace/group\n"), std::string::npos);
  EXPECT_EQ(ps.find("sk-ant-docker-secret"), std::string::npos);
  EXPECT_EQ(ps.substr(0, 2), "1 ");
}

TEST_F(DockerBackendTest, RootIsReadOnlyAndTheGroupFolderWritable) {
  EXPECT_EQ(SingleOutput("ro-1", "standin:write /usr/local/bin/x y"),
            "write /usr/local/bin/x: Read-only file system");
  EXPECT_EQ(SingleOutput("rw-1", "standin:write /workspace/group/out.txt done"),
            "wrote /workspace/group/out.txt");
  EXPECT_EQ(ReadText(layout_.groups_dir + "/team/out.txt"), "done");
}

TEST_F(DockerBackendTest, OrphanedContainersAreRemovedOnInit) {
  // Containers labelled for this install, as a killed broker leaves them.
  DockerClient& client = backend_->client();
  for (int i = 0; i < 2; ++i) {
    nlohmann::json config = {{"Image", kStandinImage},
                             {"Cmd", {"/usr/local/bin/clawdie-agent"}},
                             {"OpenStdin", true},
                             {"HostConfig", {{"NetworkMode", "none"}}},
                             {"Labels", {{kInstallLabel, TestInstallId()}, {kRunLabel, "orphan"}}}};
    auto created = client.Call("POST", "/containers/create", config.dump());
    ASSERT_TRUE(created.ok()) << created.status();
    std::string id = nlohmann::json::parse(created->body)["Id"];
    auto started = client.Call("POST", "/containers/" + id + "/start");
    ASSERT_TRUE(started.ok()) << started.status();
  }
  ASSERT_EQ(backend_->ListContainers("orphan")->size(), 2u);

  DockerBackend restarted(ImageOptions(nullptr), StandinDocker());
  ASSERT_TRUE(restarted.Init().ok());
  EXPECT_TRUE(restarted.ListContainers()->empty());
}

}  // namespace
}  // namespace clawdie::broker::testing
