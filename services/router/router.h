// The router's core (DESIGN.md §4-5, issue #5): Ingest decides whether a
// message starts or feeds a run; the per-group queue starts runs; each run is
// recorded in the store before the broker is asked (when the message itself
// starts it, in the message's own commit), fed follow-ups and tool results over
// its RunAgent stream, and finished by moving the group's cursor, storing the
// session, or scheduling a retry. On Start, runs left unfinished by a crash are
// re-queued unless their reply was delivered.
//
// The router keeps no state the store does not also have except the queue
// itself and retry timers, which Start rebuilds from the unfinished runs.
//
// Thread-safety: all public methods are safe from any thread. mu_ guards the
// queue and the table of live runs; no store, broker or gateway call is made
// while holding it.
#ifndef CLAWDIE_SERVICES_ROUTER_ROUTER_H_
#define CLAWDIE_SERVICES_ROUTER_ROUTER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clawdie/v1/router.pb.h"
#include "common/config.h"
#include "services/router/broker_client.h"
#include "services/router/clock.h"
#include "services/router/delivery.h"
#include "services/router/executor.h"
#include "services/router/gateway_client.h"
#include "services/router/group_queue.h"
#include "services/router/store_client.h"
#include "services/router/task_ops.h"
#include "services/router/tool_handler.h"

namespace clawdie::router {

struct RouterOptions {
  std::string assistant_name = "Andy";
  std::string default_timezone = "UTC";
  int max_concurrent_agents = 5;
  int prompt_max_messages = 50;
  absl::Duration agent_timeout = absl::Minutes(30);
  absl::Duration idle_timeout = absl::Minutes(30);
  std::vector<absl::Duration> run_retry_delays;  // empty: DefaultRunRetryDelays()
  // The scheduler's lease owner; stable across restarts of this router.
  std::string scheduler_owner = "router";
  // How long a claimed due time stays ours: longer than any run may take.
  absl::Duration task_lease = absl::Minutes(40);
  absl::Duration scheduler_poll = absl::Seconds(5);
  absl::Duration outbox_poll = absl::Seconds(5);
  // Longest reply text the store's outbox accepts; longer replies are cut to fit.
  int64_t max_reply_bytes = 64 * 1024;

  // Reads ASSISTANT_NAME, TZ, MAX_CONCURRENT_AGENTS, CLAWDIE_PROMPT_MAX_MESSAGES,
  // AGENT_TIMEOUT, IDLE_TIMEOUT, CLAWDIE_ROUTER_ID, CLAWDIE_SCHEDULER_POLL and
  // CLAWDIE_MAX_MESSAGE_BYTES (shared with the store). Errors name the key.
  static absl::StatusOr<RouterOptions> FromConfig(const Config& config);
};

class Router : public AgentEventHandler {
 public:
  // Not owned; all must outlive the router (the executor is shut down before it is destroyed).
  Router(RouterOptions options, StoreClient* store, AgentBroker* broker, GatewayClient* gateway,
         const Clock* clock, Executor* executor);
  ~Router() override;

  // Recovers unfinished runs, queues them, starts the outbox and scheduler timers.
  // Returns the store's error when the unfinished runs could not be listed (the caller retries).
  absl::Status Start();

  // Cancels live runs and waits up to `grace` for their streams to end.
  void Shutdown(absl::Duration grace);

  // Router.Ingest: stores the message and decides. InvalidArgument for a message without
  // chat_jid or platform_message_id; UNAVAILABLE before Start recovered the unfinished runs;
  // store errors (UNAVAILABLE while it is down) otherwise.
  absl::StatusOr<pb::IngestResponse> Ingest(const pb::IngestRequest& request);

  // A due task claimed by the scheduler; it runs when its group and a slot are free.
  void EnqueueTask(const pb::Task& task, absl::Time due);

  // One scheduler pass: claims due tasks and queues them. Returns how many were claimed.
  absl::StatusOr<int> PollScheduler();

  // The group was unregistered: its waiting work is dropped (a live run finishes).
  void ForgetGroup(const std::string& folder);

