#include "services/router/delivery.h"

#include <algorithm>
#include <atomic>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "services/router/policy.h"
#include "services/router/proto_time.h"
#include "services/router/router_log.h"

namespace clawdie::router {
namespace {

// The store was restarting or the call's answer was lost: the same request may succeed.
bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) || absl::IsAborted(status);
}

// A key no other outbox write of this or any other router process uses: a random prefix
// drawn once per process and a counter.
std::string NextDedupKey() {
  static const std::string prefix = [] {
    std::random_device random;
    return absl::StrCat(absl::Hex(random(), absl::kZeroPad8), absl::Hex(random(), absl::kZeroPad8),
                        absl::Hex(random(), absl::kZeroPad8), absl::Hex(random(), absl::kZeroPad8));
  }();
  static std::atomic<uint64_t> counter{0};
  return absl::StrCat(prefix, "-", counter.fetch_add(1));
}

}  // namespace

Deliverer::Deliverer(StoreClient* store, GatewayClient* gateway, const Clock* clock,
                     Executor* executor)
    : store_(store), gateway_(gateway), clock_(clock), executor_(executor) {}

absl::StatusOr<pb::OutboxEntry> Deliverer::Enqueue(const std::string& chat_jid,
                                                   const std::string& text, int64_t run_id,
                                                   int64_t answered_seq) {
  pb::EnqueueOutboxRequest request;
  request.mutable_entry()->set_chat_jid(chat_jid);
  request.mutable_entry()->set_text(text);
  request.mutable_entry()->set_run_id(run_id);
  request.set_run_answered_seq(answered_seq);
  request.set_dedup_key(NextDedupKey());
  absl::StatusOr<pb::OutboxEntry> entry = store_->EnqueueOutbox(request);
  absl::Duration backoff = absl::Milliseconds(100);
  for (absl::Duration waited;
       !entry.ok() && IsTransient(entry.status()) && waited < absl::Seconds(30);
       waited += backoff, backoff = std::min(backoff * 2, absl::Seconds(2))) {
    Log()->warn("outbox for {}: {}; retrying in {}", chat_jid,
                std::string(entry.status().message()), absl::FormatDuration(backoff));
    absl::SleepFor(backoff);
    entry = store_->EnqueueOutbox(request);
  }
  if (!entry.ok()) return entry.status();
  executor_->Post([this, copy = *entry] { Attempt(copy); });
  return entry;
}

void Deliverer::Attempt(const pb::OutboxEntry& entry) {
  if (!BeginAttempt(entry.id())) return;
  std::vector<std::string> pending_ack;
  bool was_sent = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = unacknowledged_.find(entry.id());
    if (it != unacknowledged_.end()) {
      pending_ack = it->second;
      was_sent = true;
    }
  }
  if (was_sent) {
    Acknowledge(entry.id(), pending_ack);
    EndAttempt(entry.id());
    return;
  }

  pb::SendRequest request;
  request.set_chat_jid(entry.chat_jid());
  request.set_text(entry.text());
  request.set_reply_to_platform_id(entry.reply_to_platform_id());
  request.set_outbox_id(entry.id());
  absl::StatusOr<pb::SendResponse> sent = gateway_->Send(request);
  if (sent.ok()) {
    std::vector<std::string> ids(sent->platform_message_ids().begin(),
                                 sent->platform_message_ids().end());
    Acknowledge(entry.id(), ids);
  } else {
    RecordFailure(entry, sent.status());
  }
  EndAttempt(entry.id());
}

absl::Status Deliverer::DeliverDue() {
  pb::ListPendingOutboxRequest request;
  *request.mutable_now() = ToProto(clock_->Now());
  request.set_limit(100);
  absl::StatusOr<pb::ListPendingOutboxResponse> due = store_->ListPendingOutbox(request);
  if (!due.ok()) return due.status();
  for (const pb::OutboxEntry& entry : due->entries()) Attempt(entry);
  return absl::OkStatus();
}

bool Deliverer::BeginAttempt(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_.insert(id).second;
}

void Deliverer::EndAttempt(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.erase(id);
}

bool Deliverer::Acknowledge(int64_t id, const std::vector<std::string>& platform_ids) {
  pb::MarkDeliveredRequest request;
  request.set_id(id);
  for (const std::string& platform_id : platform_ids) request.add_platform_message_ids(platform_id);
  absl::StatusOr<pb::OutboxEntry> marked = store_->MarkDelivered(request);
  std::lock_guard<std::mutex> lock(mu_);
  if (marked.ok()) {
    unacknowledged_.erase(id);
    Log()->debug("outbox {}: delivered as {} message(s)", id, platform_ids.size());
    return true;
  }
  unacknowledged_[id] = platform_ids;
  Log()->warn("outbox {}: sent but not acknowledged, will acknowledge again: {}", id,
              std::string(marked.status().message()));
  return false;
}

void Deliverer::RecordFailure(const pb::OutboxEntry& entry, const absl::Status& error) {
  int attempts = entry.attempts() + 1;
  bool permanent = IsPermanentDeliveryError(error) || attempts >= kMaxDeliveryAttempts;
  std::string text(error.message());
  if (!IsPermanentDeliveryError(error) && permanent) {
    text = "gave up after " + std::to_string(attempts) + " attempts: " + text;
  }

  pb::MarkFailedRequest request;
  request.set_id(entry.id());
  request.set_error(text);
  request.set_permanent(permanent);
  absl::Time next = clock_->Now() + DeliveryRetryDelay(attempts);
  if (!permanent) *request.mutable_next_attempt_at() = ToProto(next);
  absl::StatusOr<pb::OutboxEntry> marked = store_->MarkFailed(request);

  auto log = Log();
  if (permanent) {
    log->warn("outbox {} to {}: delivery failed for good: {}", entry.id(), entry.chat_jid(), text);
  } else {
    log->info("outbox {} to {}: attempt {} failed, retrying at {}: {}", entry.id(),
              entry.chat_jid(), attempts, absl::FormatTime(next), text);
    executor_->PostAt(next, [this] { DeliverDue().IgnoreError(); });
  }
  if (!marked.ok()) {
    log->warn("outbox {}: recording the failure: {}", entry.id(),
              std::string(marked.status().message()));
  }
}

}  // namespace clawdie::router
