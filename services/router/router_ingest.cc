// Ingest and follow-ups: storing an inbound message and deciding in the same store call
// whether it starts its group's run (recorded in the message's own commit) or reaches the
// group's live agent, and piping what a live agent has not seen.
#include <algorithm>

#include "common/message_time.h"
#include "services/router/policy.h"
#include "services/router/prompt.h"
#include "services/router/router.h"
#include "services/router/router_log.h"
#include "services/router/trigger.h"

namespace clawdie::router {

absl::StatusOr<pb::IngestResponse> Router::Ingest(const pb::IngestRequest& request) {
  const pb::Message& message = request.message();
  if (message.chat_jid().empty() || message.platform_message_id().empty()) {
    return absl::InvalidArgumentError(
        "ingest message: chat_jid and platform_message_id are required");
  }
  pb::AppendMessageRequest append;
  *append.mutable_message() = message;
  // Every channel's messages pass here, whatever a client put in the time.
  absl::Time now = clock_->Now();
  if (!message.has_time() ||
      !IsPlausibleMessageTime(absl::FromUnixSeconds(message.time().seconds()), now)) {
    append.mutable_message()->mutable_time()->set_seconds(absl::ToUnixSeconds(now));
    append.mutable_message()->mutable_time()->set_nanos(0);
  }
  if (request.has_chat()) {
    *append.mutable_chat() = request.chat();
    if (append.chat().jid().empty()) append.mutable_chat()->set_jid(message.chat_jid());
  }
  absl::StatusOr<IngestPlan> plan = PlanAppend(message, &append);
  if (!plan.ok()) return plan.status();

  // One store call: the message, the chat's metadata, which group the chat is, and what the
  // plan asked for.
  absl::StatusOr<pb::AppendMessageResponse> stored = store_->AppendMessage(append);
  if (!stored.ok()) {
    if (!plan->reserved.empty()) GroupWithoutRun(plan->reserved);
    return stored.status();
  }
  pb::IngestResponse response;
  response.set_seq(stored->seq());
  response.set_inserted(stored->inserted());
  bool begun = !plan->reserved.empty() && stored->run_start_code() == 0;
  if (!plan->reserved.empty() && !begun) {
    // The group changed since it was looked up: decide again below on what the store said.
    Log()->debug("ingest {}: run not started with the message: {}", message.chat_jid(),
                 stored->run_start_error());
    GroupWithoutRun(plan->reserved);
  }
  if (!stored->has_group()) return response;
  const pb::Group& group = stored->group();
  response.set_registered(true);

  // A duplicate is decided again: the first delivery may have been stored by a router that
  // crashed before deciding. Queueing is idempotent (runs read from the cursor, follow-ups
  // from what the agent has seen), so nothing is sent twice.
  bool triggers = MessageTriggers(group, message, options_.assistant_name);
  response.set_triggered(triggers);
  Log()->debug("ingest {} seq {} group {}: {}", message.chat_jid(), stored->seq(), group.folder(),
               begun      ? "starts a run"
               : triggers ? "triggers"
                          : "context");
  if (begun) {
    executor_->Post([this, folder = plan->reserved, start = stored->run_start()] {
      LaunchBegun(folder, start);
    });
    return response;
  }
  // The live run's listing serves only the group the chat still belongs to.
  std::shared_ptr<ActiveRun> live = plan->live;
  if (live != nullptr && live->folder != group.folder()) live = nullptr;
  if (triggers) QueueIngested(group.folder(), std::move(live), *std::move(stored));
  return response;
}

absl::StatusOr<Router::IngestPlan> Router::PlanAppend(const pb::Message& message,
                                                      pb::AppendMessageRequest* append) {
  IngestPlan plan;
  {
    // Runs recorded before recovery could be taken for a crashed router's and redone.
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_) {
      return absl::UnavailableError("ingest " + message.chat_jid() +
                                    ": router starting, unfinished runs not yet recovered");
    }
    // An agent is live in this chat: the store lists what it has not seen with the append.
    auto it = run_of_chat_.find(message.chat_jid());
    if (it != run_of_chat_.end() && it->second->stream != nullptr && !it->second->closing) {
      plan.live = it->second;
      append->set_list_after_seq(plan.live->last_seq);
      append->set_list_limit(options_.prompt_max_messages);
      return plan;
    }
  }

  // A message that starts its group's run at once records the run in its own commit. The
  // group comes from the cache; the store starts the run only if the group still has the
  // settings this decision was made on.
  pb::GetGroupRequest lookup;
  lookup.set_chat_jid(message.chat_jid());
  absl::StatusOr<pb::Group> group = store_->GetGroup(lookup);
  if (!group.ok() || !MessageTriggers(*group, message, options_.assistant_name)) return plan;
  pb::BeginMessageRunRequest begin;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || !queue_.TryStartMessagesNow(group->folder())) return plan;
    plan.reserved = group->folder();
    auto retry = retries_.find(plan.reserved);
    if (retry != retries_.end()) begin.set_resume_run_id(retry->second.run_id);
  }
  begin.set_group_folder(plan.reserved);
  begin.set_max_messages(options_.prompt_max_messages);
  *begin.mutable_if_group() = *std::move(group);
  *append->mutable_begin_run() = std::move(begin);
  return plan;
}

