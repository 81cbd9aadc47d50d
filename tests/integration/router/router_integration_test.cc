// clawdie-router with the real clawdie-store and clawdie-broker (process backend running the
// agent stand-in, which answers "echo: <prompt>"), each on its own Unix socket in a short
// temporary directory. The gateway is a gRPC server inside the test that records sends.
#include <signal.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/time/clock.h"
#include "clawdie/v1/gateway.grpc.pb.h"
#include "clawdie/v1/router.grpc.pb.h"
#include "clawdie/v1/store.grpc.pb.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "tests/testing/testing.h"

namespace clawdie {
namespace {

using testing::ChildProcess;

// Records Gateway.Send and SetTyping calls and answers like a channel that delivered.
class RecordingGateway final : public v1::Gateway::Service {
 public:
  grpc::Status Send(grpc::ServerContext*, const v1::SendRequest* request,
                    v1::SendResponse* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    sent_.push_back(*request);
    response->add_platform_message_ids("local-" + std::to_string(sent_.size()));
    cv_.notify_all();
    return grpc::Status::OK;
  }

  grpc::Status SetTyping(grpc::ServerContext*, const v1::SetTypingRequest*,
                         v1::SetTypingResponse*) override {
    return grpc::Status::OK;
  }

  // Waits until at least `count` sends arrived; returns them.
  std::vector<v1::SendRequest> WaitForSends(size_t count, absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] { return sent_.size() >= count; });
    return sent_;
  }

  std::vector<v1::SendRequest> sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::SendRequest> sent_;
};

class RouterIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("cwr");
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + dir_ + "/gateway.sock", grpc::InsecureServerCredentials());
    builder.RegisterService(&gateway_);
    gateway_server_ = builder.BuildAndStart();
    ASSERT_NE(gateway_server_, nullptr);
    StartStore();
    StartBroker();
    store_ = v1::Store::NewStub(testing::Connect(Target("store")));
    router_stub_ = v1::Router::NewStub(testing::Connect(Target("router")));
  }

  void TearDown() override {
    for (ChildProcess* child : {&router_, &broker_, &store_process_}) {
      child->Signal(SIGTERM);
      child->Wait(absl::Seconds(10)).IgnoreError();
    }
    if (HasFailure()) {
      std::cerr << "--- router log ---\n"
                << router_.Log() << "\n--- broker log ---\n"
                << broker_.Log() << "\n";
    }
    gateway_server_->Shutdown();
  }

  std::string Target(const std::string& name) { return "unix:" + dir_ + "/" + name + ".sock"; }

  std::map<std::string, std::string> Env(const std::string& idle_timeout) {
    return {
        {"CLAWDIE_DATA_DIR", dir_ + "/data"},
        {"CLAWDIE_RUN_DIR", dir_},
        {"CLAWDIE_STORE_ADDR", Target("store")},
        {"CLAWDIE_BROKER_ADDR", Target("broker")},
        {"CLAWDIE_GATEWAY_ADDR", Target("gateway")},
        {"CLAWDIE_SANDBOX", "process"},
        {"CLAWDIE_AGENT_PATH", testing::BinaryPath("tests/agent_standin/clawdie-agent-standin")},
        {"IDLE_TIMEOUT", idle_timeout},
        {"TZ", "UTC"},
        {"LOG_LEVEL", "debug"}};
  }

  void StartStore() {
    auto child = ChildProcess::Start({testing::BinaryPath("services/store/clawdie-store"),
                                      "--listen", Target("store"), "--data-dir", dir_ + "/data"},
                                     dir_ + "/store.log");
    ASSERT_TRUE(child.ok()) << child.status();
    store_process_ = std::move(*child);
    ASSERT_TRUE(testing::WaitServing(Target("store"), "", absl::Seconds(20)));
  }

  void StartBroker() {
    auto child = ChildProcess::Start(
        {testing::BinaryPath("services/broker/clawdie-broker"), "--listen", Target("broker")},
        dir_ + "/broker.log", Env("5s"));
    ASSERT_TRUE(child.ok()) << child.status();
    broker_ = std::move(*child);
    ASSERT_TRUE(testing::WaitServing(Target("broker"), "", absl::Seconds(20))) << broker_.Log();
  }

  void StartRouter(const std::string& idle_timeout) {
    auto child = ChildProcess::Start(
        {testing::BinaryPath("services/router/clawdie-router"), "--listen", Target("router")},
        dir_ + "/router.log", Env(idle_timeout));
    ASSERT_TRUE(child.ok()) << child.status();
    router_ = std::move(*child);
    ASSERT_TRUE(testing::WaitServing(Target("router"), "", absl::Seconds(20))) << router_.Log();
  }

  void RegisterAlice() {
    v1::RegisterGroupRequest request;
    request.mutable_group()->set_chat_jid("local:alice");
    request.mutable_group()->set_name("Alice");
    request.mutable_group()->set_folder("alice");
    request.set_requires_trigger(false);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::Group group;
    grpc::Status status = router_stub_->RegisterGroup(&context, request, &group);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(group.requires_trigger() == false);
    EXPECT_EQ(group.trigger(), "@Andy");
  }

  v1::IngestResponse Ingest(const std::string& id, const std::string& text) {
    v1::IngestRequest request;
    request.mutable_message()->set_chat_jid("local:alice");
    request.mutable_message()->set_platform_message_id(id);
    request.mutable_message()->set_sender_name("Alice");
    request.mutable_message()->set_text(text);
    request.mutable_message()->mutable_time()->set_seconds(1767949200);  // 2026-01-09 09:00Z
    request.mutable_chat()->set_jid("local:alice");
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    context.set_wait_for_ready(true);
    v1::IngestResponse response;
    grpc::Status status = router_stub_->Ingest(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::vector<v1::Run> Runs() {
    v1::ListRunsRequest request;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::ListRunsResponse response;
    EXPECT_TRUE(store_->ListRuns(&context, request, &response).ok());
    return {response.runs().begin(), response.runs().end()};
  }

  int64_t Cursor() {
    v1::GetCursorRequest request;
    request.set_group_folder("alice");
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::Cursor cursor;
    EXPECT_TRUE(store_->GetCursor(&context, request, &cursor).ok());
    return cursor.seq();
  }

  // Polls the store until the newest run reaches `state`.
  bool WaitForRunState(v1::RunState state, absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      std::vector<v1::Run> runs = Runs();
      if (!runs.empty() && runs[0].state() == state) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  // Polls until no outbox entry is pending (every reply acknowledged or failed).
  bool WaitForOutboxEmpty(absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      v1::ListPendingOutboxRequest request;
      *request.mutable_now() = google::protobuf::Timestamp();
      request.mutable_now()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 3600);
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
      v1::ListPendingOutboxResponse response;
      if (store_->ListPendingOutbox(&context, request, &response).ok() &&
          response.entries_size() == 0) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  static std::string Echo(const std::string& text) {
    return "echo: <messages>\n<message sender=\"Alice\" time=\"2026-01-09 09:00 UTC\">" + text +
           "</message>\n</messages>";
  }

  std::string dir_;
  RecordingGateway gateway_;
  std::unique_ptr<grpc::Server> gateway_server_;
  ChildProcess store_process_;
  ChildProcess broker_;
  ChildProcess router_;
  std::unique_ptr<v1::Store::Stub> store_;
  std::unique_ptr<v1::Router::Stub> router_stub_;
};

TEST_F(RouterIntegrationTest, AMessageBecomesARunWhoseReplyIsDeliveredFromTheOutbox) {
  StartRouter("1s");
  RegisterAlice();
  v1::IngestResponse response = Ingest("1", "hello <b>there</b>");
  EXPECT_TRUE(response.inserted());
  EXPECT_TRUE(response.registered());
  EXPECT_TRUE(response.triggered());

  std::vector<v1::SendRequest> sent = gateway_.WaitForSends(1, absl::Seconds(20));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].chat_jid(), "local:alice");
  EXPECT_EQ(sent[0].text(), Echo("hello &lt;b&gt;there&lt;/b&gt;"));
  EXPECT_GT(sent[0].outbox_id(), 0);

  // The idle agent is closed after IDLE_TIMEOUT; the run ends and the cursor moves.
  ASSERT_TRUE(WaitForRunState(v1::RUN_STATE_SUCCEEDED, absl::Seconds(20)));
  std::vector<v1::Run> runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(runs[0].output_delivered());
  EXPECT_EQ(runs[0].session_id(), "standin-session");
  EXPECT_EQ(Cursor(), response.seq());

  v1::ListPendingOutboxRequest pending;
  grpc::ClientContext context;
  v1::ListPendingOutboxResponse outbox;
  ASSERT_TRUE(store_->ListPendingOutbox(&context, pending, &outbox).ok());
  EXPECT_EQ(outbox.entries_size(), 0);
}

