// The queue and starting runs. Ingest and follow-ups are in router_ingest.cc, events and
// finishing in router_runs.cc, crash recovery, timers and options in router_recovery.cc.
#include "services/router/router.h"

#include "common/schedule.h"
#include "nlohmann/json.hpp"
#include "services/router/policy.h"
#include "services/router/prompt.h"
#include "services/router/proto_time.h"
#include "services/router/router_log.h"

namespace clawdie::router {
namespace {

// Delay before trying again to start work whose store calls failed (the store is away).
constexpr absl::Duration kStartRetryDelay = absl::Seconds(5);

absl::TimeZone ZoneOrUtc(const std::string& name) {
  absl::StatusOr<absl::TimeZone> zone = LoadZone(name);
  return zone.ok() ? *zone : absl::UTCTimeZone();
}

}  // namespace

Router::Router(RouterOptions options, StoreClient* store, AgentBroker* broker,
               GatewayClient* gateway, const Clock* clock, Executor* executor)
    : options_(std::move(options)),
      store_(store),
      broker_(broker),
      gateway_(gateway),
      clock_(clock),
      executor_(executor),
      deliverer_(store, gateway, clock, executor),
      task_ops_(store, clock, options_.default_timezone),
      tools_(store, &deliverer_, &task_ops_, options_.assistant_name),
      queue_(options_.max_concurrent_agents) {
  if (options_.run_retry_delays.empty()) options_.run_retry_delays = DefaultRunRetryDelays();
}

Router::~Router() = default;

void Router::EnqueueTask(const pb::Task& task, absl::Time due) {
  QueueWork work;
  work.kind = QueueWork::Kind::kTask;
  work.folder = task.group_folder();
  work.task = task;
  work.due = due;
  GroupQueue::TaskDecision decision;
  std::shared_ptr<ActiveRun> idle_run;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    decision = queue_.AddTask(std::move(work));
    auto it = run_of_group_.find(task.group_folder());
    if (it != run_of_group_.end()) idle_run = it->second;
  }
  if (decision == GroupQueue::TaskDecision::kDuplicate) return;
  Log()->info("group {}: task {} due {} queued", task.group_folder(), task.id(),
              absl::FormatTime(due));
  if (decision == GroupQueue::TaskDecision::kCloseIdleAgent && idle_run != nullptr) {
    CloseRun(idle_run, "a scheduled task is due");
  }
  StartAvailable();
}

void Router::StartAvailable() {
  std::vector<QueueWork> work;
  std::vector<std::shared_ptr<ActiveRun>> idle_runs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    work = queue_.TakeStartable();
    // An agent that only waits for follow-ups does not keep a waiting group out of a slot.
    for (const std::string& folder : queue_.IdleAgentsToClose()) {
      auto it = run_of_group_.find(folder);
      if (it != run_of_group_.end()) idle_runs.push_back(it->second);
    }
  }
  for (const std::shared_ptr<ActiveRun>& run : idle_runs) {
    CloseRun(run, "another group waits for a slot");
  }
  for (QueueWork& item : work) {
    executor_->Post([this, item = std::move(item)] { StartWork(item); });
  }
}

void Router::StartWork(const QueueWork& work) {
  absl::Status status =
      work.kind == QueueWork::Kind::kTask ? StartTaskRun(work) : StartMessageRun(work.folder);
  if (status.ok()) return;
  Log()->warn("group {}: starting a run: {}; trying again in {}", work.folder,
              std::string(status.message()), absl::FormatDuration(kStartRetryDelay));
  RetryStartLater(work);
}

void Router::RetryStartLater(const QueueWork& work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.Finish(work.folder);
    if (work.kind == QueueWork::Kind::kMessages) queue_.SetBackoff(work.folder, true);
  }
  absl::Time when = clock_->Now() + kStartRetryDelay;
  if (work.kind == QueueWork::Kind::kTask) {
    executor_->PostAt(when, [this, work] {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
        queue_.AddTask(work);
      }
      StartAvailable();
    });
  } else {
    executor_->PostAt(when, [this, folder = work.folder] { EndBackoff(folder); });
  }
  StartAvailable();
}

