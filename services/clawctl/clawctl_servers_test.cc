// Runs the clawctl binary against small in-test gRPC servers listening on Unix sockets in a
// temporary run directory, the way an operator runs it against the real services.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "clawdie/v1/broker.grpc.pb.h"
#include "clawdie/v1/gateway.grpc.pb.h"
#include "clawdie/v1/router.grpc.pb.h"
#include "clawdie/v1/store.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace clawdie::clawctl {
namespace {

constexpr char kClawctl[] = CLAWDIE_BINARY_DIR "/services/clawctl/clawctl";

class FakeRouter : public v1::Router::Service {
 public:
  grpc::Status RegisterGroup(grpc::ServerContext*, const v1::RegisterGroupRequest* request,
                             v1::Group* response) override {
    std::lock_guard<std::mutex> lock(mutex_);
    registered_.push_back(request->group());
    if (!refusal_.ok()) return refusal_;
    *response = request->group();
    return grpc::Status::OK;
  }

  grpc::Status QueueState(grpc::ServerContext*, const v1::QueueStateRequest*,
                          v1::QueueStateResponse* response) override {
    response->set_active(1);
    response->set_max_concurrent(5);
    return grpc::Status::OK;
  }

  grpc::Status ListGroups(grpc::ServerContext*, const v1::ListGroupsRequest*,
                          v1::ListGroupsResponse* response) override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const v1::Group& group : registered_) *response->add_groups() = group;
    return grpc::Status::OK;
  }

  grpc::Status CreateTask(grpc::ServerContext*, const v1::RouterCreateTaskRequest* request,
                          v1::Task* response) override {
    std::lock_guard<std::mutex> lock(mutex_);
    created_.push_back(request->task());
    *response = request->task();
    response->set_id(7);
    response->set_state(v1::TASK_STATE_ACTIVE);
    response->mutable_next_run()->set_seconds(1767258000);  // 2026-01-01 09:00 UTC
    return grpc::Status::OK;
  }

  std::vector<v1::Task> created() {
    std::lock_guard<std::mutex> lock(mutex_);
    return created_;
  }

  std::vector<v1::Group> registered() {
    std::lock_guard<std::mutex> lock(mutex_);
    return registered_;
  }

  void AddGroup(const std::string& chat, const std::string& folder) {
    std::lock_guard<std::mutex> lock(mutex_);
    v1::Group group;
    group.set_chat_jid(chat);
    group.set_folder(folder);
    registered_.push_back(group);
  }

  void Refuse(grpc::Status status) {
    std::lock_guard<std::mutex> lock(mutex_);
    refusal_ = status;
  }

 private:
  std::mutex mutex_;
  std::vector<v1::Group> registered_;
  std::vector<v1::Task> created_;
  grpc::Status refusal_ = grpc::Status::OK;
};

class FakeBroker : public v1::Broker::Service {
 public:
  grpc::Status Info(grpc::ServerContext*, const v1::InfoRequest*,
                    v1::InfoResponse* response) override {
    response->set_backend("bwrap");
    response->set_backend_version("0.8.0");
    response->set_model_provider("anthropic");
    response->set_model("test-model");
    response->set_model_key_present(true);
    return grpc::Status::OK;
  }

  grpc::Status ListSandboxes(grpc::ServerContext*, const v1::ListSandboxesRequest*,
                             v1::ListSandboxesResponse* response) override {
    v1::Sandbox* sandbox = response->add_sandboxes();
    sandbox->set_run_id("14-1796403020225");
    sandbox->set_group_folder("main");
    return grpc::Status::OK;
  }

  grpc::Status KillSandbox(grpc::ServerContext*, const v1::KillSandboxRequest* request,
                           v1::KillSandboxResponse*) override {
    if (request->run_id() != "14-1796403020225") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "kill sandbox: no such live run");
    }
    std::lock_guard<std::mutex> lock(mu_);
    killed_.push_back(request->run_id());
    return grpc::Status::OK;
  }

  std::vector<std::string> killed() {
    std::lock_guard<std::mutex> lock(mu_);
    return killed_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> killed_;
};

// Acknowledges each message of the local chat and answers "echo: <text>" as "local:<as>".
class FakeGateway : public v1::Gateway::Service {
 public:
  grpc::Status Status(grpc::ServerContext*, const v1::StatusRequest*,
                      v1::StatusResponse* response) override {
    v1::ChannelStatus* local = response->add_channels();
    local->set_name("local");
    local->set_enabled(true);
    local->set_connected(true);
    return grpc::Status::OK;
  }

