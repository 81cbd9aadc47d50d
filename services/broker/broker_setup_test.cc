// The broker's configuration keys of the remote Docker copy and the persistent
// jail: accepted values reach the backend, bad ones name the key.
#include "services/broker/broker_setup.h"

#include "gtest/gtest.h"

namespace clawdie::broker {
namespace {

absl::Status SetupError(const std::string& text) {
  auto config = Config::Parse(text, "test");
  EXPECT_TRUE(config.ok()) << config.status();
  auto setup = LoadBrokerSetup(*config);
  return setup.ok() ? absl::OkStatus() : setup.status();
}

TEST(BrokerSetupTest, DockerRemoteKeysAreChecked) {
  EXPECT_TRUE(SetupError("CLAWDIE_SANDBOX=docker\nCLAWDIE_DOCKER_REMOTE=yes\n"
                         "CLAWDIE_DOCKER_COPY_LIMIT=256m\n")
                  .ok());
  EXPECT_EQ(SetupError("CLAWDIE_SANDBOX=docker\nCLAWDIE_DOCKER_REMOTE=maybe\n").message(),
            "config CLAWDIE_DOCKER_REMOTE: expected auto, yes or no, got maybe");
  EXPECT_EQ(SetupError("CLAWDIE_SANDBOX=docker\nCLAWDIE_DOCKER_COPY_LIMIT=lots\n").message(),
            "config CLAWDIE_DOCKER_COPY_LIMIT: expected a size like 512m or 1g");
}

TEST(BrokerSetupTest, BastilleJailNameIsChecked) {
  EXPECT_TRUE(SetupError("CLAWDIE_SANDBOX=jail\nCLAWDIE_BASTILLE_JAIL=clawdie-agents\n").ok());
  absl::Status status = SetupError("CLAWDIE_SANDBOX=jail\nCLAWDIE_BASTILLE_JAIL=../x\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "config CLAWDIE_BASTILLE_JAIL: expected a jail name [A-Za-z0-9][A-Za-z0-9_-]{0,63}");
  EXPECT_EQ(SetupError("CLAWDIE_SANDBOX=jail\nCLAWDIE_BASTILLE_JAIL=42\n").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BrokerSetupTest, AgentGetsNoModelSocketWhenTheKeyIsMissing) {
  SandboxOptions options;
  auto has_socket = [&] {
    for (const auto& entry : AgentEnvironment(AgentPaths(), options)) {
      if (entry.rfind("CLAWDIE_MODEL_SOCKET=", 0) == 0) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_socket());
  options.model_key_missing = true;
  EXPECT_FALSE(has_socket());
  // Anthropic without a key still starts: the run, not the broker, reports the missing key.
  absl::Status status = SetupError(
      "CLAWDIE_SANDBOX=process\nCLAWDIE_AGENT_PATH=/bin/true\nCLAWDIE_MODEL_PROVIDER=anthropic\n");
  EXPECT_TRUE(status.ok()) << status;
}

}  // namespace
}  // namespace clawdie::broker