  // Router.QueueState.
  pb::QueueStateResponse QueueState();

  TaskOps* task_ops() { return &task_ops_; }
  Deliverer* deliverer() { return &deliverer_; }

  // AgentEventHandler.
  void OnAgentEvent(int64_t run_id, const pb::RunAgentResponse& event) override;
  void OnAgentStreamEnd(int64_t run_id, const absl::Status& status) override;

 private:
  // One live run. Fields marked (mu_) are guarded by the router's mutex; the rest are set
  // before the run is published and not changed afterwards.
  struct ActiveRun {
    int64_t run_id = 0;
    std::string folder;
    std::string chat_jid;
    bool is_main = false;
    absl::TimeZone zone;
    bool is_task = false;
    QueueWork task_work;         // is_task: the claimed task and due time
    std::string session_used;    // the session the agent was asked to continue
    int64_t initial_cursor = 0;  // the group's cursor when the run started
    absl::Time started_at;
    std::unique_ptr<AgentStream> stream;  // (mu_) set once before the stream starts
    int64_t last_seq = 0;                 // (mu_) highest message seq the agent has seen
    bool output_delivered = false;        // (mu_)
    int64_t answered_seq = 0;             // (mu_) last_seq when the latest reply was queued
    bool idle = false;                    // (mu_)
    bool closing = false;                 // (mu_)
    int pending_tool_calls = 0;           // (mu_)
    uint64_t idle_generation = 0;         // (mu_)
    std::string new_session;              // (mu_)
    bool done = false;                    // (mu_)
    std::string done_status;              // (mu_)
    std::string done_error;               // (mu_)
    bool exited = false;                  // (mu_)
    bool ended_idle = false;              // (mu_) answered, then ended by the idle limit
    int exit_code = -1;                   // (mu_)
    std::string exit_detail;              // (mu_)
    std::string last_output;              // (mu_) for the task run log
    std::string reply_lost;               // (mu_) why a reply could not be queued, if one
    bool last_seq_flush_pending = false;  // (mu_) an UpdateRun of last_seq is posted
    std::mutex pipe_mu;                   // serialises follow-ups so none is sent twice
  };

  // Retry bookkeeping of a group whose message run failed before delivering anything.
  struct RetryState {
    int failures = 0;
    int64_t run_id = 0;  // the run record the next attempt continues
    bool session_retry_used = false;
  };

  enum class Next { kDone, kRetryNow, kRetryLater, kGiveUp };

  // How Ingest asks the store: to list what the chat's live agent (`live`) has not seen, or
  // to start the run of `reserved`, a group whose start the queue granted for this message.
  struct IngestPlan {
    std::shared_ptr<ActiveRun> live;
    std::string reserved;
  };

  // Ingest and follow-ups (router_ingest.cc).
  absl::StatusOr<IngestPlan> PlanAppend(const pb::Message& message,
                                        pb::AppendMessageRequest* append);
  void QueueIngested(const std::string& folder, std::shared_ptr<ActiveRun> live,
                     pb::AppendMessageResponse stored);
  // Follow-ups: PipeFollowUps lists what the group's live agent has not seen; PipeListed uses
  // the listing an Ingest's append returned for `run` when it covers it. Both end in
  // SendFollowUps, which holds the run's pipe lock.
  void PipeFollowUps(const std::string& folder);
  void PipeListed(const std::shared_ptr<ActiveRun>& run, const pb::AppendMessageResponse& stored);
  std::shared_ptr<ActiveRun> PipeTarget(const std::string& folder);
  absl::StatusOr<pb::ListMessagesResponse> ListUnseen(const ActiveRun& run, int64_t after,
                                                      const pb::AppendMessageResponse* stored);
  void SendFollowUps(const std::shared_ptr<ActiveRun>& run,
                     const pb::AppendMessageResponse* stored);
  void PersistLastSeq(const std::shared_ptr<ActiveRun>& run);

