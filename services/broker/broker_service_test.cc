#include "services/broker/broker_service.h"

#include <thread>

#include "common/grpc_server.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/broker/broker_test_util.h"
#include "services/broker/process_backend.h"

namespace clawdie::broker::testing {
namespace {

using Stream = grpc::ClientReaderWriter<v1::RunAgentRequest, v1::RunAgentResponse>;

// A broker with the process backend served over a real Unix socket.
class BrokerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    layout_ = MakeLayout(root_.path());
    SandboxOptions options;
    options.agent_command = StandinPath();
    backend_ = std::make_unique<ProcessBackend>(options);
    BrokerSettings settings;
    settings.layout = layout_;
    settings.default_model = "test-model";
    settings.default_limits = TestLimits();
    service_ = std::make_unique<BrokerService>(*backend_, allowlist_, settings);

    ServerOptions server_options;
    server_options.name = "broker";
    server_options.listen = "unix:" + root_.path() + "/broker.sock";
    server_ = std::make_unique<GrpcServer>(server_options);
    server_->AddService(service_.get(), "clawdie.v1.Broker");
    absl::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started;
    server_->SetServing(true);
    stub_ = v1::Broker::NewStub(
        grpc::CreateChannel(server_options.listen, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  v1::RunAgentRequest SpecRequest(const std::string& run_id, const std::string& prompt) {
    v1::RunAgentRequest request;
    v1::RunSpec* spec = request.mutable_spec();
    spec->set_run_id(run_id);
    spec->set_group_folder("team");
    spec->set_start_json(StartJson(prompt));
    return request;
  }

  static v1::RunAgentRequest Message(const std::string& text) {
    v1::RunAgentRequest request;
    request.mutable_input()->set_message(text);
    return request;
  }

  // Reads responses until the exit.
  static std::vector<v1::RunAgentResponse> ReadToExit(Stream& stream) {
    std::vector<v1::RunAgentResponse> responses;
    v1::RunAgentResponse response;
    while (stream.Read(&response)) {
      responses.push_back(response);
      if (response.has_exit()) break;
    }
    return responses;
  }

  TempDir root_;
  HostLayout layout_;
  MountAllowlist allowlist_;
  std::unique_ptr<ProcessBackend> backend_;
  std::unique_ptr<BrokerService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::Broker::Stub> stub_;
};

TEST_F(BrokerServiceTest, RunAgentStreamsEveryEventAndTheExit) {
  grpc::ClientContext context;
  auto stream = stub_->RunAgent(&context);
  ASSERT_TRUE(stream->Write(SpecRequest("run-1", "hello")));
  ASSERT_TRUE(stream->Write(Message("again")));
  v1::RunAgentRequest close;
  close.mutable_input()->set_close(true);
  ASSERT_TRUE(stream->Write(close));
  stream->WritesDone();

  auto responses = ReadToExit(*stream);
  ASSERT_EQ(responses.size(), 6u);
  EXPECT_EQ(responses[0].started().backend(), "process");
  EXPECT_FALSE(responses[0].started().sandbox_id().empty());
  EXPECT_EQ(responses[1].session_id(), "standin-session");
  EXPECT_EQ(responses[2].output(), "echo: hello");
  EXPECT_EQ(responses[3].output(), "echo: again");
  EXPECT_EQ(responses[4].done().status(), "success");
  EXPECT_EQ(responses[5].exit().reason(), v1::EXIT_REASON_EXITED);
  EXPECT_EQ(responses[5].exit().code(), 0);
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(BrokerServiceTest, ToolCallsAreAnsweredOnTheSameStream) {
  grpc::ClientContext context;
  auto stream = stub_->RunAgent(&context);
  ASSERT_TRUE(stream->Write(SpecRequest("run-tool", "standin:tool")));
  v1::RunAgentResponse response;
  while (stream->Read(&response) && !response.has_tool_call()) {
  }
  EXPECT_EQ(response.tool_call().name(), "send_message");
  EXPECT_EQ(response.tool_call().input_json(), R"({"text":"hi"})");
  v1::RunAgentRequest result;
  result.mutable_input()->mutable_tool_result()->set_id("t1");
  result.mutable_input()->mutable_tool_result()->set_ok(true);
  result.mutable_input()->mutable_tool_result()->set_content("delivered");
  ASSERT_TRUE(stream->Write(result));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.output(), "tool_result t1 ok=true delivered");
  stream->WritesDone();
  auto rest = ReadToExit(*stream);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back().exit().reason(), v1::EXIT_REASON_EXITED);
}

TEST_F(BrokerServiceTest, ALiveRunIdIsRefusedWithAlreadyExists) {
  grpc::ClientContext first_context;
  auto first = stub_->RunAgent(&first_context);
  ASSERT_TRUE(first->Write(SpecRequest("dup-1", "standin:sleep 30")));
  v1::RunAgentResponse response;
  ASSERT_TRUE(first->Read(&response));
  ASSERT_TRUE(response.has_started());

  grpc::ClientContext second_context;
  auto second = stub_->RunAgent(&second_context);
  second->Write(SpecRequest("dup-1", "hello"));
  second->WritesDone();
  while (second->Read(&response)) {
  }
  grpc::Status status = second->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(status.error_message(), "run dup-1: already running");

  // ListSandboxes shows the live run; KillSandbox ends it as killed.
  grpc::ClientContext list_context;
  v1::ListSandboxesResponse listed;
  ASSERT_TRUE(stub_->ListSandboxes(&list_context, {}, &listed).ok());
  ASSERT_EQ(listed.sandboxes_size(), 1);
  EXPECT_EQ(listed.sandboxes(0).run_id(), "dup-1");
  EXPECT_EQ(listed.sandboxes(0).group_folder(), "team");
  EXPECT_EQ(listed.sandboxes(0).backend(), "process");

  grpc::ClientContext kill_context;
  v1::KillSandboxRequest kill;
  kill.set_run_id("dup-1");
  v1::KillSandboxResponse killed;
  ASSERT_TRUE(stub_->KillSandbox(&kill_context, kill, &killed).ok());
  auto rest = ReadToExit(*first);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back().exit().reason(), v1::EXIT_REASON_KILLED);
  first->WritesDone();
  EXPECT_TRUE(first->Finish().ok());

