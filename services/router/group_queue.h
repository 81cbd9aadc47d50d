// The per-group queue (DESIGN.md §4, issue #5): at most one agent per group, at
// most `max_concurrent` agents overall, groups waiting for a slot served first
// in, first out, and within a group a due task before waiting messages. It is
// pure bookkeeping: it decides, the router does the I/O.
//
// Thread-safety: not thread-safe; the router calls it under its own mutex.
#ifndef CLAWDIE_SERVICES_ROUTER_GROUP_QUEUE_H_
#define CLAWDIE_SERVICES_ROUTER_GROUP_QUEUE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "clawdie/v1/types.pb.h"

namespace clawdie::router {

// A unit of work the queue hands out: a run over the group's waiting messages, or one due
// time of a scheduled task.
struct QueueWork {
  enum class Kind { kMessages, kTask };
  Kind kind = Kind::kMessages;
  std::string folder;
  clawdie::v1::Task task;           // kTask: the claimed task
  absl::Time due;                   // kTask: the due time claimed
  int64_t resume_run_id = 0;        // kTask: continue this run record (after a crash or retry)
  bool session_retry_used = false;  // kTask: already retried once with a fresh session
};

// One group's place in the queue, for QueueState.
struct GroupQueueSnapshot {
  std::string folder;
  bool active = false;
  bool idle = false;
  bool closing = false;
  bool pending_messages = false;
  bool backoff = false;
  int pending_tasks = 0;
};

class GroupQueue {
 public:
  explicit GroupQueue(int max_concurrent);

  // What to do with a triggering message.
  enum class MessageDecision {
    kPipeIntoActive,  // the group's agent is running and accepts input: send it as a follow-up
    kQueued,          // a run will start for it (now or when a slot frees)
  };
  MessageDecision AddMessages(const std::string& folder);

  // Starts a message run for the group at once when nothing stands in its way: the group has
  // no run, no backoff and no waiting work, and a slot is free that no waiting group is owed.
  // Then the group is active, as if TakeStartable had handed out its messages (the caller
  // calls Finish once the run ended), and the result is true; otherwise nothing changes.
  bool TryStartMessagesNow(const std::string& folder);

  // What to do with a due task.
  enum class TaskDecision {
    kQueued,          // it runs when the group and a slot are free
    kCloseIdleAgent,  // queued, and the group's agent only idles: close it so the task runs
    kDuplicate,       // this task is already queued or running; ignored
  };
  TaskDecision AddTask(QueueWork work);

  // True when a task waits for the group (so an idle agent of the group should be closed).
  bool HasWaitingTask(const std::string& folder) const;

  // Idle agents to close so that waiting groups get a slot: empty while a slot is free.
  // Otherwise the folders of the agents that have idled longest, one for each group waiting
  // in line beyond those whose slots agents already closing will free. A working agent is
  // never named.
  std::vector<std::string> IdleAgentsToClose() const;

  // Takes the work that may start now, in first-in first-out order of the groups, and marks
  // those groups active. The caller must call Finish for each once its run ended.
  std::vector<QueueWork> TakeStartable();

  // The group's run ended; its remaining work goes to the back of the line.
  void Finish(const std::string& folder);

  // The group's agent answered and waits for follow-ups (true) or works again (false).
  void SetIdle(const std::string& folder, bool idle);

  // The router asked the group's agent to finish: later messages wait for a new run.
  void SetClosing(const std::string& folder);

  // While in backoff the group's messages wait for the retry timer; ending the backoff puts
  // the group back in line when messages wait.
  void SetBackoff(const std::string& folder, bool backoff);

  // Drops the group's waiting messages (after a run was given up).
  void ClearPendingMessages(const std::string& folder);

  // Forgets the group's waiting work (it was unregistered). An active run is not affected.
  void Forget(const std::string& folder);

  bool IsActive(const std::string& folder) const;
  bool IsIdle(const std::string& folder) const;
  bool IsClosing(const std::string& folder) const;
  bool InBackoff(const std::string& folder) const;
  bool HasPendingMessages(const std::string& folder) const;
  int active_count() const { return active_count_; }
  int max_concurrent() const { return max_concurrent_; }

  // Groups with activity: active ones first, then waiting ones in line order.
  std::vector<GroupQueueSnapshot> Snapshot() const;

 private:
  struct GroupState {
    bool active = false;
    bool idle = false;
    uint64_t idle_since = 0;  // SetIdle(true) order: lower has idled longer
    bool closing = false;
    bool pending_messages = false;
    bool backoff = false;
    bool in_line = false;
    int64_t active_task_id = 0;
    std::deque<QueueWork> tasks;
  };

  bool HasWork(const GroupState& state) const;
  void EnterLine(const std::string& folder, GroupState* state);
  std::vector<GroupQueueSnapshot> SnapshotWhere(bool active) const;

  int max_concurrent_;
  int active_count_ = 0;
  uint64_t idle_count_ = 0;
  std::map<std::string, GroupState> groups_;
  std::deque<std::string> line_;
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_GROUP_QUEUE_H_
