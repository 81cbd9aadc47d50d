// The manual executor, fake broker and fake gateway of fakes.h.
#include "services/router/testing/fakes.h"

namespace clawdie::router::testing {

void ManualExecutor::RunUntilIdle() {
  while (true) {
    if (!work_.empty()) {
      std::function<void()> work = std::move(work_.front());
      work_.pop_front();
      work();
      continue;
    }
    if (!timers_.empty() && timers_.begin()->first <= clock_->Now()) {
      std::function<void()> work = std::move(timers_.begin()->second);
      timers_.erase(timers_.begin());
      work();
      continue;
    }
    return;
  }
}

void ManualExecutor::AdvanceBy(absl::Duration duration) {
  absl::Time target = clock_->Now() + duration;
  RunUntilIdle();
  while (!timers_.empty() && timers_.begin()->first <= target) {
    clock_->Set(std::max(clock_->Now(), timers_.begin()->first));
    RunUntilIdle();
  }
  clock_->Set(target);
  RunUntilIdle();
}

// The router's end of a fake run: records what the router sends.
class FakeAgentStream : public AgentStream {
 public:
  explicit FakeAgentStream(FakeRun* run) : run_(run) {}

  void Start() override { run_->started = true; }

  absl::Status Send(const pb::AgentInput& input) override {
    if (run_->ended || run_->closed) return absl::FailedPreconditionError("send: stream closed");
    run_->inputs.push_back(input);
    return absl::OkStatus();
  }

  void Close() override {
    if (run_->closed) return;
    pb::AgentInput input;
    input.set_close(true);
    run_->inputs.push_back(input);
    run_->closed = true;
  }

  void Cancel() override { run_->cancelled = true; }

 private:
  FakeRun* run_;
};

absl::StatusOr<std::unique_ptr<AgentStream>> FakeBroker::StartRun(int64_t run_id,
                                                                  const pb::RunSpec& spec,
                                                                  AgentEventHandler* handler) {
  if (!fail_next_.ok()) {
    absl::Status status = fail_next_;
    fail_next_ = absl::OkStatus();
    return status;
  }
  auto run = std::make_unique<FakeRun>();
  run->run_id = run_id;
  run->spec = spec;
  run->handler = handler;
  runs_.push_back(std::move(run));
  return std::unique_ptr<AgentStream>(std::make_unique<FakeAgentStream>(runs_.back().get()));
}

std::vector<FakeRun*> FakeBroker::runs() {
  std::vector<FakeRun*> out;
  for (const auto& run : runs_) out.push_back(run.get());
  return out;
}

FakeRun* FakeBroker::last() { return runs_.empty() ? nullptr : runs_.back().get(); }

void FakeBroker::Emit(FakeRun* run, const pb::RunAgentResponse& event) {
  run->handler->OnAgentEvent(run->run_id, event);
}

void FakeBroker::Output(FakeRun* run, const std::string& text) {
  pb::RunAgentResponse event;
  event.set_output(text);
  Emit(run, event);
}

void FakeBroker::Session(FakeRun* run, const std::string& session_id) {
  pb::RunAgentResponse event;
  event.set_session_id(session_id);
  Emit(run, event);
}

void FakeBroker::ToolCall(FakeRun* run, const std::string& id, const std::string& name,
                          const std::string& input_json) {
  pb::RunAgentResponse event;
  event.mutable_tool_call()->set_id(id);
  event.mutable_tool_call()->set_name(name);
  event.mutable_tool_call()->set_input_json(input_json);
  Emit(run, event);
}

void FakeBroker::Finish(FakeRun* run, const std::string& status, const std::string& error) {
  pb::RunAgentResponse done;
  done.mutable_done()->set_status(status);
  done.mutable_done()->set_error(error);
  Emit(run, done);
  pb::RunAgentResponse exit;
  exit.mutable_exit()->set_code(status == "success" ? 0 : 1);
  exit.mutable_exit()->set_reason(pb::EXIT_REASON_EXITED);
  Emit(run, exit);
  run->ended = true;
  run->handler->OnAgentStreamEnd(run->run_id, absl::OkStatus());
}

void FakeBroker::Break(FakeRun* run, absl::Status status) {
  run->ended = true;
  run->handler->OnAgentStreamEnd(run->run_id, status);
}

std::vector<std::string> FakeBroker::FollowUps(const FakeRun* run) {
  std::vector<std::string> out;
  for (const pb::AgentInput& input : run->inputs) {
    if (input.kind_case() == pb::AgentInput::kMessage) out.push_back(input.message());
  }
  return out;
}

std::vector<pb::ToolResult> FakeBroker::ToolResults(const FakeRun* run) {
  std::vector<pb::ToolResult> out;
  for (const pb::AgentInput& input : run->inputs) {
    if (input.kind_case() == pb::AgentInput::kToolResult) out.push_back(input.tool_result());
  }
  return out;
}

absl::StatusOr<pb::SendResponse> FakeGateway::Send(const pb::SendRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  sent_.push_back(request);
  if (!failures_.empty()) {
    absl::Status status = failures_.front();
    failures_.pop_front();
    return status;
  }
  pb::SendResponse response;
  response.add_platform_message_ids("p" + std::to_string(next_id_++));
  return response;
}

absl::Status FakeGateway::SetTyping(const pb::SetTypingRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  typing_.push_back(request);
  return absl::OkStatus();
}

void FakeGateway::FailNextSends(std::vector<absl::Status> errors) {
  std::lock_guard<std::mutex> lock(mu_);
  for (absl::Status& status : errors) failures_.push_back(std::move(status));
}

std::vector<pb::SendRequest> FakeGateway::sent() {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}

std::vector<pb::SetTypingRequest> FakeGateway::typing() {
  std::lock_guard<std::mutex> lock(mu_);
  return typing_;
}

}  // namespace clawdie::router::testing
