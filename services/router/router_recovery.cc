// Start-up recovery of runs a crash left unfinished, the outbox and scheduler timers,
// shutdown, the queue snapshot, and the router's options.
#include <unistd.h>

#include <algorithm>
#include <set>

#include "common/schedule.h"
#include "services/router/policy.h"
#include "services/router/proto_time.h"
#include "services/router/router.h"
#include "services/router/router_log.h"

namespace clawdie::router {
namespace {

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

}  // namespace

absl::StatusOr<RouterOptions> RouterOptions::FromConfig(const Config& config) {
  RouterOptions options;
  options.assistant_name = config.GetString("ASSISTANT_NAME");
  options.default_timezone = config.GetString("TZ");
  absl::StatusOr<absl::TimeZone> zone = LoadZone(options.default_timezone);
  if (!zone.ok())
    return absl::InvalidArgumentError("config TZ: " + std::string(zone.status().message()));

  absl::StatusOr<int64_t> max_agents = config.GetInt("MAX_CONCURRENT_AGENTS", 5);
  if (!max_agents.ok()) return max_agents.status();
  if (*max_agents < 1 || *max_agents > 1000) {
    return absl::InvalidArgumentError("config MAX_CONCURRENT_AGENTS: expected 1 to 1000");
  }
  options.max_concurrent_agents = static_cast<int>(*max_agents);
  absl::StatusOr<int64_t> cap = config.GetInt("CLAWDIE_PROMPT_MAX_MESSAGES", 50);
  if (!cap.ok()) return cap.status();
  if (*cap < 1 || *cap > 1000) {
    return absl::InvalidArgumentError("config CLAWDIE_PROMPT_MAX_MESSAGES: expected 1 to 1000");
  }
  options.prompt_max_messages = static_cast<int>(*cap);
  absl::StatusOr<int64_t> max_reply = config.GetInt("CLAWDIE_MAX_MESSAGE_BYTES", 64 * 1024);
  if (!max_reply.ok()) return max_reply.status();
  if (*max_reply < 1024) {
    return absl::InvalidArgumentError("config CLAWDIE_MAX_MESSAGE_BYTES: expected at least 1024");
  }
  options.max_reply_bytes = *max_reply;

  absl::StatusOr<absl::Duration> agent_timeout =
      config.GetDuration("AGENT_TIMEOUT", absl::Minutes(30));
  absl::StatusOr<absl::Duration> idle_timeout =
      config.GetDuration("IDLE_TIMEOUT", absl::Minutes(30));
  absl::StatusOr<absl::Duration> poll =
      config.GetDuration("CLAWDIE_SCHEDULER_POLL", absl::Seconds(5));
  if (!agent_timeout.ok()) return agent_timeout.status();
  if (!idle_timeout.ok()) return idle_timeout.status();
  if (!poll.ok()) return poll.status();
  options.agent_timeout = *agent_timeout;
  options.idle_timeout = *idle_timeout;
  options.scheduler_poll = std::max(*poll, absl::Milliseconds(100));
  options.task_lease = *agent_timeout + *idle_timeout + absl::Minutes(5);

  std::string id = config.GetString("CLAWDIE_ROUTER_ID");
  options.scheduler_owner = id.empty() ? "router@" + HostName() : id;
  return options;
}

absl::Status Router::Start() {
  absl::Status recovered = RecoverRuns();
  if (recovered.ok()) recovered = QueueUnanswered();
  if (!recovered.ok()) return recovered;
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
  }
  executor_->Post([this] {
    absl::Status status = deliverer_.DeliverDue();
    if (!status.ok()) Log()->warn("outbox: {}", std::string(status.message()));
    ScheduleOutboxPoll();
  });
  executor_->Post([this] {
    PollScheduler().IgnoreError();
    ScheduleSchedulerPoll();
  });
  StartAvailable();
  return absl::OkStatus();
}

absl::Status Router::RecoverRuns() {
  pb::ListRunsRequest request;
  request.set_unfinished_only(true);
  request.set_limit(1000);
  absl::StatusOr<pb::ListRunsResponse> runs = store_->ListRuns(request);
  if (!runs.ok()) return runs.status();

  // Newest first: the newest unfinished message run of a group is redone, older ones of the
  // same group are covered by it (its prompt starts at the group's cursor).
  std::set<std::string> covered;
  for (const pb::Run& run : runs->runs()) {
    bool message_run = run.task_id() == 0;
    if (message_run && !run.output_delivered() && !covered.insert(run.group_folder()).second) {
      pb::UpdateRunRequest update;
      update.set_run_id(run.id());
      update.set_state(pb::RUN_STATE_FAILED);
      update.set_error("superseded by run of the same group after a restart");
      store_->UpdateRun(update).IgnoreError();
      continue;
    }
    RecoverRun(run);
  }
  return absl::OkStatus();
}

