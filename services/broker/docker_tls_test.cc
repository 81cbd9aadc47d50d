// The docker backend against a daemon on a loopback TCP port with TLS client
// certificates: a second dockerd is started with certificates generated for
// the test; the broker connects with its client certificate (and runs a
// sandbox through the hijacked attach over TLS) and refuses a wrong CA.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <thread>

#include "services/broker/docker_test_util.h"
#include "services/broker/process_launcher.h"

namespace clawdie::broker::testing {
namespace {

int FreePort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t length = sizeof(addr);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &length);
  return ntohs(addr.sin_port);
}

// A dockerd listening on 127.0.0.1:<port> with TLS, for the whole suite.
class TlsDaemon {
 public:
  TlsDaemon() : host_("tcp://127.0.0.1:" + std::to_string(FreePort())) {
    const std::string& dir = dir_.path();
    std::string certs = std::string(CLAWDIE_TEST_FIXTURES) + "/broker/make-docker-certs.sh " + dir;
    if (std::system(certs.c_str()) != 0) {
      error_ = "generating certificates failed";
      return;
    }
    // Its own bridge: "--bridge none" makes dockerd delete the host's docker0,
    // which the main daemon uses. Its chatter goes to a log file.
    int port = std::stoi(host_.substr(host_.rfind(':') + 1));
    bridge_ = "clbtls" + std::to_string(port);
    std::string subnet = "172.31." + std::to_string(20 + port % 200) + ".1/24";
    std::string script = "ip link add name " + bridge_ + " type bridge && ip addr add " + subnet +
                         " dev " + bridge_ +
                         " && exec dockerd --tlsverify --tlscacert ca.pem --tlscert "
                         "server-cert.pem --tlskey server-key.pem -H " +
                         host_ + " --data-root " + dir + "/data --exec-root " + dir +
                         "/exec --pidfile " + dir + "/docker.pid" + " --bridge " + bridge_ +
                         " --iptables=false --ip-masq=false >dockerd.log 2>&1";
    LaunchOptions launch;
    launch.argv = {"/bin/sh", "-c", script};
    launch.working_dir = dir;
    launch.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    launch.pipes = false;
    auto process = DefaultProcessLauncher().Launch(launch);
    if (!process.ok()) {
      error_ = std::string(process.status().message());
      return;
    }
    pid_ = process->pid;
    error_ = WaitUntilReady();
    if (error_.empty()) error_ = ImportImage();
  }

  ~TlsDaemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (!bridge_.empty()) std::system(("ip link del " + bridge_ + " 2>/dev/null").c_str());
  }

  DockerEndpoint Endpoint(const std::string& cert_dir) const {
    return *MakeDockerEndpoint(host_, true, cert_dir);
  }
  const std::string& error() const { return error_; }
  const std::string& host() const { return host_; }
  std::string cert_dir() const { return dir_.path(); }

 private:
  std::string WaitUntilReady() {
    absl::Status status;
    for (int i = 0; i < 150; ++i) {
      DockerClient client(Endpoint(dir_.path()));
      status = client.Negotiate();
      if (status.ok()) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return "TLS dockerd did not come up: " + std::string(status.message());
  }

  std::string ImportImage() {
    std::string command = "DOCKER_HOST=" + host_ +
                          " DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=" + dir_.path() + " " +
                          CLAWDIE_SOURCE_DIR + "/tests/agent_standin/build-standin-image.sh " +
                          StandinPath() + " " + kStandinImage + " >/dev/null";
    return std::system(command.c_str()) == 0 ? "" : "importing the stand-in image over TLS failed";
  }

  TempDir dir_;
  std::string host_;
  std::string bridge_;
  pid_t pid_ = -1;
  std::string error_;
};

class DockerTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (DockerUnavailable().empty()) daemon_ = new TlsDaemon();
  }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }
  void SetUp() override {
    CLAWDIE_REQUIRE_AVAILABLE(DockerUnavailable());
    CLAWDIE_REQUIRE_AVAILABLE(daemon_->error());
  }

  static TlsDaemon* daemon_;
};

TlsDaemon* DockerTlsTest::daemon_ = nullptr;

TEST_F(DockerTlsTest, RunsASandboxWithTheClientCertificate) {
  TempDir root;
  HostLayout layout = MakeLayout(root.path());
  DockerOptions docker = StandinDocker();
  docker.endpoint = daemon_->Endpoint(daemon_->cert_dir());
  SandboxOptions options;
  DockerBackend backend(options, docker);
  absl::Status init = backend.Init();
  ASSERT_TRUE(init.ok()) << init;
  EXPECT_EQ(backend.client().api_version(), "1.41");

  auto outcome = RunToEnd(backend, MakeSpec(layout, "tls-1", "over tls"), {"and back"});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->Outputs(), (std::vector<std::string>{"echo: over tls", "echo: and back"}));
  EXPECT_EQ(outcome->exit.reason, ExitReason::kExited);
  EXPECT_EQ(outcome->exit.code, 0);
  EXPECT_TRUE(backend.ListContainers()->empty());
}

TEST_F(DockerTlsTest, RefusesADaemonSignedByAnotherCa) {
  DockerClient client(daemon_->Endpoint(daemon_->cert_dir() + "/wrong"));
  absl::Status status = client.Negotiate();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  std::string prefix = "docker GET /version " + daemon_->host() + ": ";
  EXPECT_EQ(std::string(status.message()).substr(0, prefix.size()), prefix) << status;
  EXPECT_NE(std::string(status.message()).find("certificate"), std::string::npos) << status;
}

}  // namespace
}  // namespace clawdie::broker::testing