void Router::EndBackoff(const std::string& folder) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    queue_.SetBackoff(folder, false);
  }
  StartAvailable();
}

void Router::GroupWithoutRun(const std::string& folder) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.Finish(folder);
    if (pipe_wanted_.erase(folder) > 0) queue_.AddMessages(folder);
  }
  StartAvailable();
}

absl::Status Router::StartMessageRun(const std::string& folder) {
  pb::BeginMessageRunRequest begin;
  begin.set_group_folder(folder);
  begin.set_max_messages(options_.prompt_max_messages);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = retries_.find(folder);
    if (it != retries_.end()) begin.set_resume_run_id(it->second.run_id);
  }
  // One store call reads the group, its cursor, session and messages and records the run, so
  // the run is on disk before the broker is asked.
  absl::StatusOr<pb::BeginMessageRunResponse> begun = store_->BeginMessageRun(begin);
  if (!begun.ok()) {
    if (begun.status().code() != absl::StatusCode::kNotFound) return begun.status();
    Log()->warn("group {}: not registered any more; its messages wait", folder);
    GroupWithoutRun(folder);
    return absl::OkStatus();
  }
  LaunchBegun(folder, *begun);
  return absl::OkStatus();
}

void Router::LaunchBegun(const std::string& folder, const pb::BeginMessageRunResponse& begun) {
  int64_t last_seq = 0;
  std::vector<pb::Message> messages = PromptMessages(begun.messages(), &last_seq);
  if (!begun.has_run()) {
    // Nothing new for the agent (a duplicate, or only our own messages).
    if (last_seq > begun.cursor_seq()) {
      pb::AdvanceCursorRequest advance;
      advance.set_group_folder(folder);
      advance.set_seq(last_seq);
      store_->AdvanceCursor(advance).IgnoreError();
    }
    FinishRecordWithoutRun(folder);
    GroupWithoutRun(folder);
    return;
  }

  const pb::Group& group = begun.group();
  auto active = std::make_shared<ActiveRun>();
  active->run_id = begun.run().id();
  active->folder = folder;
  active->chat_jid = group.chat_jid();
  active->is_main = group.is_main();
  active->zone = ZoneOrUtc(task_ops_.ZoneOf(group));
  active->session_used = begun.session_id();
  active->initial_cursor = begun.cursor_seq();
  active->started_at = clock_->Now();
  active->last_seq = last_seq;
  // A broker that refuses the run ends it through FinishRun, like any failed attempt.
  Launch(active, group, FormatMessages(messages, begun.omitted(), active->zone)).IgnoreError();
}

absl::Status Router::StartTaskRun(const QueueWork& work) {
  pb::GetGroupRequest lookup;
  lookup.set_folder(work.folder);
  absl::StatusOr<pb::Group> group = store_->GetGroup(lookup);
  if (!group.ok() && group.status().code() != absl::StatusCode::kNotFound) return group.status();
  if (!group.ok()) {
    std::string reason = "group " + work.folder + " is not registered";
    Log()->warn("task {}: paused: {}", work.task.id(), reason);
    task_ops_.SetState(work.task, pb::TASK_STATE_PAUSED, reason).IgnoreError();
    GroupWithoutRun(work.folder);
    return absl::OkStatus();
  }
  pb::GetCursorRequest cursor_request;
  cursor_request.set_group_folder(work.folder);
  absl::StatusOr<pb::Cursor> cursor = store_->GetCursor(cursor_request);
  if (!cursor.ok()) return cursor.status();
  std::string session_id;
  if (work.task.context_mode() == pb::CONTEXT_MODE_GROUP) {
    pb::GetSessionRequest session_request;
    session_request.set_group_folder(work.folder);
    absl::StatusOr<pb::Session> session = store_->GetSession(session_request);
    if (!session.ok()) return session.status();
    session_id = session->session_id();
  }
  absl::StatusOr<pb::Run> run = RecordTaskRun(work, cursor->seq());
  if (!run.ok()) return run.status();

  auto active = std::make_shared<ActiveRun>();
  active->run_id = run->id();
  active->folder = work.folder;
  active->chat_jid = group->chat_jid();
  active->is_main = group->is_main();
  active->zone = ZoneOrUtc(task_ops_.ZoneOf(*group));
  active->is_task = true;
  active->task_work = work;
  active->session_used = session_id;
  active->initial_cursor = cursor->seq();
  active->started_at = clock_->Now();
  active->last_seq = cursor->seq();
  return Launch(active, *group, FormatTaskPrompt(work.task, work.due, active->zone));
}