void Router::RecoverRun(const pb::Run& run) {
  if (run.output_delivered()) {
    Log()->info("group {} run {}: interrupted after its reply was delivered; not redone",
                run.group_folder(), run.id());
    pb::UpdateRunRequest update;
    update.set_run_id(run.id());
    update.set_state(pb::RUN_STATE_FAILED);
    update.set_error("interrupted by a restart after its reply was delivered");
    store_->UpdateRun(update).IgnoreError();
    if (run.task_id() == 0) {
      // What the run saw after its latest reply got no answer: a new run answers it. (Runs
      // recorded before answered_seq existed count as answered to their last seq.)
      int64_t answered = run.answered_seq() > 0 ? run.answered_seq() : run.last_seq();
      pb::AdvanceCursorRequest advance;
      advance.set_group_folder(run.group_folder());
      advance.set_seq(answered);
      store_->AdvanceCursor(advance).IgnoreError();
      if (answered < run.last_seq()) {
        Log()->info("group {} run {}: messages up to seq {} got no reply; queued for a new run",
                    run.group_folder(), run.id(), run.last_seq());
        std::lock_guard<std::mutex> lock(mu_);
        queue_.AddMessages(run.group_folder());
      }
      return;
    }
    pb::GetTaskRequest get;
    get.set_id(run.task_id());
    absl::StatusOr<pb::Task> task = store_->GetTask(get);
    if (!task.ok()) return;
    pb::CompleteTaskRunRequest complete;
    complete.set_task_id(run.task_id());
    complete.set_owner(options_.scheduler_owner);
    *complete.mutable_due_at() = run.task_due();
    *complete.mutable_started_at() = run.created_at();
    complete.set_ok(true);
    complete.set_result("interrupted by a restart after its reply was delivered");
    absl::StatusOr<std::optional<absl::Time>> next =
        task_ops_.NextAfterRun(*task, FromProto(run.task_due()));
    if (next.ok() && next->has_value()) *complete.mutable_next_run() = ToProto(**next);
    store_->CompleteTaskRun(complete).IgnoreError();
    return;
  }

  Log()->info("group {} run {}: left unfinished by a restart; queued again", run.group_folder(),
              run.id());
  if (run.task_id() == 0) {
    std::lock_guard<std::mutex> lock(mu_);
    retries_[run.group_folder()].run_id = run.id();
    queue_.AddMessages(run.group_folder());
    return;
  }
  // The task's prompt and schedule are needed to run it again.
  pb::GetTaskRequest get;
  get.set_id(run.task_id());
  absl::StatusOr<pb::Task> task = store_->GetTask(get);
  if (!task.ok()) {
    Log()->warn("task {}: not re-run after restart: {}", run.task_id(),
                std::string(task.status().message()));
    return;
  }
  QueueWork work;
  work.kind = QueueWork::Kind::kTask;
  work.folder = run.group_folder();
  work.task = *task;
  work.due = FromProto(run.task_due());
  work.resume_run_id = run.id();
  std::lock_guard<std::mutex> lock(mu_);
  queue_.AddTask(std::move(work));
}