TEST_F(RouterIntegrationTest, GroupSettingsAreCheckedWhenRegisteredAndUpdated) {
  StartRouter("1s");
  auto register_group = [&](const std::string& chat, const std::string& folder,
                            const std::string& zone, int64_t timeout_seconds) {
    v1::RegisterGroupRequest request;
    request.mutable_group()->set_chat_jid(chat);
    request.mutable_group()->set_folder(folder);
    request.mutable_group()->set_timezone(zone);
    request.mutable_group()->mutable_sandbox()->mutable_timeout()->set_seconds(timeout_seconds);
    grpc::ClientContext context;
    v1::Group group;
    return router_stub_->RegisterGroup(&context, request, &group);
  };
  grpc::Status zone = register_group("local:bob", "bob", "Europe/Berln", 0);
  EXPECT_EQ(zone.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(zone.error_message().find("time zone \"Europe/Berln\""), std::string::npos)
      << zone.error_message();
  EXPECT_EQ(register_group("local:../../x", "bob", "", 0).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(register_group("local:bob", "bob", "", -5).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(register_group("local:bob", "Global", "", 0).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(register_group("local:bob", "bob", "Europe/Berlin", 0).ok());

  // An update is checked the same way; an empty trigger keeps the current one.
  v1::UpdateGroupRequest update;
  update.mutable_group()->set_chat_jid("local:bob");
  update.mutable_group()->set_folder("bob");
  update.mutable_group()->set_requires_trigger(true);
  update.mutable_group()->set_timezone("../../../etc/passwd");
  grpc::ClientContext bad_context;
  v1::Group updated;
  EXPECT_EQ(router_stub_->UpdateGroup(&bad_context, update, &updated).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  update.mutable_group()->set_timezone("Asia/Tokyo");
  grpc::ClientContext context;
  ASSERT_TRUE(router_stub_->UpdateGroup(&context, update, &updated).ok());
  EXPECT_EQ(updated.trigger(), "@Andy");
  EXPECT_EQ(updated.timezone(), "Asia/Tokyo");
}

TEST_F(RouterIntegrationTest, TheMainGroupIsNotDemotedByAnUpdate) {
  StartRouter("1s");
  v1::RegisterGroupRequest request;
  request.mutable_group()->set_chat_jid("local:me");
  request.mutable_group()->set_folder("main");
  request.mutable_group()->set_is_main(true);
  grpc::ClientContext register_context;
  v1::Group group;
  ASSERT_TRUE(router_stub_->RegisterGroup(&register_context, request, &group).ok());

  v1::UpdateGroupRequest update;
  *update.mutable_group() = group;
  update.mutable_group()->set_is_main(false);
  grpc::ClientContext context;
  v1::Group updated;
  grpc::Status status = router_stub_->UpdateGroup(&context, update, &updated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("it is the main group"), std::string::npos);
}

TEST_F(RouterIntegrationTest, HealthIsNotServingWhileTheStoreIsDown) {
  StartRouter("1s");
  store_process_.Signal(SIGKILL);
  ASSERT_TRUE(store_process_.Wait(absl::Seconds(10)).ok());
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  int health = 1;
  while (absl::Now() < deadline && health != 2) {
    health = testing::CheckHealth(Target("router"), "", absl::Seconds(1));
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(health, 2);
  StartStore();
  EXPECT_TRUE(testing::WaitServing(Target("router"), "", absl::Seconds(10)));
}

TEST_F(RouterIntegrationTest, ARunInterruptedBeforeItsReplyIsRedoneAfterARestart) {
  StartRouter("1s");
  RegisterAlice();
  // The broker hangs, so the router records the run but gets no answer; then it is killed.
  broker_.Signal(SIGSTOP);
  Ingest("1", "are you there?");
  absl::SleepFor(absl::Milliseconds(500));
  std::vector<v1::Run> before = Runs();
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].state(), v1::RUN_STATE_PENDING);
  router_.Signal(SIGKILL);
  ASSERT_TRUE(router_.Wait(absl::Seconds(10)).ok());
  broker_.Signal(SIGCONT);

  StartRouter("1s");
  std::vector<v1::SendRequest> sent = gateway_.WaitForSends(1, absl::Seconds(20));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].text(), Echo("are you there?"));
  ASSERT_TRUE(WaitForRunState(v1::RUN_STATE_SUCCEEDED, absl::Seconds(20)));
  std::vector<v1::Run> after = Runs();
  ASSERT_EQ(after.size(), 1u);  // the same run record was redone
  EXPECT_EQ(after[0].id(), before[0].id());
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(gateway_.sent().size(), 1u);
}

TEST_F(RouterIntegrationTest, ARunKilledAfterItsReplyWasDeliveredIsNotSentAgain) {
  StartRouter("30s");
  RegisterAlice();
  v1::IngestResponse response = Ingest("1", "hello");
  ASSERT_EQ(gateway_.WaitForSends(1, absl::Seconds(20)).size(), 1u);
  // Killed only once the delivery was acknowledged: a crash between Gateway.Send and
  // MarkDelivered may send again (at-least-once), which docs/router.md states.
  ASSERT_TRUE(WaitForOutboxEmpty(absl::Seconds(10)));
  // The agent idles for follow-ups (IDLE_TIMEOUT 30s): the run is unfinished when we kill.
  std::vector<v1::Run> before = Runs();
  ASSERT_EQ(before.size(), 1u);
  ASSERT_TRUE(before[0].state() == v1::RUN_STATE_RUNNING ||
              before[0].state() == v1::RUN_STATE_PENDING);
  router_.Signal(SIGKILL);
  ASSERT_TRUE(router_.Wait(absl::Seconds(10)).ok());

  StartRouter("30s");
  ASSERT_TRUE(WaitForRunState(v1::RUN_STATE_FAILED, absl::Seconds(20)));
  std::vector<v1::Run> after = Runs();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].error(), "interrupted by a restart after its reply was delivered");
  EXPECT_EQ(Cursor(), response.seq());
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(gateway_.sent().size(), 1u);
}

}  // namespace
}  // namespace clawdie
