// A live run's events (output, tool calls, session, done, exit) and how a run ends: cursor,
// session, retry with backoff, giving up, and the task run log.
#include <algorithm>

#include "services/router/policy.h"
#include "services/router/proto_time.h"
#include "services/router/router.h"
#include "services/router/router_log.h"
#include "services/router/trigger.h"

namespace clawdie::router {
namespace {

// The longest result text kept in a task's run log.
constexpr size_t kMaxTaskResult = 500;

std::string GiveUpText(int attempts) {
  return "Sorry, I could not answer: the last " + std::to_string(attempts) +
         " attempts failed. I will try again when the next message arrives.";
}

void LogIfFailed(const absl::Status& status, const std::string& folder, int64_t run_id) {
  if (status.ok()) return;
  Log()->warn("group {} run {}: {}", folder, run_id, std::string(status.message()));
}

}  // namespace

void Router::WriteUntilStored(std::vector<StoreWrite> writes, std::string what, int attempt) {
  constexpr int kAttempts = 15;
  while (!writes.empty()) {
    absl::Status status = writes.front()();
    if (status.ok()) {
      writes.erase(writes.begin());
      continue;
    }
    bool may_pass = absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
                    absl::IsResourceExhausted(status) || absl::IsAborted(status);
    if (!may_pass || attempt >= kAttempts) {
      Log()->error("{}: {}{}", what, std::string(status.message()),
                   may_pass ? " (giving up; a router restart settles the run)" : "");
      return;
    }
    absl::Duration wait = std::min(absl::Seconds(1 << std::min(attempt - 1, 6)), absl::Seconds(60));
    Log()->warn("{}: {}; trying again in {}", what, std::string(status.message()),
                absl::FormatDuration(wait));
    executor_->PostAt(clock_->Now() + wait,
                      [this, writes = std::move(writes), what = std::move(what), attempt] {
                        WriteUntilStored(writes, what, attempt + 1);
                      });
    return;
  }
  if (attempt > 1) Log()->info("{}: stored after {} attempts", what, attempt);
}

void Router::StoreRunEnd(const std::shared_ptr<ActiveRun>& run,
                         std::optional<pb::AdvanceCursorRequest> advance,
                         pb::UpdateRunRequest update) {
  std::vector<StoreWrite> writes;
  if (advance.has_value()) {
    writes.push_back(
        [this, advance = *advance] { return store_->AdvanceCursor(advance).status(); });
  }
  writes.push_back(
      [this, update = std::move(update)] { return store_->UpdateRun(update).status(); });
  WriteUntilStored(std::move(writes), "group " + run->folder + " run " +
                                          std::to_string(run->run_id) + ": record its end");
}

std::shared_ptr<Router::ActiveRun> Router::FindRun(int64_t run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(run_id);
  return it == runs_.end() ? nullptr : it->second;
}

void Router::OnAgentEvent(int64_t run_id, const pb::RunAgentResponse& event) {
  std::shared_ptr<ActiveRun> run = FindRun(run_id);
  if (run == nullptr) return;
  switch (event.kind_case()) {
    case pb::RunAgentResponse::kStarted: {
      pb::UpdateRunRequest update;
      update.set_run_id(run_id);
      update.set_state(pb::RUN_STATE_RUNNING);
      update.set_add_attempt(true);
      LogIfFailed(store_->UpdateRun(update).status(), run->folder, run_id);
      Log()->debug("group {} run {}: sandbox {} ({})", run->folder, run_id,
                   event.started().sandbox_id(), event.started().backend());
      break;
    }
    case pb::RunAgentResponse::kOutput:
      HandleOutput(run, event.output());
      break;
    case pb::RunAgentResponse::kToolCall:
      HandleToolCall(run, event.tool_call());
      break;
    case pb::RunAgentResponse::kSessionId: {
      std::lock_guard<std::mutex> lock(mu_);
      run->new_session = event.session_id();
      break;
    }
    case pb::RunAgentResponse::kDone: {
      std::lock_guard<std::mutex> lock(mu_);
      run->done = true;
      run->done_status = event.done().status();
      run->done_error = event.done().error();
      break;
    }
    case pb::RunAgentResponse::kStderrTail:
      Log()->debug("group {} run {}: agent stderr: {}", run->folder, run_id, event.stderr_tail());
      break;
    case pb::RunAgentResponse::kExit: {
      std::lock_guard<std::mutex> lock(mu_);
      run->exited = true;
      run->exit_code = event.exit().code();
      // The broker's idle limit and ours are the same IDLE_TIMEOUT: an agent that answered
      // and then waited for follow-ups until either side ended it finished normally.
      bool answered_then_idle =
          event.exit().reason() == pb::EXIT_REASON_IDLE && (run->output_delivered || run->idle);
      run->ended_idle = answered_then_idle;
      if (!answered_then_idle &&
          (event.exit().reason() != pb::EXIT_REASON_EXITED || event.exit().code() != 0)) {
        run->exit_detail = event.exit().detail().empty()
                               ? "agent exit code " + std::to_string(event.exit().code())
                               : event.exit().detail();
      }
      break;
    }
    default:
      break;
  }
}

void Router::OnAgentStreamEnd(int64_t run_id, const absl::Status& status) {
  std::shared_ptr<ActiveRun> run = FindRun(run_id);
  if (run != nullptr) FinishRun(run, status);
}

void Router::HandleOutput(const std::shared_ptr<ActiveRun>& run, const std::string& raw) {
  std::string text = FitReply(StripInternal(raw), static_cast<size_t>(options_.max_reply_bytes));
  if (!text.empty()) {
    int64_t seen;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen = run->last_seq;
    }
    // The outbox entry's own commit marks the run delivered and answered up to `seen`, so a
    // restart never finds this reply with its run looking undelivered.
    absl::StatusOr<pb::OutboxEntry> entry =
        deliverer_.Enqueue(run->chat_jid, text, run->run_id, seen);
    if (entry.ok() && seen == 0) {
      MarkOutputDelivered(run);
    } else if (entry.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      run->output_delivered = true;
    } else {
      // Not in the outbox means not delivered: the run ends as failed, and is retried when
      // nothing of it was delivered before.
      std::string why = "its reply could not be queued: " + std::string(entry.status().message());
      Log()->error("group {} run {}: {}", run->folder, run->run_id, why);
      {
        std::lock_guard<std::mutex> lock(mu_);
        run->reply_lost = why;
      }
      CloseRun(run, "its reply could not be queued");
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    run->last_output = text;
    run->answered_seq = std::max(run->answered_seq, seen);
  }
  BecomeIdle(run);
}

void Router::MarkOutputDelivered(const std::shared_ptr<ActiveRun>& run) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (run->output_delivered) return;
    run->output_delivered = true;
  }
  pb::UpdateRunRequest update;
  update.set_run_id(run->run_id);
  update.set_output_delivered(true);
  LogIfFailed(store_->UpdateRun(update).status(), run->folder, run->run_id);
}

