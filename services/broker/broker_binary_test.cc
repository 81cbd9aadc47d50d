// Tests of the clawdie-broker binary itself with the docker backend: a
// broker SIGKILLed with three sandboxes running leaves none after restart,
// and SIGTERM drains and exits 0.
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <thread>

#include "clawdie/v1/broker.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/broker/docker_test_util.h"
#include "services/broker/process_launcher.h"

namespace clawdie::broker::testing {
namespace {

using Stream = grpc::ClientReaderWriter<v1::RunAgentRequest, v1::RunAgentResponse>;

class BrokerBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CLAWDIE_REQUIRE_AVAILABLE(DockerUnavailable());
    install_id_ = "bin" + std::to_string(::getpid());
    config_path_ = root_.path() + "/clawdie.conf";
    std::ofstream(config_path_) << "CLAWDIE_SANDBOX=docker\n"
                                << "CLAWDIE_AGENT_IMAGE=" << kStandinImage << "\n"
                                << "CLAWDIE_RUN_DIR=" << root_.path() << "/run\n"
                                << "CLAWDIE_DATA_DIR=" << root_.path() << "/data\n"
                                << "CLAWDIE_BROKER_INSTALL_ID=" << install_id_ << "\n"
                                << "AGENT_TIMEOUT=2m\n";
    address_ = "unix:" + root_.path() + "/run/broker.sock";
  }

  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  void StartBroker() {
    LaunchOptions launch;
    launch.argv = {std::string(CLAWDIE_BINARY_DIR) + "/services/broker/clawdie-broker",
                   "--config",
                   config_path_,
                   "--listen",
                   address_,
                   "--log-level",
                   "warn"};
    launch.env = {"PATH=/usr/bin:/bin"};
    launch.pipes = false;
    auto process = DefaultProcessLauncher().Launch(launch);
    ASSERT_TRUE(process.ok()) << process.status();
    pid_ = process->pid;
    auto channel = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    ASSERT_TRUE(
        channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20)));
    stub_ = v1::Broker::NewStub(channel);
  }

  int StopBroker(int signal) {
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  std::vector<std::string> Containers() {
    DockerBackend backend(SandboxOptions(), StandinDocker(install_id_));
    EXPECT_TRUE(backend.client().Negotiate().ok());
    auto ids = backend.ListContainers();
    EXPECT_TRUE(ids.ok()) << ids.status();
    return ids.ok() ? *ids : std::vector<std::string>{};
  }

  std::unique_ptr<Stream> StartSleeper(grpc::ClientContext* context, const std::string& run_id) {
    auto stream = stub_->RunAgent(context);
    v1::RunAgentRequest request;
    request.mutable_spec()->set_run_id(run_id);
    request.mutable_spec()->set_group_folder("team");
    request.mutable_spec()->set_start_json(StartJson("standin:sleep 60"));
    EXPECT_TRUE(stream->Write(request));
    v1::RunAgentResponse response;
    EXPECT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.started().backend(), "docker") << response.DebugString();
    return stream;
  }

  TempDir root_;
  std::string install_id_;
  std::string config_path_;
  std::string address_;
  pid_t pid_ = -1;
  std::unique_ptr<v1::Broker::Stub> stub_;
};

TEST_F(BrokerBinaryTest, SigkilledBrokerLeavesNoSandboxAfterRestart) {
  StartBroker();
  grpc::ClientContext contexts[3];
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back(StartSleeper(&contexts[i], "kill-" + std::to_string(i)));
  }
  StopBroker(SIGKILL);
  ASSERT_EQ(Containers().size(), 3u);

  StartBroker();
  std::vector<std::string> left = Containers();
  for (int i = 0; i < 100 && !left.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    left = Containers();
  }
  EXPECT_TRUE(left.empty()) << left.size() << " containers left";
  EXPECT_TRUE(std::filesystem::is_empty(root_.path() + "/run/sandboxes"));
  for (auto& context : contexts) context.TryCancel();
}

TEST_F(BrokerBinaryTest, SigtermKillsRunsDrainsAndExitsZero) {
  StartBroker();
  grpc::ClientContext context;
  auto stream = StartSleeper(&context, "term-1");
  int status = StopBroker(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(Containers().empty());
  context.TryCancel();
}

}  // namespace
}  // namespace clawdie::broker::testing