  grpc::Status LocalChat(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::LocalChatEvent, v1::LocalChatRequest>* stream) override {
    v1::LocalChatRequest request;
    int count = 0;
    while (stream->Read(&request)) {
      if (request.text().empty()) continue;
      if (request.text().size() > 100) {
        // As the gateway ends the stream when the router refuses a message.
        return grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            "ingest local:" + request.as() + ": message.text: over the limit of 100 bytes");
      }
      v1::LocalChatEvent ack;
      ack.set_ack_platform_message_id("local-" + std::to_string(++count));
      stream->Write(ack);
      v1::LocalChatEvent reply;
      reply.set_text("echo from " + request.as() + ": " + request.text());
      reply.set_platform_message_id("local-" + std::to_string(++count));
      stream->Write(reply);
    }
    return grpc::Status::OK;
  }
};

// One service on unix:<path> with the standard health service.
class FakeServer {
 public:
  FakeServer(const std::string& path, grpc::Service* service) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());
    builder.RegisterService(service);
    server_ = builder.BuildAndStart();
    SetServing(true);
  }

  ~FakeServer() { server_->Shutdown(std::chrono::system_clock::now()); }

  bool started() const { return server_ != nullptr; }
  void SetServing(bool serving) { server_->GetHealthCheckService()->SetServingStatus(serving); }

 private:
  std::unique_ptr<grpc::Server> server_;
};

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ClawctlServersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/clawctl-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    config_ = dir_ + "/clawdie.conf";
    std::ofstream(config_) << "ASSISTANT_NAME=Testy\nTZ=UTC\n";
    store_ = std::make_unique<FakeServer>(dir_ + "/store.sock", &store_service_);
    broker_ = std::make_unique<FakeServer>(dir_ + "/broker.sock", &broker_service_);
    router_ = std::make_unique<FakeServer>(dir_ + "/router.sock", &router_service_);
    gateway_ = std::make_unique<FakeServer>(dir_ + "/gateway.sock", &gateway_service_);
    ASSERT_TRUE(store_->started() && broker_->started() && router_->started() &&
                gateway_->started());
  }

  void TearDown() override {
    store_.reset();
    broker_.reset();
    router_.reset();
    gateway_.reset();
    std::string command = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(std::system(command.c_str()), 0);
  }

  // Runs clawctl with --config and --run-dir pointing at this test's files, a clean
  // environment, and stdout and stderr captured.
  Result Run(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(),
                {kClawctl, "--config", config_, "--run-dir", dir_, "--timeout", "5s"});
    std::string out_path = dir_ + "/out", err_path = dir_ + "/err", in_path = dir_ + "/in";
    std::ofstream(in_path) << input;
    pid_t pid = fork();
    if (pid == 0) {
      int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int in = open(in_path.c_str(), O_RDONLY);
      dup2(in, 0);
      dup2(out, 1);
      dup2(err, 2);
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      char path_env[] = "PATH=/usr/bin:/bin";
      char* envp[] = {path_env, nullptr};
      execve(kClawctl, argv.data(), envp);
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    Result result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = ReadFile(out_path);
    result.err = ReadFile(err_path);
    return result;
  }

  std::string dir_;
  std::string config_;
  v1::Store::Service store_service_;
  FakeBroker broker_service_;
  FakeRouter router_service_;
  FakeGateway gateway_service_;
  std::unique_ptr<FakeServer> store_, broker_, router_, gateway_;
};