void Router::BecomeIdle(const std::shared_ptr<ActiveRun>& run) {
  bool task_waiting = false;
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (run->pending_tool_calls > 0 || run->closing) return;
    run->idle = true;
    generation = ++run->idle_generation;
    queue_.SetIdle(run->folder, true);
    task_waiting = queue_.HasWaitingTask(run->folder);
  }
  SetTyping(run->chat_jid, false);
  if (task_waiting) {
    CloseRun(run, "a scheduled task is due");
    return;
  }
  StartAvailable();  // closes this agent at once when another group waits for its slot
  executor_->PostAt(clock_->Now() + options_.idle_timeout, [this, id = run->run_id, generation] {
    std::shared_ptr<ActiveRun> live = FindRun(id);
    if (live == nullptr) return;
    bool still_idle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      still_idle = live->idle && live->idle_generation == generation;
    }
    if (still_idle) CloseRun(live, "idle timeout");
  });
}

void Router::HandleToolCall(const std::shared_ptr<ActiveRun>& run, const pb::ToolCall& call) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++run->pending_tool_calls;
    run->idle = false;
    ++run->idle_generation;
    queue_.SetIdle(run->folder, false);
  }
  Log()->debug("group {} run {}: tool call {} {}", run->folder, run->run_id, call.id(),
               call.name());
  ToolOutcome outcome =
      tools_.Handle(Caller{run->folder, run->chat_jid, run->is_main}, run->run_id, call);
  if (outcome.delivered_to_own_chat) MarkOutputDelivered(run);
  pb::AgentInput input;
  *input.mutable_tool_result() = outcome.result;
  absl::Status sent = run->stream->Send(input);
  if (!sent.ok()) {
    Log()->debug("group {} run {}: tool result {}: {}", run->folder, run->run_id, call.id(),
                 std::string(sent.message()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  --run->pending_tool_calls;
}

void Router::CloseRun(const std::shared_ptr<ActiveRun>& run, const char* why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (run->closing || run->stream == nullptr) return;
    run->closing = true;
    queue_.SetClosing(run->folder);
  }
  Log()->info("group {} run {}: closing the agent ({})", run->folder, run->run_id, why);
  run->stream->Close();
}

void Router::SetTyping(const std::string& chat_jid, bool typing) {
  executor_->Post([this, chat_jid, typing] {
    pb::SetTypingRequest request;
    request.set_chat_jid(chat_jid);
    request.set_typing(typing);
    absl::Status status = gateway_->SetTyping(request);
    if (!status.ok()) Log()->debug("typing {}: {}", chat_jid, std::string(status.message()));
  });
}

void Router::FinishRun(const std::shared_ptr<ActiveRun>& run, const absl::Status& stream_status) {
  bool success;
  bool stopping;
  std::string error;
  {
    std::lock_guard<std::mutex> lock(mu_);
    runs_.erase(run->run_id);
    auto it = run_of_group_.find(run->folder);
    if (it != run_of_group_.end() && it->second == run) run_of_group_.erase(it);
    auto by_chat = run_of_chat_.find(run->chat_jid);
    if (by_chat != run_of_chat_.end() && by_chat->second == run) run_of_chat_.erase(by_chat);
    queue_.SetClosing(run->folder);  // later messages wait for a new run
    stopping = stopping_;
    success = run->done
                  ? run->done_status == "success"
                  : run->exited && (run->exit_code == 0 || run->ended_idle) && stream_status.ok();
    if (!run->done_error.empty()) {
      error = run->done_error;
    } else if (!run->exit_detail.empty()) {
      error = run->exit_detail;
    } else if (!stream_status.ok()) {
      error = std::string(stream_status.message());
    }
    if (!success && error.empty()) error = "the agent ended without a result";
    if (!run->reply_lost.empty()) {
      success = false;
      error = run->reply_lost;
    }
  }
  if (stopping) {
    // Left unfinished in the store on purpose: the next start re-queues it.
    Log()->info("group {} run {}: interrupted by shutdown", run->folder, run->run_id);
    std::lock_guard<std::mutex> lock(mu_);
    runs_cv_.notify_all();
    return;
  }
  SetTyping(run->chat_jid, false);

  absl::Duration delay;
  Next next = run->is_task ? FinishTaskRun(run, success, error)
                           : FinishMessageRun(run, success, error, &delay);
  Log()->info(
      "group {} run {}: {} after {}{}", run->folder, run->run_id, success ? "succeeded" : "failed",
      absl::FormatDuration(absl::Trunc(clock_->Now() - run->started_at, absl::Milliseconds(1))),
      success ? "" : ": " + error);
  ApplyNext(run, next, delay);
}

Router::Next Router::FinishMessageRun(const std::shared_ptr<ActiveRun>& run, bool success,
                                      const std::string& error, absl::Duration* delay) {
  int64_t last_seq;
  int64_t answered_seq;
  bool delivered;
  std::string session;
  RetryState retry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_seq = run->last_seq;
    answered_seq = run->answered_seq;
    delivered = run->output_delivered;
    session = run->new_session;
    auto it = retries_.find(run->folder);
    if (it != retries_.end()) retry = it->second;
  }
  pb::UpdateRunRequest update;
  update.set_run_id(run->run_id);
  pb::AdvanceCursorRequest advance;
  advance.set_group_folder(run->folder);
  advance.set_seq(last_seq);

  if (success) {
    // Cursor and session first: a run seen as finished has its effects in place.
    if (!session.empty()) {
      pb::SetSessionRequest set;
      set.set_group_folder(run->folder);
      set.set_session_id(session);
      LogIfFailed(store_->SetSession(set).status(), run->folder, run->run_id);
    }
    update.set_state(pb::RUN_STATE_SUCCEEDED);
    update.set_session_id(session);
    StoreRunEnd(run, advance, std::move(update));
    std::lock_guard<std::mutex> lock(mu_);
    retries_.erase(run->folder);
    return Next::kDone;
  }

  update.set_error(error);
  if (!delivered && !run->session_used.empty() && !retry.session_retry_used &&
      IsUnknownSessionError(error)) {
    Log()->warn("group {} run {}: session {} is unknown to the agent; retrying with a fresh one",
                run->folder, run->run_id, run->session_used);
    pb::SetSessionRequest clear;
    clear.set_group_folder(run->folder);
    LogIfFailed(store_->SetSession(clear).status(), run->folder, run->run_id);
    update.set_state(pb::RUN_STATE_PENDING);
    LogIfFailed(store_->UpdateRun(update).status(), run->folder, run->run_id);
    std::lock_guard<std::mutex> lock(mu_);
    RetryState& state = retries_[run->folder];
    state.session_retry_used = true;
    state.run_id = run->run_id;
    return Next::kRetryNow;
  }

  if (delivered) {
    // Part of the answer reached the chat: redoing the run would repeat it. What the agent
    // saw before its latest reply counts as answered; follow-ups piped after that reply got
    // none, so they stay after the cursor and a new run answers them.
    advance.set_seq(answered_seq);
    update.set_state(pb::RUN_STATE_FAILED);
    StoreRunEnd(run, advance, std::move(update));
    if (last_seq > answered_seq) {
      Log()->warn(
          "group {} run {}: failed before answering messages up to seq {}; a new run "
          "answers them",
          run->folder, run->run_id, last_seq);
    }
    std::lock_guard<std::mutex> lock(mu_);
    retries_.erase(run->folder);
    return last_seq > answered_seq ? Next::kRetryNow : Next::kDone;
  }

  int failures = retry.failures + 1;
  std::optional<absl::Duration> wait = RunRetryDelay(options_.run_retry_delays, failures);
  if (wait.has_value()) {
    update.set_state(pb::RUN_STATE_PENDING);
    LogIfFailed(store_->UpdateRun(update).status(), run->folder, run->run_id);
    *delay = *wait;
    Log()->warn("group {} run {}: failure {} before any reply; retrying in {}", run->folder,
                run->run_id, failures, absl::FormatDuration(*wait));
    std::lock_guard<std::mutex> lock(mu_);
    RetryState& state = retries_[run->folder];
    state.failures = failures;
    state.run_id = run->run_id;
    return Next::kRetryLater;
  }

  update.set_state(pb::RUN_STATE_ABANDONED);
  StoreRunEnd(run, std::nullopt, std::move(update));
  Log()->warn("group {} run {}: given up after {} attempts: {}", run->folder, run->run_id, failures,
              error);
  LogIfFailed(deliverer_.Enqueue(run->chat_jid, GiveUpText(failures), run->run_id).status(),
              run->folder, run->run_id);
  std::lock_guard<std::mutex> lock(mu_);
  retries_.erase(run->folder);
  return Next::kGiveUp;
}

