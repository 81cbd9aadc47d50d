// Test doubles behind the router's own interfaces: a fake clock, a manual
// executor that runs posted work and timers only when a test says so, an
// in-memory store with the semantics store.proto documents, a broker whose
// agents the test plays, and a gateway that records what it was asked to send.
//
// Thread-safety: FakeStore and FakeGateway lock internally; the clock, executor
// and broker are driven from the test's thread.
#ifndef CLAWDIE_SERVICES_ROUTER_TESTING_FAKES_H_
#define CLAWDIE_SERVICES_ROUTER_TESTING_FAKES_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "services/router/broker_client.h"
#include "services/router/clock.h"
#include "services/router/executor.h"
#include "services/router/gateway_client.h"
#include "services/router/store_client.h"

namespace clawdie::router::testing {

class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override { return now_; }
  void Set(absl::Time now) { now_ = now; }

 private:
  absl::Time now_;
};

class ManualExecutor : public Executor {
 public:
  explicit ManualExecutor(FakeClock* clock) : clock_(clock) {}

  void Post(std::function<void()> work) override { work_.push_back(std::move(work)); }
  void PostAt(absl::Time when, std::function<void()> work) override {
    timers_.emplace(when, std::move(work));
  }

  // Runs posted work (and work it posts) and timers due now until nothing is left.
  void RunUntilIdle();

  // Moves the clock forward by `duration`, firing timers in order at their times.
  void AdvanceBy(absl::Duration duration);

  size_t pending_timers() const { return timers_.size(); }

  // Forgets all posted work and timers, as a crashed process would.
  void DropAll() {
    work_.clear();
    timers_.clear();
  }

 private:
  FakeClock* clock_;
  std::deque<std::function<void()>> work_;
  std::multimap<absl::Time, std::function<void()>> timers_;
};

// store.proto's semantics in memory, with a switch to make every call fail as if the store
// were down.
class FakeStore : public StoreClient {
 public:
  explicit FakeStore(const Clock* clock) : clock_(clock) {}

  void SetUnavailable(bool unavailable);
  // The next `count` outbox writes fail with `status` (e.g. the disk is full).
  void FailOutboxWrites(int count, absl::Status status);

  // Test helpers (no RPC equivalent).
  pb::Group AddGroup(const std::string& folder, const std::string& jid, bool is_main = false,
                     bool requires_trigger = true, const std::string& timezone = "");
  std::vector<pb::OutboxEntry> Outbox();
  std::vector<pb::Run> Runs();  // oldest first
  pb::Run RunById(int64_t id);
  int64_t Cursor(const std::string& folder);
  std::string SessionOf(const std::string& folder);
  std::vector<pb::TaskRunLog> TaskLog(int64_t task_id);
  // How often an RPC was called.
  int CallCount(const std::string& rpc);

  absl::StatusOr<pb::AppendMessageResponse> AppendMessage(
      const pb::AppendMessageRequest& request) override;
  absl::StatusOr<pb::ListMessagesResponse> ListMessages(
      const pb::ListMessagesRequest& request) override;
  absl::StatusOr<pb::Chat> UpsertChat(const pb::UpsertChatRequest& request) override;
  absl::StatusOr<pb::ListChatsResponse> ListChats(const pb::ListChatsRequest& request) override;
  absl::StatusOr<pb::Group> CreateGroup(const pb::CreateGroupRequest& request) override;
  absl::StatusOr<pb::Group> UpdateGroup(const pb::UpdateGroupRequest& request) override;
  absl::StatusOr<pb::Group> GetGroup(const pb::GetGroupRequest& request) override;
  absl::StatusOr<pb::ListGroupsResponse> ListGroups(const pb::ListGroupsRequest& request) override;
  absl::StatusOr<pb::DeleteGroupResponse> DeleteGroup(
      const pb::DeleteGroupRequest& request) override;
  absl::StatusOr<pb::Session> GetSession(const pb::GetSessionRequest& request) override;
  absl::StatusOr<pb::Session> SetSession(const pb::SetSessionRequest& request) override;
  absl::StatusOr<pb::Cursor> GetCursor(const pb::GetCursorRequest& request) override;
  absl::StatusOr<pb::Cursor> AdvanceCursor(const pb::AdvanceCursorRequest& request) override;
  absl::StatusOr<pb::Run> BeginRun(const pb::BeginRunRequest& request) override;
  absl::StatusOr<pb::BeginMessageRunResponse> BeginMessageRun(
      const pb::BeginMessageRunRequest& request) override;
  absl::StatusOr<pb::Run> UpdateRun(const pb::UpdateRunRequest& request) override;
  absl::StatusOr<pb::ListRunsResponse> ListRuns(const pb::ListRunsRequest& request) override;
  absl::StatusOr<pb::Task> CreateTask(const pb::CreateTaskRequest& request) override;
  absl::StatusOr<pb::Task> GetTask(const pb::GetTaskRequest& request) override;
  absl::StatusOr<pb::ListTasksResponse> ListTasks(const pb::ListTasksRequest& request) override;
  absl::StatusOr<pb::Task> UpdateTask(const pb::UpdateTaskRequest& request) override;
  absl::StatusOr<pb::ClaimDueTasksResponse> ClaimDueTasks(
      const pb::ClaimDueTasksRequest& request) override;
  absl::StatusOr<pb::Task> CompleteTaskRun(const pb::CompleteTaskRunRequest& request) override;
  absl::StatusOr<pb::ListTaskRunsResponse> ListTaskRuns(
      const pb::ListTaskRunsRequest& request) override;
  absl::StatusOr<pb::OutboxEntry> EnqueueOutbox(const pb::EnqueueOutboxRequest& request) override;
  absl::StatusOr<pb::ListPendingOutboxResponse> ListPendingOutbox(
      const pb::ListPendingOutboxRequest& request) override;
  absl::StatusOr<pb::OutboxEntry> MarkDelivered(const pb::MarkDeliveredRequest& request) override;
  absl::StatusOr<pb::OutboxEntry> MarkFailed(const pb::MarkFailedRequest& request) override;
  absl::StatusOr<pb::OutboxEntry> RecordReceipt(const pb::RecordReceiptRequest& request) override;

