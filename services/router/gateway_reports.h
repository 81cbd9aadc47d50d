// What the gateway tells the router besides messages: a chat that moved to a new key
// (Telegram's migrate_to_chat_id when a group becomes a supergroup) and what a platform
// reported about a delivered reply (WhatsApp status callbacks). Both only touch the store,
// never the queue or live runs: a group keeps its folder, queue place, cursor and session
// when its chat key changes, because all of those are keyed by folder.
//
// Thread-safety: the functions are safe from any thread when `store` is.
#ifndef CLAWDIE_SERVICES_ROUTER_GATEWAY_REPORTS_H_
#define CLAWDIE_SERVICES_ROUTER_GATEWAY_REPORTS_H_

#include "absl/status/statusor.h"
#include "clawdie/v1/router.pb.h"
#include "services/router/store_client.h"

namespace clawdie::router {

// Router.MigrateChat: moves the group registered on `from_chat_jid` to `to_chat_jid`.
// Success when moved, when an earlier call moved it, or when neither key is registered.
// InvalidArgument for empty or equal keys; FailedPrecondition when `to_chat_jid` is already
// another group's chat; the store's error otherwise.
absl::StatusOr<pb::MigrateChatResponse> MigrateGroupChat(StoreClient* store,
                                                         const pb::MigrateChatRequest& request);

// Router.ReportDelivery: records the receipt on its outbox entry (Store.RecordReceipt).
// InvalidArgument for a receipt without platform id or state; NotFound when no entry holds
// the message; the store's error otherwise.
absl::StatusOr<pb::ReportDeliveryResponse> RecordDeliveryReceipt(
    StoreClient* store, const pb::ReportDeliveryRequest& request);

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_GATEWAY_REPORTS_H_