void Router::FinishRecordWithoutRun(const std::string& folder) {
  int64_t run_id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = retries_.find(folder);
    if (it == retries_.end()) return;
    run_id = it->second.run_id;
    retries_.erase(it);
  }
  if (run_id == 0) return;
  // A retried or recovered run whose messages were all handled meanwhile.
  pb::UpdateRunRequest update;
  update.set_run_id(run_id);
  update.set_state(pb::RUN_STATE_FAILED);
  update.set_error("nothing left to answer when it was started again");
  store_->UpdateRun(update).IgnoreError();
}

absl::StatusOr<pb::Run> Router::RecordTaskRun(const QueueWork& work, int64_t last_seq) {
  if (work.resume_run_id != 0) {
    pb::UpdateRunRequest update;
    update.set_run_id(work.resume_run_id);
    update.set_state(pb::RUN_STATE_PENDING);
    update.set_last_seq(last_seq);
    return store_->UpdateRun(update);
  }
  pb::BeginRunRequest begin;
  begin.set_group_folder(work.folder);
  begin.set_last_seq(last_seq);
  begin.set_task_id(work.task.id());
  *begin.mutable_task_due() = ToProto(work.due);
  return store_->BeginRun(begin);
}

absl::Status Router::Launch(std::shared_ptr<ActiveRun> run, const pb::Group& group,
                            const std::string& prompt) {
  nlohmann::json start = {{"prompt", prompt},
                          {"groupFolder", run->folder},
                          {"chatJid", run->chat_jid},
                          {"isMain", run->is_main},
                          {"isScheduledTask", run->is_task},
                          {"assistantName", options_.assistant_name},
                          {"timezone", task_ops_.ZoneOf(group)},
                          {"model", group.sandbox().model()}};
  if (!run->session_used.empty()) start["sessionId"] = run->session_used;
  pb::RunSpec spec;
  // The broker refuses a run id that is still live; a retry or a re-run after a crash gets
  // a fresh one.
  spec.set_run_id(std::to_string(run->run_id) + "-" +
                  std::to_string(absl::ToUnixMillis(clock_->Now())));
  spec.set_group_folder(run->folder);
  spec.set_is_main(run->is_main);
  spec.set_start_json(start.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  *spec.mutable_extra_mounts() = group.sandbox().extra_mounts();
  absl::Duration timeout =
      group.sandbox().has_timeout() ? FromProto(group.sandbox().timeout()) : options_.agent_timeout;
  *spec.mutable_limits()->mutable_timeout() = ToProtoDuration(timeout);
  spec.set_network(group.sandbox().network());
  spec.set_model(group.sandbox().model());

  {
    std::lock_guard<std::mutex> lock(mu_);
    runs_[run->run_id] = run;
    run_of_group_[run->folder] = run;
    run_of_chat_[run->chat_jid] = run;
  }
  absl::StatusOr<std::unique_ptr<AgentStream>> stream = broker_->StartRun(run->run_id, spec, this);
  if (!stream.ok()) {
    FinishRun(run, stream.status());
    return absl::OkStatus();
  }
  bool pipe = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    run->stream = *std::move(stream);
    pipe = pipe_wanted_.erase(run->folder) > 0;
  }
  run->stream->Start();
  Log()->info("group {} run {}: started ({}{})", run->folder, run->run_id,
              run->is_task ? "task " + std::to_string(run->task_work.task.id()) : "messages",
              run->session_used.empty() ? ", new session" : ", session " + run->session_used);
  SetTyping(run->chat_jid, true);
  if (pipe) executor_->Post([this, folder = run->folder] { PipeFollowUps(folder); });
  return absl::OkStatus();
}

}  // namespace clawdie::router
