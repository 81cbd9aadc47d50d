// Runs the built clawdie-agent binary as the broker does — a child process with pipes and
// environment variables — against the test model server on a Unix socket. Build the
// `clawdie-agent` target before running this test.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/model_server/model_server.h"

namespace clawdie::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kAgent = std::string(CLAWDIE_BINARY_DIR) + "/container/clawdie-agent";

struct Child {
  pid_t pid = -1;
  int in = -1, out = -1, err = -1;
};

Child Spawn(const std::vector<std::string>& env) {
  int in[2], out[2], err[2];
  if (pipe(in) != 0 || pipe(out) != 0 || pipe(err) != 0) return {};
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    execle(kAgent.c_str(), kAgent.c_str(), static_cast<char*>(nullptr), envp.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  return {pid, in[1], out[0], err[0]};
}

std::string ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) text.append(buffer, n);
  return text;
}

// Reads one line within 10 s, proving the agent flushed it without waiting for more output.
std::string ReadLine(int fd, std::string& pending) {
  while (pending.find('\n') == std::string::npos) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, 10000) <= 0) return "";
    char buffer[4096];
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) return "";
    pending.append(buffer, n);
  }
  std::string line = pending.substr(0, pending.find('\n'));
  pending.erase(0, line.size() + 1);
  return line;
}

class AgentBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kAgent)) << kAgent << " is missing: build the clawdie-agent target";
    char pattern[] = "/tmp/cab-XXXXXX";
    root_ = mkdtemp(pattern);
    fs::create_directories(root_ / "group");
  }
  void TearDown() override { fs::remove_all(root_); }

  std::vector<std::string> Env() {
    return {"NANOCLAW_WORKSPACE=" + (root_ / "group").string(),
            "NANOCLAW_CONVERSATIONS_DIR=" + (root_ / "conversations").string(),
            "NANOCLAW_GLOBAL_MD=" + (root_ / "global/CLAUDE.md").string(),
            "NANOCLAW_IPC_DIR=" + (root_ / "ipc").string()};
  }

  fs::path root_;
};

TEST_F(AgentBinaryTest, FlushesEachEventAndNeverLogsTheApiKey) {
  testing::ModelServerScript script;
  script.fixed_text = "Hi from the model";
  auto server = testing::ModelServer::Start("unix:" + (root_ / "m.sock").string(), script);
  ASSERT_TRUE(server.ok()) << server.status();
  std::vector<std::string> env = Env();
  env.push_back("CLAWDIE_MODEL_SOCKET=" + (root_ / "m.sock").string());
  env.push_back("ANTHROPIC_API_KEY=sk-ant-test-0123456789secret");
  env.push_back("LOG_LEVEL=trace");
  Child child = Spawn(env);
  std::string start = R"({"prompt":"hi","groupFolder":"g","chatJid":"local:a"})";
  start += "\n";
  ASSERT_EQ(write(child.in, start.data(), start.size()), static_cast<ssize_t>(start.size()));

  // stdin stays open: the agent must still deliver each line as soon as it is written.
  std::string pending;
  json session = json::parse(ReadLine(child.out, pending));
  json output = json::parse(ReadLine(child.out, pending));
  std::string close_line = "{\"type\":\"close\"}\n";
  ASSERT_EQ(write(child.in, close_line.data(), close_line.size()),
            static_cast<ssize_t>(close_line.size()));
  json done = json::parse(ReadLine(child.out, pending));
  close(child.in);
  std::string log = ReadAll(child.err);
  int status = 0;
  waitpid(child.pid, &status, 0);

  EXPECT_EQ(session["type"], "session");
  EXPECT_EQ(output, json({{"type", "output"}, {"text", "Hi from the model"}}));
  EXPECT_EQ(done, json({{"type", "done"}, {"status", "success"}}));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(log.find("sk-ant-test-0123456789secret"), std::string::npos) << log;
  EXPECT_NE(log.find("run started"), std::string::npos);
  EXPECT_EQ((*server)->Requests().at(0).headers.at("x-api-key"), "sk-ant-test-0123456789secret");
  EXPECT_TRUE(
      fs::exists(root_ / "conversations" / (session["sessionId"].get<std::string>() + ".jsonl")));
}

TEST_F(AgentBinaryTest, OneShotWithoutModelExitsWithErrorAndTheMissingSetting) {
  Child child = Spawn(Env());
  std::string start = R"({"prompt":"hi","groupFolder":"g","chatJid":"local:a"})";
  ASSERT_EQ(write(child.in, start.data(), start.size()), static_cast<ssize_t>(start.size()));
  close(child.in);
  std::string out = ReadAll(child.out);
  ReadAll(child.err);
  int status = 0;
  waitpid(child.pid, &status, 0);

  std::string message =
      "ANTHROPIC_API_KEY is not set on the broker, so the assistant has no model to talk to: the "
      "sandbox has neither CLAWDIE_MODEL_SOCKET nor CLAWDIE_MODEL_BASE_URL. The operator should "
      "set ANTHROPIC_API_KEY (or CLAWDIE_MODEL_BASE_URL for a local model server).";
  EXPECT_EQ(out, "{\"type\":\"output\",\"text\":" + json(message).dump() + "}\n" +
                     "{\"type\":\"done\",\"status\":\"error\",\"error\":" + json(message).dump() +
                     "}\n");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

}  // namespace
}  // namespace clawdie::agent
