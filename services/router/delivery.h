// Delivery of replies (DESIGN.md §4 step 7, docs/router.md "Delivery"): every
// reply is first written to the store's outbox, then sent through
// Gateway.Send and acknowledged with MarkDelivered. Transient failures are
// retried from the outbox with backoff (also after a restart, since the outbox
// is in the store); permanent ones are marked failed with the reason. An entry
// whose delivery was acknowledged is never sent again, and an entry sent but
// not yet acknowledged (the store was briefly away) is acknowledged, not resent.
//
// Thread-safety: all methods are safe from any thread; one entry is never
// attempted by two threads at once.
#ifndef CLAWDIE_SERVICES_ROUTER_DELIVERY_H_
#define CLAWDIE_SERVICES_ROUTER_DELIVERY_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/router/clock.h"
#include "services/router/executor.h"
#include "services/router/gateway_client.h"
#include "services/router/store_client.h"

namespace clawdie::router {

class Deliverer {
 public:
  // Not owned; all must outlive this object.
  Deliverer(StoreClient* store, GatewayClient* gateway, const Clock* clock, Executor* executor);

  // Writes `text` for `chat_jid` to the outbox and posts its first attempt. OK means the
  // outbox holds the entry (it will be delivered or end FAILED); errors are the store's.
  // While the store is unreachable (restarting) the write is repeated for up to about 30 s
  // under one dedup key, so a write whose answer was lost is not added twice. With
  // `answered_seq` > 0 the same commit marks run `run_id` delivered and answered up to it.
  absl::StatusOr<pb::OutboxEntry> Enqueue(const std::string& chat_jid, const std::string& text,
                                          int64_t run_id, int64_t answered_seq = 0);

  // Attempts one entry now, on the calling thread, unless it is already being attempted.
  void Attempt(const pb::OutboxEntry& entry);

  // Attempts every entry the store says is due. Called on a timer and after a restart.
  // Returns the store's error when it could not be listed.
  absl::Status DeliverDue();

 private:
  bool BeginAttempt(int64_t id);
  void EndAttempt(int64_t id);
  bool Acknowledge(int64_t id, const std::vector<std::string>& platform_ids);
  void RecordFailure(const pb::OutboxEntry& entry, const absl::Status& error);

  StoreClient* store_;
  GatewayClient* gateway_;
  const Clock* clock_;
  Executor* executor_;

  std::mutex mu_;
  std::set<int64_t> in_flight_;
  // Sent but MarkDelivered failed: acknowledge again instead of sending twice.
  std::map<int64_t, std::vector<std::string>> unacknowledged_;
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_DELIVERY_H_