  // Starting runs (router.cc).
  void StartAvailable();
  void StartWork(const QueueWork& work);
  absl::Status StartMessageRun(const std::string& folder);
  // Opens the run the store recorded (or, when it recorded none, moves past what needs no
  // answer and frees the group).
  void LaunchBegun(const std::string& folder, const pb::BeginMessageRunResponse& begun);
  absl::Status StartTaskRun(const QueueWork& work);
  // Records a task run (or sets the run it continues back to PENDING).
  absl::StatusOr<pb::Run> RecordTaskRun(const QueueWork& work, int64_t last_seq);
  absl::Status Launch(std::shared_ptr<ActiveRun> run, const pb::Group& group,
                      const std::string& prompt);
  void GroupWithoutRun(const std::string& folder);
  void FinishRecordWithoutRun(const std::string& folder);
  void RetryStartLater(const QueueWork& work);
  void EndBackoff(const std::string& folder);

  // Events and finishing (router_runs.cc).
  std::shared_ptr<ActiveRun> FindRun(int64_t run_id);
  void HandleOutput(const std::shared_ptr<ActiveRun>& run, const std::string& text);
  void HandleToolCall(const std::shared_ptr<ActiveRun>& run, const pb::ToolCall& call);
  void BecomeIdle(const std::shared_ptr<ActiveRun>& run);
  void CloseRun(const std::shared_ptr<ActiveRun>& run, const char* why);
  void FinishRun(const std::shared_ptr<ActiveRun>& run, const absl::Status& stream_status);
  // Runs `writes` in order (a cursor move, a final run state: idempotent, nothing later
  // overrides them); while one fails with an error the store may get over, it and the rest
  // are tried again after 1 s, 2 s, ... up to 60 s apart, about ten minutes in all. Without
  // this a store away when a run ends would leave the run `running` until a restart.
  using StoreWrite = std::function<absl::Status()>;
  void WriteUntilStored(std::vector<StoreWrite> writes, std::string what, int attempt = 1);
  // The cursor move (when `advance` is set) and final state of a finished run, in order.
  void StoreRunEnd(const std::shared_ptr<ActiveRun>& run,
                   std::optional<pb::AdvanceCursorRequest> advance, pb::UpdateRunRequest update);
  Next FinishMessageRun(const std::shared_ptr<ActiveRun>& run, bool success,
                        const std::string& error, absl::Duration* delay);
  Next FinishTaskRun(const std::shared_ptr<ActiveRun>& run, bool success, const std::string& error);
  void ApplyNext(const std::shared_ptr<ActiveRun>& run, Next next, absl::Duration delay);
  void SetTyping(const std::string& chat_jid, bool typing);
  void MarkOutputDelivered(const std::shared_ptr<ActiveRun>& run);

  // Recovery and timers (router_recovery.cc).
  absl::Status RecoverRuns();
  void RecoverRun(const pb::Run& run);
  absl::Status QueueUnanswered();
  absl::StatusOr<bool> HasUnansweredTrigger(const pb::Group& group);
  void ScheduleOutboxPoll();
  void ScheduleSchedulerPoll();

  RouterOptions options_;
  StoreClient* store_;
  AgentBroker* broker_;
  GatewayClient* gateway_;
  const Clock* clock_;
  Executor* executor_;
  Deliverer deliverer_;
  TaskOps task_ops_;
  ToolHandler tools_;

  std::mutex mu_;
  std::condition_variable runs_cv_;
  GroupQueue queue_;
  std::map<int64_t, std::shared_ptr<ActiveRun>> runs_;
  std::map<std::string, std::shared_ptr<ActiveRun>> run_of_group_;
  std::map<std::string, std::shared_ptr<ActiveRun>> run_of_chat_;  // the same runs, by chat
  std::set<std::string> pipe_wanted_;
  // Groups with a PipeFollowUps posted by Ingest that has not begun yet: later messages ride
  // on it instead of posting another, so a burst costs one listing.
  std::set<std::string> pipe_posted_;
  std::map<std::string, RetryState> retries_;
  bool started_ = false;  // unfinished runs were recovered; Ingest may queue
  bool stopping_ = false;
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_ROUTER_H_