// A triggering message can be stored, acknowledged and yet in no run's record: its group
// waited for a slot, or it was piped into a live agent whose record was not yet updated
// when the router died. Each group with such a message is queued. Messages a recorded run
// was given (even one given up on) and context messages start nothing.
absl::Status Router::QueueUnanswered() {
  absl::StatusOr<pb::ListGroupsResponse> groups = store_->ListGroups(pb::ListGroupsRequest());
  if (!groups.ok()) return groups.status();
  for (const pb::Group& group : groups->groups()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.HasPendingMessages(group.folder())) continue;  // recovery queued it
    }
    absl::StatusOr<bool> unanswered = HasUnansweredTrigger(group);
    if (!unanswered.ok()) return unanswered.status();
    if (!*unanswered) continue;
    Log()->info("group {}: a message from before the restart has no run yet; queued",
                group.folder());
    std::lock_guard<std::mutex> lock(mu_);
    queue_.AddMessages(group.folder());
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Router::HasUnansweredTrigger(const pb::Group& group) {
  pb::GetCursorRequest get_cursor;
  get_cursor.set_group_folder(group.folder());
  absl::StatusOr<pb::Cursor> cursor = store_->GetCursor(get_cursor);
  if (!cursor.ok()) return cursor.status();
  int64_t given = cursor->seq();

  // Runs are recorded in order, so the newest message runs hold the furthest seq given.
  pb::ListRunsRequest list_runs;
  list_runs.set_group_folder(group.folder());
  list_runs.set_limit(20);
  absl::StatusOr<pb::ListRunsResponse> runs = store_->ListRuns(list_runs);
  if (!runs.ok()) return runs.status();
  for (const pb::Run& run : runs->runs()) {
    if (run.task_id() == 0) given = std::max({given, run.last_seq(), run.answered_seq()});
  }

  pb::ListMessagesRequest list_messages;
  list_messages.set_chat_jid(group.chat_jid());
  list_messages.set_after_seq(given);
  list_messages.set_limit(options_.prompt_max_messages);
  list_messages.set_keep_newest(true);
  absl::StatusOr<pb::ListMessagesResponse> messages = store_->ListMessages(list_messages);
  if (!messages.ok()) return messages.status();
  return std::any_of(
      messages->messages().begin(), messages->messages().end(),
      [&](const pb::Message& m) { return MessageTriggers(group, m, options_.assistant_name); });
}

void Router::ScheduleOutboxPoll() {
  executor_->PostAt(clock_->Now() + options_.outbox_poll, [this] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    absl::Status status = deliverer_.DeliverDue();
    if (!status.ok()) Log()->debug("outbox: {}", std::string(status.message()));
    ScheduleOutboxPoll();
  });
}

void Router::ScheduleSchedulerPoll() {
  executor_->PostAt(clock_->Now() + options_.scheduler_poll, [this] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    PollScheduler().IgnoreError();
    ScheduleSchedulerPoll();
  });
}

absl::StatusOr<int> Router::PollScheduler() {
  pb::ClaimDueTasksRequest claim;
  claim.set_owner(options_.scheduler_owner);
  *claim.mutable_now() = ToProto(clock_->Now());
  *claim.mutable_lease() = ToProtoDuration(options_.task_lease);
  claim.set_limit(20);
  absl::StatusOr<pb::ClaimDueTasksResponse> claimed = store_->ClaimDueTasks(claim);
  if (!claimed.ok()) {
    Log()->debug("scheduler: {}", std::string(claimed.status().message()));
    return claimed.status();
  }
  for (const pb::Task& task : claimed->tasks()) EnqueueTask(task, FromProto(task.next_run()));
  return claimed->tasks_size();
}

void Router::ForgetGroup(const std::string& folder) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.Forget(folder);
  retries_.erase(folder);
  pipe_wanted_.erase(folder);
  pipe_posted_.erase(folder);
}

pb::QueueStateResponse Router::QueueState() {
  pb::QueueStateResponse response;
  std::lock_guard<std::mutex> lock(mu_);
  response.set_active(queue_.active_count());
  response.set_max_concurrent(queue_.max_concurrent());
  for (const GroupQueueSnapshot& snapshot : queue_.Snapshot()) {
    pb::GroupQueueState* group = response.add_groups();
    group->set_group_folder(snapshot.folder);
    group->set_active(snapshot.active);
    group->set_idle(snapshot.idle);
    group->set_pending_messages(snapshot.pending_messages);
    group->set_pending_tasks(snapshot.pending_tasks);
    auto it = run_of_group_.find(snapshot.folder);
    if (it != run_of_group_.end()) group->set_run_id(it->second->run_id);
  }
  return response;
}

void Router::Shutdown(absl::Duration grace) {
  std::vector<std::shared_ptr<ActiveRun>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (const auto& [id, run] : runs_) live.push_back(run);
  }
  for (const std::shared_ptr<ActiveRun>& run : live) {
    std::unique_lock<std::mutex> lock(mu_);
    AgentStream* stream = run->stream.get();
    lock.unlock();
    if (stream != nullptr) stream->Cancel();
  }
  std::unique_lock<std::mutex> lock(mu_);
  runs_cv_.wait_for(lock, absl::ToChronoMilliseconds(grace), [this] { return runs_.empty(); });
}

}  // namespace clawdie::router
