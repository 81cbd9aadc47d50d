// The docker backend against a daemon on a loopback TCP port with TLS client
// certificates: a second dockerd is started with certificates generated for
// the test; the broker connects with its client certificate (and runs a
// sandbox through the hijacked attach over TLS) and refuses a wrong CA.
#include "services/broker/docker_tls_daemon.h"

namespace clawdie::broker::testing {
namespace {

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
