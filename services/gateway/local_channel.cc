// Local chat channel; see local_channel.h.
#include "services/gateway/local_channel.h"

#include <algorithm>
#include <chrono>

#include "common/chat_key.h"

namespace clawdie::gateway {

std::optional<LocalEvent> LocalSubscription::Next(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
               [&] { return closed_ || !events_.empty(); });
  if (events_.empty()) return std::nullopt;
  LocalEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

void LocalSubscription::Push(LocalEvent event) {
  std::lock_guard<std::mutex> lock(mu_);
  events_.push_back(std::move(event));
  cv_.notify_all();
}

void LocalSubscription::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

bool LocalSubscription::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

LocalChannel::LocalChannel(Ingester* ingester, Clock* clock) : ingester_(ingester), clock_(clock) {
  health_.SetIdentity("local");
  health_.Connected();
}

bool LocalChannel::ValidName(const std::string& name) {
  // The rule clawctl and the router check too (no ".", ".." or option-like "-x" names).
  return ValidateChatKey("local:" + name).ok();
}

std::shared_ptr<LocalSubscription> LocalChannel::Subscribe(const std::string& name) {
  auto sub = std::make_shared<LocalSubscription>();
  std::lock_guard<std::mutex> lock(mu_);
  for (LocalEvent& e : backlog_[name]) sub->Push(std::move(e));
  backlog_.erase(name);
  subscribers_[name].push_back(sub);
  return sub;
}

void LocalChannel::Unsubscribe(const std::string& name,
                               const std::shared_ptr<LocalSubscription>& sub) {
  sub->Close();
  std::lock_guard<std::mutex> lock(mu_);
  auto& subs = subscribers_[name];
  subs.erase(std::remove(subs.begin(), subs.end(), sub), subs.end());
  if (subs.empty()) subscribers_.erase(name);
}

absl::StatusOr<std::string> LocalChannel::Receive(const std::string& name,
                                                  const std::string& text) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(
        "local chat " + name +
        ": name must be 1-64 of [A-Za-z0-9_.-], starting with a letter or digit");
  }
  InboundMessage m;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Ids from the clock keep them unique across gateway restarts (the store dedups on them).
    m.platform_message_id = "local-in-" + std::to_string(absl::ToUnixMicros(clock_->Now())) + "-" +
                            std::to_string(next_id_++);
  }
  m.chat_key = "local:" + name;
  m.chat_name = name;
  m.chat_type = "private";
  m.sender_id = name;
  m.sender_name = name;
  m.text = text;
  m.time = clock_->Now();
  absl::Status status = ingester_->Ingest(m);
  if (!status.ok()) return status;
  health_.CountReceived();
  return m.platform_message_id;
}

absl::StatusOr<std::vector<std::string>> LocalChannel::Send(const std::string& chat_key,
                                                            const std::string& text) {
  std::string name = chat_key.rfind("local:", 0) == 0 ? chat_key.substr(6) : "";
  if (!ValidName(name))
    return absl::InvalidArgumentError("send " + chat_key + ": not local:<name>");
  if (text.empty()) return absl::InvalidArgumentError("send " + chat_key + ": empty text");
  std::lock_guard<std::mutex> lock(mu_);
  LocalEvent event{text,
                   "local-" + std::to_string(absl::ToUnixMicros(clock_->Now())) + "-" +
                       std::to_string(next_id_++),
                   ""};
  auto it = subscribers_.find(name);
  if (it == subscribers_.end() || it->second.empty()) {
    std::deque<LocalEvent>& backlog = backlog_[name];
    backlog.push_back(event);
    if (backlog.size() > kBacklog) backlog.pop_front();
  } else {
    for (auto& sub : it->second) sub->Push(event);
  }
  health_.CountSent(1);
  return std::vector<std::string>{event.platform_message_id};
}

ChannelStatus LocalChannel::Status() const {
  ChannelStatus status = health_.Get();
  std::lock_guard<std::mutex> lock(mu_);
  status.enabled = true;
  for (const auto& [name, events] : backlog_) status.queue_depth += events.size();
  return status;
}

}  // namespace clawdie::gateway