 private:
  // Counts the call and fails it while the store is "down".
  absl::Status Check(const char* rpc);
  absl::StatusOr<pb::BeginMessageRunResponse> BeginMessageRunLocked(
      const pb::BeginMessageRunRequest& request);

  const Clock* clock_;
  std::mutex mu_;
  bool unavailable_ = false;
  int outbox_failures_ = 0;
  absl::Status outbox_failure_;
  std::map<std::string, int> calls_;
  int64_t next_seq_ = 1;
  int64_t next_id_ = 1;
  std::vector<pb::Message> messages_;
  std::map<std::string, pb::Chat> chats_;
  std::map<std::string, pb::Group> groups_;  // by folder
  std::map<std::string, std::string> sessions_;
  std::map<std::string, int64_t> cursors_;
  std::map<int64_t, pb::Run> runs_;
  std::map<int64_t, pb::Task> tasks_;
  std::vector<pb::TaskRunLog> task_runs_;
  std::map<int64_t, pb::OutboxEntry> outbox_;
};

class FakeAgentStream;

// One run the router started on the fake broker.
struct FakeRun {
  int64_t run_id = 0;
  pb::RunSpec spec;
  AgentEventHandler* handler = nullptr;
  std::vector<pb::AgentInput> inputs;
  bool started = false;
  bool closed = false;
  bool cancelled = false;
  bool ended = false;
};

class FakeBroker : public AgentBroker {
 public:
  absl::StatusOr<std::unique_ptr<AgentStream>> StartRun(int64_t run_id, const pb::RunSpec& spec,
                                                        AgentEventHandler* handler) override;

  // Makes the next StartRun fail with `status`.
  void FailNextStart(absl::Status status) { fail_next_ = std::move(status); }

  std::vector<FakeRun*> runs();
  FakeRun* last();
  int start_count() const { return static_cast<int>(runs_.size()); }

  // Playing the agent of `run`.
  void Emit(FakeRun* run, const pb::RunAgentResponse& event);
  void Output(FakeRun* run, const std::string& text);
  void Session(FakeRun* run, const std::string& session_id);
  void ToolCall(FakeRun* run, const std::string& id, const std::string& name,
                const std::string& input_json);
  // Emits done (and exit) and ends the stream.
  void Finish(FakeRun* run, const std::string& status = "success", const std::string& error = "");
  // Ends the stream with a transport error and no done event (a broker crash).
  void Break(FakeRun* run, absl::Status status);

  // The follow-up texts the run received, in order.
  static std::vector<std::string> FollowUps(const FakeRun* run);
  // The tool results the run received.
  static std::vector<pb::ToolResult> ToolResults(const FakeRun* run);

 private:
  std::vector<std::unique_ptr<FakeRun>> runs_;
  absl::Status fail_next_;
};

class FakeGateway : public GatewayClient {
 public:
  absl::StatusOr<pb::SendResponse> Send(const pb::SendRequest& request) override;
  absl::Status SetTyping(const pb::SetTypingRequest& request) override;

  // The next Send calls fail with these statuses, in order.
  void FailNextSends(std::vector<absl::Status> errors);

  std::vector<pb::SendRequest> sent();
  std::vector<pb::SetTypingRequest> typing();

 private:
  std::mutex mu_;
  std::deque<absl::Status> failures_;
  std::vector<pb::SendRequest> sent_;
  std::vector<pb::SetTypingRequest> typing_;
  int next_id_ = 1;
};

}  // namespace clawdie::router::testing

#endif  // CLAWDIE_SERVICES_ROUTER_TESTING_FAKES_H_