TEST_F(ClawctlServersTest, StatusExitsZeroWhenEveryServiceServes) {
  Result result = Run({"status"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  std::string r = "unix:" + dir_;
  EXPECT_EQ(result.out,
            "clawctl 0.1.0\n"
            "SERVICE  ADDRESS" +
                std::string(r.size() + 8, ' ') +
                "HEALTH   VERSION  DETAIL\n"
                "store    " +
                r +
                "/store.sock    SERVING  -\n"
                "broker   " +
                r +
                "/broker.sock   SERVING  -        sandbox bwrap 0.8.0 · model "
                "anthropic/test-model (key present)\n"
                "router   " +
                r +
                "/router.sock   SERVING  -        agents 1/5\n"
                "gateway  " +
                r + "/gateway.sock  SERVING  -        local connected\n");
}

TEST_F(ClawctlServersTest, StatusFailsNamingTheServiceThatIsNotServing) {
  router_->SetServing(false);
  Result result = Run({"status"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "clawctl: status: router NOT_SERVING\n");
}

TEST_F(ClawctlServersTest, StatusFailsNamingTheServiceThatIsDown) {
  gateway_.reset();
  Result result = Run({"status"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "clawctl: status: gateway UNREACHABLE\n");
}

TEST_F(ClawctlServersTest, StatusJsonListsEveryServiceAndVerdict) {
  broker_->SetServing(false);
  Result result = Run({"status", "--json"});
  EXPECT_EQ(result.exit_code, 1);
  nlohmann::json json = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_TRUE(json.is_object()) << result.out;
  EXPECT_EQ(json["ok"], false);
  ASSERT_EQ(json["services"].size(), 4u);
  EXPECT_EQ(json["services"][0]["name"], "store");
  EXPECT_EQ(json["services"][0]["health"], "SERVING");
  EXPECT_EQ(json["services"][1]["name"], "broker");
  EXPECT_EQ(json["services"][1]["health"], "NOT_SERVING");
}

TEST_F(ClawctlServersTest, GroupsAddRegistersTheGroupWithTheRouter) {
  Result result =
      Run({"groups", "add", "--chat", "tg:-100123", "--name", "Family", "--folder", "family"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "registered tg:-100123 as group family (trigger @Testy)\n");

  std::vector<v1::Group> registered = router_service_.registered();
  ASSERT_EQ(registered.size(), 1u);
  EXPECT_EQ(registered[0].chat_jid(), "tg:-100123");
  EXPECT_EQ(registered[0].name(), "Family");
  EXPECT_EQ(registered[0].folder(), "family");
  EXPECT_EQ(registered[0].trigger(), "@Testy");
  EXPECT_TRUE(registered[0].requires_trigger());
  EXPECT_FALSE(registered[0].is_main());
}

TEST_F(ClawctlServersTest, GroupsAddMainPrintsJson) {
  Result result =
      Run({"--json", "groups", "add", "--chat", "local:me", "--folder", "main", "--main"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  nlohmann::json json = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_TRUE(json.is_object()) << result.out;
  EXPECT_EQ(json["folder"], "main");
  EXPECT_EQ(json["is_main"], true);
  EXPECT_EQ(json["requires_trigger"], false);
}

TEST_F(ClawctlServersTest, GroupsAddReportsTheRoutersRefusalOnOneLine) {
  router_service_.Refuse(grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "folder family is taken"));
  Result result = Run({"groups", "add", "--chat", "tg:-100123", "--folder", "family"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err,
            "clawctl: groups add family unix:" + dir_ + "/router.sock: folder family is taken\n");
}

TEST_F(ClawctlServersTest, GroupsAddChecksTheFolderBeforeCallingTheRouter) {
  Result result = Run({"groups", "add", "--chat", "tg:-100123", "--folder", "../etc"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err.rfind("clawctl: folder ../etc: must start with", 0), 0u) << result.err;
  EXPECT_TRUE(router_service_.registered().empty());
}

TEST_F(ClawctlServersTest, TasksAddSendsTheScheduleForTheGroupsChat) {
  ASSERT_EQ(Run({"groups", "add", "--chat", "tg:-100123", "--folder", "family"}).exit_code, 0);
  Result result = Run({"tasks", "add", "--group", "family", "--every", "90m", "--prompt",
                       "Water the plants", "--context", "isolated"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "created task 7 for group family, next run 2026-01-01 09:00:00\n");

  std::vector<v1::Task> created = router_service_.created();
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].group_folder(), "family");
  EXPECT_EQ(created[0].chat_jid(), "tg:-100123");
  EXPECT_EQ(created[0].kind(), v1::TASK_KIND_INTERVAL);
  EXPECT_EQ(created[0].expression(), "1h30m");
  EXPECT_EQ(created[0].prompt(), "Water the plants");
  EXPECT_EQ(created[0].context_mode(), v1::CONTEXT_MODE_ISOLATED);
}

TEST_F(ClawctlServersTest, TasksAddRefusesAGroupThatIsNotRegistered) {
  Result result = Run({"tasks", "add", "--group", "nope", "--cron", "0 9 * * *", "--prompt", "x"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err,
            "clawctl: tasks add: group nope is not registered (see clawctl groups list)\n");
  EXPECT_TRUE(router_service_.created().empty());
}

TEST_F(ClawctlServersTest, SendWaitPrintsTheReplyFromTheLocalChat) {
  router_service_.AddGroup("local:alice", "alice");
  Result result = Run({"send", "--chat", "local:alice", "hello there", "--wait", "--settle", "1s"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "echo from alice: hello there\n");
}

TEST_F(ClawctlServersTest, KillTakesTheRunIdThatRunsShowsOrTheBrokersId) {
  Result by_run = Run({"kill", "14"});
  EXPECT_EQ(by_run.exit_code, 0) << by_run.err;
  EXPECT_EQ(by_run.out, "killed the sandbox of run 14-1796403020225\n");
  Result by_sandbox = Run({"kill", "14-1796403020225"});
  EXPECT_EQ(by_sandbox.exit_code, 0) << by_sandbox.err;
  EXPECT_EQ(broker_service_.killed(),
            (std::vector<std::string>{"14-1796403020225", "14-1796403020225"}));

  Result unknown = Run({"kill", "1"});  // not "14": a prefix of the number is no match
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "clawctl: kill 1: no live sandbox for this run (see clawctl sandboxes)\n");
  EXPECT_EQ(Run({"kill", ""}).exit_code, 1);
}

TEST_F(ClawctlServersTest, SendToALocalChatReportsWhyTheGatewayRefusedIt) {
  router_service_.AddGroup("local:alice", "alice");
  Result result = Run({"send", "--chat", "local:alice", std::string(200, 'x'), "--wait"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("message.text: over the limit of 100 bytes"), std::string::npos)
      << result.err;
}

TEST_F(ClawctlServersTest, ChatSkipsLinesTheStoreWouldRefuseAndCarriesOn) {
  std::ofstream(config_) << "ASSISTANT_NAME=Testy\nTZ=UTC\nCLAWDIE_MAX_MESSAGE_BYTES=100\n";
  Result result = Run({"chat", "--as", "alice"}, std::string(150, 'x') + "\nbad \xff\nhello\n");
  // The fake gateway ends the chat with an error for a text over 100 bytes: exit 0 shows
  // neither refused line reached it.
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("clawctl: not sent: text: 150 bytes, over the limit of 100 "
                            "(CLAWDIE_MAX_MESSAGE_BYTES)"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("clawctl: not sent: text: not valid UTF-8 (byte 4)"), std::string::npos)
      << result.err;
}

TEST_F(ClawctlServersTest, SendWaitToALocalChatThatIsNotAGroupFailsAtOnce) {
  // The stand-in gateway would echo an answer; clawctl must not wait for one.
  Result result = Run({"send", "--chat", "local:bob", "hello", "--wait", "--settle", "1s"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err,
            "clawctl: send local:bob: stored, but it did not trigger a run (the chat is not a "
            "group; register it with clawctl groups add --chat local:bob --name NAME --folder "
            "FOLDER)\n");
}

TEST_F(ClawctlServersTest, SendWithoutWaitPrintsTheAcknowledgedId) {
  Result result = Run({"send", "--chat", "local:alice", "hi"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "sent to local:alice (local-1)\n");
}

TEST_F(ClawctlServersTest, AnUnknownOrMissingCommandNamesTheValidOnes) {
  Result unknown = Run({"tasks", "frob"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err,
            "clawctl: unknown command \"frob\" for clawctl tasks: one of list, add, pause, "
            "resume, cancel, runs (see clawctl --help)\n");
  Result missing = Run({"groups"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err,
            "clawctl: clawctl groups needs a command: one of list, add, remove (see clawctl "
            "--help)\n");
}

TEST_F(ClawctlServersTest, UsageErrorExitsTwoWithOneLine) {
  Result result = Run({"groups", "add", "--folder", "family"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "clawctl: --chat is required (see clawctl --help)\n");
}

TEST_F(ClawctlServersTest, UnimplementedRpcIsReportedNotHidden) {
  Result result = Run({"runs", "--active"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err.rfind("clawctl: runs unix:" + dir_ + "/router.sock: ", 0), 0u) << result.err;
}

}  // namespace
}  // namespace clawdie::clawctl