Router::Next Router::FinishTaskRun(const std::shared_ptr<ActiveRun>& run, bool success,
                                   const std::string& error) {
  int64_t last_seq;
  bool delivered;
  std::string session;
  std::string output;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_seq = run->last_seq;
    delivered = run->output_delivered;
    session = run->new_session;
    output = run->last_output;
  }
  QueueWork& work = run->task_work;
  bool group_mode = work.task.context_mode() == pb::CONTEXT_MODE_GROUP;
  pb::UpdateRunRequest update;
  update.set_run_id(run->run_id);
  update.set_error(success ? "" : error);

  if (!success && !delivered && group_mode && !run->session_used.empty() &&
      !work.session_retry_used && IsUnknownSessionError(error)) {
    Log()->warn("group {} task {}: session {} is unknown to the agent; retrying with a fresh one",
                run->folder, work.task.id(), run->session_used);
    pb::SetSessionRequest clear;
    clear.set_group_folder(run->folder);
    LogIfFailed(store_->SetSession(clear).status(), run->folder, run->run_id);
    update.set_state(pb::RUN_STATE_PENDING);
    LogIfFailed(store_->UpdateRun(update).status(), run->folder, run->run_id);
    work.session_retry_used = true;
    work.resume_run_id = run->run_id;
    return Next::kRetryNow;
  }

  if (success && group_mode && !session.empty()) {
    pb::SetSessionRequest set;
    set.set_group_folder(run->folder);
    set.set_session_id(session);
    LogIfFailed(store_->SetSession(set).status(), run->folder, run->run_id);
  }
  std::optional<pb::AdvanceCursorRequest> advance;
  if ((success || delivered) && last_seq > run->initial_cursor) {
    advance.emplace();
    advance->set_group_folder(run->folder);
    advance->set_seq(last_seq);
  }
  update.set_state(success ? pb::RUN_STATE_SUCCEEDED : pb::RUN_STATE_FAILED);
  // An isolated task's session is its own; only group-mode runs continue the group's session.
  if (success && group_mode) update.set_session_id(session);
  StoreRunEnd(run, std::move(advance), std::move(update));

  pb::CompleteTaskRunRequest complete;
  complete.set_task_id(work.task.id());
  complete.set_owner(options_.scheduler_owner);
  *complete.mutable_due_at() = ToProto(work.due);
  *complete.mutable_started_at() = ToProto(run->started_at);
  *complete.mutable_duration() = ToProtoDuration(clock_->Now() - run->started_at);
  complete.set_ok(success);
  complete.set_result((success ? output : error).substr(0, kMaxTaskResult));
  absl::StatusOr<std::optional<absl::Time>> next = task_ops_.NextAfterRun(work.task, work.due);
  if (next.ok() && next->has_value()) *complete.mutable_next_run() = ToProto(**next);
  if (!next.ok()) LogIfFailed(next.status(), run->folder, run->run_id);
  LogIfFailed(store_->CompleteTaskRun(complete).status(), run->folder, run->run_id);
  return Next::kDone;
}

void Router::ApplyNext(const std::shared_ptr<ActiveRun>& run, Next next, absl::Duration delay) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.Finish(run->folder);
    bool wanted = pipe_wanted_.erase(run->folder) > 0;
    switch (next) {
      case Next::kRetryNow:
        if (run->is_task) {
          queue_.AddTask(run->task_work);
        } else {
          queue_.AddMessages(run->folder);
        }
        break;
      case Next::kRetryLater:
        queue_.SetBackoff(run->folder, true);
        break;
      case Next::kGiveUp:
        queue_.ClearPendingMessages(run->folder);
        break;
      case Next::kDone:
        if (wanted) queue_.AddMessages(run->folder);
        break;
    }
    runs_cv_.notify_all();
  }
  if (next == Next::kRetryLater) {
    executor_->PostAt(clock_->Now() + delay, [this, folder = run->folder] { EndBackoff(folder); });
  }
  StartAvailable();
}

}  // namespace clawdie::router