void Router::QueueIngested(const std::string& folder, std::shared_ptr<ActiveRun> live,
                           pb::AppendMessageResponse stored) {
  GroupQueue::MessageDecision decision;
  bool post_pipe = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    decision = queue_.AddMessages(folder);
    // A follow-up already posted and not yet begun lists this message too: it lists after
    // this message was committed.
    if (decision == GroupQueue::MessageDecision::kPipeIntoActive && live == nullptr) {
      post_pipe = pipe_posted_.insert(folder).second;
    }
  }
  if (decision != GroupQueue::MessageDecision::kPipeIntoActive) {
    StartAvailable();
  } else if (live != nullptr) {
    executor_->Post(
        [this, live = std::move(live), stored = std::move(stored)] { PipeListed(live, stored); });
  } else if (post_pipe) {
    executor_->Post([this, folder] { PipeFollowUps(folder); });
  }
}

void Router::PipeFollowUps(const std::string& folder) {
  std::shared_ptr<ActiveRun> run = PipeTarget(folder);
  if (run != nullptr) SendFollowUps(run, nullptr);
}

void Router::PipeListed(const std::shared_ptr<ActiveRun>& run,
                        const pb::AppendMessageResponse& stored) {
  bool still_live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = run_of_group_.find(run->folder);
    still_live = it != run_of_group_.end() && it->second == run && !run->closing;
  }
  // The listing was made for this run; for any other the general path decides.
  if (!still_live) {
    PipeFollowUps(run->folder);
    return;
  }
  SendFollowUps(run, &stored);
}

std::shared_ptr<Router::ActiveRun> Router::PipeTarget(const std::string& folder) {
  std::shared_ptr<ActiveRun> run;
  bool start_new = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // From here on a new message needs a new pipe: this one may have listed already.
    pipe_posted_.erase(folder);
    auto it = run_of_group_.find(folder);
    if (it != run_of_group_.end() && it->second->stream != nullptr && !it->second->closing) {
      run = it->second;
    } else if (queue_.IsActive(folder) && !queue_.IsClosing(folder)) {
      pipe_wanted_.insert(folder);  // the run is starting; Launch pipes once it can
    } else {
      start_new = queue_.AddMessages(folder) == GroupQueue::MessageDecision::kQueued;
    }
  }
  if (start_new) StartAvailable();
  return run;
}

absl::StatusOr<pb::ListMessagesResponse> Router::ListUnseen(
    const ActiveRun& run, int64_t after, const pb::AppendMessageResponse* stored) {
  if (stored != nullptr) {
    // The agent has seen this message already: another follow-up carried it.
    if (stored->seq() <= after) return pb::ListMessagesResponse();
    // The append's listing holds every message up to this one after what the agent had seen
    // when it was asked (no more than now); usable when it holds this message and either cut
    // nothing or cut only messages the agent has seen.
    bool holds_it = std::any_of(stored->listed().begin(), stored->listed().end(),
                                [&](const pb::Message& m) { return m.seq() == stored->seq(); });
    bool complete = stored->listed_omitted() == 0 || stored->listed(0).seq() <= after;
    if (holds_it && complete) {
      pb::ListMessagesResponse unseen;
      for (const pb::Message& message : stored->listed()) {
        if (message.seq() > after) *unseen.add_messages() = message;
      }
      return unseen;
    }
  }
  pb::ListMessagesRequest list;
  list.set_chat_jid(run.chat_jid);
  list.set_after_seq(after);
  list.set_limit(options_.prompt_max_messages);
  list.set_keep_newest(true);
  return store_->ListMessages(list);
}

void Router::SendFollowUps(const std::shared_ptr<ActiveRun>& run,
                           const pb::AppendMessageResponse* stored) {
  const std::string& folder = run->folder;
  std::lock_guard<std::mutex> pipe_lock(run->pipe_mu);
  int64_t after;
  {
    std::lock_guard<std::mutex> lock(mu_);
    after = run->last_seq;
  }
  absl::StatusOr<pb::ListMessagesResponse> listed = ListUnseen(*run, after, stored);
  if (!listed.ok()) {
    // The messages stay after the cursor: the next run or follow-up includes them.
    Log()->warn("group {} run {}: listing follow-ups: {}", folder, run->run_id,
                std::string(listed.status().message()));
    return;
  }
  int64_t last_seq = after;
  std::vector<pb::Message> messages = PromptMessages(listed->messages(), &last_seq);
  if (!messages.empty()) {
    pb::AgentInput input;
    input.set_message(FormatMessages(messages, listed->omitted(), run->zone));
    absl::Status sent = run->stream->Send(input);
    if (!sent.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.SetClosing(folder);
      queue_.AddMessages(folder);  // the run is ending: a new run takes them
      return;
    }
  }
  bool was_idle = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    run->last_seq = last_seq;
    if (!messages.empty()) {
      was_idle = run->idle;
      run->idle = false;
      ++run->idle_generation;
      queue_.SetIdle(folder, false);
    }
  }
  if (messages.empty()) return;
  PersistLastSeq(run);
  // Typing stopped when the agent answered; while it works the gateway keeps it shown.
  if (was_idle) SetTyping(run->chat_jid, true);
  Log()->debug("group {} run {}: {} follow-up message(s) up to seq {}", folder, run->run_id,
               messages.size(), last_seq);
}

void Router::PersistLastSeq(const std::shared_ptr<ActiveRun>& run) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (run->last_seq_flush_pending) return;
    run->last_seq_flush_pending = true;
  }
  // Coalesced off the follow-up path: a burst of follow-ups costs one write. Until it lands,
  // a crash leaves those messages after the cursor, where the next run sees them.
  executor_->Post([this, run] {
    pb::UpdateRunRequest update;
    update.set_run_id(run->run_id);
    {
      std::lock_guard<std::mutex> lock(mu_);
      update.set_last_seq(run->last_seq);
      run->last_seq_flush_pending = false;
    }
    absl::Status status = store_->UpdateRun(update).status();
    if (!status.ok())
      Log()->debug("run {}: last seq: {}", run->run_id, std::string(status.message()));
  });
}

}  // namespace clawdie::router