  grpc::ClientContext again_context;
  grpc::Status again = stub_->KillSandbox(&again_context, kill, &killed);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(again.error_message(), "kill sandbox dup-1: no such live run");
}

TEST_F(BrokerServiceTest, BadSpecsAreInvalidArgument) {
  grpc::ClientContext context;
  auto stream = stub_->RunAgent(&context);
  v1::RunAgentRequest request = SpecRequest("bad-1", "hello");
  request.mutable_spec()->set_group_folder("../etc");
  stream->Write(request);
  stream->WritesDone();
  v1::RunAgentResponse response;
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "validate run spec group_folder \"../etc\": expected "
            "[A-Za-z0-9][A-Za-z0-9_-]{0,63}, not global");
}

TEST_F(BrokerServiceTest, ACrashedStartEndsAsFailedToStart) {
  // The run folder exists already, as after a crash: creation fails cleanly.
  std::filesystem::create_directories(layout_.state_dir + "/stuck-1");
  grpc::ClientContext context;
  auto stream = stub_->RunAgent(&context);
  ASSERT_TRUE(stream->Write(SpecRequest("stuck-1", "hello")));
  stream->WritesDone();
  auto responses = ReadToExit(*stream);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].exit().reason(), v1::EXIT_REASON_FAILED_TO_START);
  EXPECT_EQ(responses[0].exit().detail(), "create run folder sandbox stuck-1: create run folder " +
                                              layout_.state_dir + "/stuck-1: exists");
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(BrokerServiceTest, CancellingTheCallKillsTheRun) {
  grpc::ClientContext context;
  auto stream = stub_->RunAgent(&context);
  ASSERT_TRUE(stream->Write(SpecRequest("cancel-1", "standin:sleep 30")));
  v1::RunAgentResponse response;
  ASSERT_TRUE(stream->Read(&response));
  context.TryCancel();
  stream->Finish();
  for (int i = 0; i < 100 && !service_->registry().Snapshot().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(service_->registry().Snapshot().empty());
  EXPECT_TRUE(std::filesystem::is_empty(layout_.state_dir));
}

TEST_F(BrokerServiceTest, InfoNamesTheBackendAndLimits) {
  grpc::ClientContext context;
  v1::InfoResponse info;
  ASSERT_TRUE(stub_->Info(&context, {}, &info).ok());
  EXPECT_EQ(info.backend(), "process");
  EXPECT_EQ(info.model(), "test-model");
  EXPECT_EQ(info.default_limits().pids(), 64);
  EXPECT_EQ(info.default_limits().timeout().seconds(), 20);
  EXPECT_FALSE(info.model_key_present());
}

}  // namespace
}  // namespace clawdie::broker::testing
