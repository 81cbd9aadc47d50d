#include "services/router/group_queue.h"

#include <algorithm>

namespace clawdie::router {

GroupQueue::GroupQueue(int max_concurrent) : max_concurrent_(std::max(1, max_concurrent)) {}

GroupQueue::MessageDecision GroupQueue::AddMessages(const std::string& folder) {
  GroupState& state = groups_[folder];
  if (state.active && !state.closing) return MessageDecision::kPipeIntoActive;
  state.pending_messages = true;
  EnterLine(folder, &state);
  return MessageDecision::kQueued;
}

bool GroupQueue::TryStartMessagesNow(const std::string& folder) {
  if (active_count_ >= max_concurrent_ || !line_.empty()) return false;
  auto it = groups_.find(folder);
  if (it != groups_.end() && (it->second.active || it->second.backoff || HasWork(it->second))) {
    return false;
  }
  GroupState& state = groups_[folder];
  state.active = true;
  ++active_count_;
  return true;
}

GroupQueue::TaskDecision GroupQueue::AddTask(QueueWork work) {
  work.kind = QueueWork::Kind::kTask;
  std::string folder = work.folder;
  GroupState& state = groups_[folder];
  if (state.active && state.active_task_id == work.task.id()) return TaskDecision::kDuplicate;
  for (const QueueWork& queued : state.tasks) {
    if (queued.task.id() == work.task.id()) return TaskDecision::kDuplicate;
  }
  state.tasks.push_back(std::move(work));
  EnterLine(folder, &state);
  if (state.active && state.idle && !state.closing) return TaskDecision::kCloseIdleAgent;
  return TaskDecision::kQueued;
}

std::vector<QueueWork> GroupQueue::TakeStartable() {
  std::vector<QueueWork> started;
  while (active_count_ < max_concurrent_ && !line_.empty()) {
    std::string folder = line_.front();
    line_.pop_front();
    GroupState& state = groups_[folder];
    state.in_line = false;
    if (state.active || !HasWork(state)) continue;

    QueueWork work;
    if (!state.tasks.empty()) {
      work = std::move(state.tasks.front());
      state.tasks.pop_front();
      state.active_task_id = work.task.id();
    } else {
      work.kind = QueueWork::Kind::kMessages;
      work.folder = folder;
      state.pending_messages = false;
    }
    state.active = true;
    ++active_count_;
    started.push_back(std::move(work));
  }
  return started;
}

void GroupQueue::Finish(const std::string& folder) {
  auto it = groups_.find(folder);
  if (it == groups_.end() || !it->second.active) return;
  GroupState& state = it->second;
  state.active = false;
  state.idle = false;
  state.closing = false;
  state.active_task_id = 0;
  --active_count_;
  if (HasWork(state)) {
    EnterLine(folder, &state);
  } else if (!state.backoff && !state.pending_messages) {
    groups_.erase(it);
  }
}

void GroupQueue::SetIdle(const std::string& folder, bool idle) {
  auto it = groups_.find(folder);
  if (it == groups_.end() || !it->second.active) return;
  if (idle && !it->second.idle) it->second.idle_since = ++idle_count_;
  it->second.idle = idle;
}

std::vector<std::string> GroupQueue::IdleAgentsToClose() const {
  if (active_count_ < max_concurrent_) return {};
  int wanted = 0;
  for (const std::string& folder : line_) {
    auto it = groups_.find(folder);
    if (it != groups_.end() && !it->second.active && HasWork(it->second)) ++wanted;
  }
  std::vector<std::pair<uint64_t, std::string>> idle;
  for (const auto& [folder, state] : groups_) {
    if (!state.active) continue;
    if (state.closing) {
      --wanted;
    } else if (state.idle) {
      idle.emplace_back(state.idle_since, folder);
    }
  }
  std::sort(idle.begin(), idle.end());
  std::vector<std::string> folders;
  for (const auto& entry : idle) {
    if (static_cast<int>(folders.size()) >= wanted) break;
    folders.push_back(entry.second);
  }
  return folders;
}

void GroupQueue::SetClosing(const std::string& folder) {
  auto it = groups_.find(folder);
  if (it != groups_.end() && it->second.active) it->second.closing = true;
}

void GroupQueue::SetBackoff(const std::string& folder, bool backoff) {
  GroupState& state = groups_[folder];
  state.backoff = backoff;
  if (backoff) {
    state.pending_messages = true;
  } else if (HasWork(state) && !state.active) {
    EnterLine(folder, &state);
  }
}

void GroupQueue::ClearPendingMessages(const std::string& folder) {
  auto it = groups_.find(folder);
  if (it == groups_.end()) return;
  it->second.pending_messages = false;
  it->second.backoff = false;
}

void GroupQueue::Forget(const std::string& folder) {
  auto it = groups_.find(folder);
  if (it == groups_.end()) return;
  it->second.pending_messages = false;
  it->second.backoff = false;
  it->second.tasks.clear();
  line_.erase(std::remove(line_.begin(), line_.end(), folder), line_.end());
  it->second.in_line = false;
  if (!it->second.active) groups_.erase(it);
}

bool GroupQueue::HasWaitingTask(const std::string& folder) const {
  auto it = groups_.find(folder);
  return it != groups_.end() && !it->second.tasks.empty();
}

bool GroupQueue::IsActive(const std::string& folder) const {
  auto it = groups_.find(folder);
  return it != groups_.end() && it->second.active;
}

bool GroupQueue::HasPendingMessages(const std::string& folder) const {
  auto it = groups_.find(folder);
  return it != groups_.end() && it->second.pending_messages;
}

bool GroupQueue::IsIdle(const std::string& folder) const {
  auto it = groups_.find(folder);
  return it != groups_.end() && it->second.active && it->second.idle;
}

bool GroupQueue::IsClosing(const std::string& folder) const {
  auto it = groups_.find(folder);
  return it != groups_.end() && it->second.closing;
}

bool GroupQueue::InBackoff(const std::string& folder) const {
  auto it = groups_.find(folder);
  return it != groups_.end() && it->second.backoff;
}

std::vector<GroupQueueSnapshot> GroupQueue::Snapshot() const {
  std::vector<GroupQueueSnapshot> result = SnapshotWhere(true);
  std::vector<GroupQueueSnapshot> waiting = SnapshotWhere(false);
  result.insert(result.end(), waiting.begin(), waiting.end());
  return result;
}

bool GroupQueue::HasWork(const GroupState& state) const {
  return !state.tasks.empty() || (state.pending_messages && !state.backoff);
}

void GroupQueue::EnterLine(const std::string& folder, GroupState* state) {
  if (state->active || state->in_line || !HasWork(*state)) return;
  state->in_line = true;
  line_.push_back(folder);
}

std::vector<GroupQueueSnapshot> GroupQueue::SnapshotWhere(bool active) const {
  std::vector<GroupQueueSnapshot> result;
  auto add = [&](const std::string& folder, const GroupState& state) {
    result.push_back(GroupQueueSnapshot{folder, state.active, state.idle, state.closing,
                                        state.pending_messages, state.backoff,
                                        static_cast<int>(state.tasks.size())});
  };
  if (active) {
    for (const auto& [folder, state] : groups_) {
      if (state.active) add(folder, state);
    }
    return result;
  }
  for (const std::string& folder : line_) add(folder, groups_.at(folder));
  for (const auto& [folder, state] : groups_) {
    if (!state.active && !state.in_line) add(folder, state);
  }
  return result;
}

}  // namespace clawdie::router
