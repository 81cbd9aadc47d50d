// Chat migrations and delivery receipts from the gateway; see gateway_reports.h.
#include "services/router/gateway_reports.h"

#include <optional>
#include <string>

#include "common/status.h"
#include "services/router/router_log.h"

namespace clawdie::router {
namespace {

// The group registered on `chat_jid`, nullopt when none is, or the store's error.
absl::StatusOr<std::optional<pb::Group>> GroupOfChat(StoreClient* store,
                                                     const std::string& chat_jid) {
  pb::GetGroupRequest lookup;
  lookup.set_chat_jid(chat_jid);
  absl::StatusOr<pb::Group> group = store->GetGroup(lookup);
  if (group.ok()) return std::optional<pb::Group>(*group);
  if (group.status().code() == absl::StatusCode::kNotFound) return std::nullopt;
  return group.status();
}

}  // namespace

absl::StatusOr<pb::MigrateChatResponse> MigrateGroupChat(StoreClient* store,
                                                         const pb::MigrateChatRequest& request) {
  const std::string& from = request.from_chat_jid();
  const std::string& to = request.to_chat_jid();
  if (from.empty() || to.empty() || from == to) {
    return absl::InvalidArgumentError("migrate chat " + from + " to " + to +
                                      ": two different chat keys are required");
  }
  absl::StatusOr<std::optional<pb::Group>> old_group = GroupOfChat(store, from);
  if (!old_group.ok()) return Annotate(old_group.status(), "migrate chat " + from);
  absl::StatusOr<std::optional<pb::Group>> new_group = GroupOfChat(store, to);
  if (!new_group.ok()) return Annotate(new_group.status(), "migrate chat " + from);

  pb::MigrateChatResponse response;
  if (!old_group->has_value()) {
    // Nothing registered there, or a redelivered migration that was applied already.
    if (new_group->has_value()) response.set_group_folder((*new_group)->folder());
    return response;
  }
  if (new_group->has_value()) {
    return absl::FailedPreconditionError("migrate chat " + from + " to " + to + ": " + to +
                                         " is already the chat of group " + (*new_group)->folder() +
                                         "; unregister one of the groups " +
                                         (*old_group)->folder() + " and " + (*new_group)->folder());
  }

  // UpdateGroup replaces every field, so the stored group goes back with only its key changed.
  pb::UpdateGroupRequest update;
  *update.mutable_group() = **old_group;
  update.mutable_group()->set_chat_jid(to);
  absl::StatusOr<pb::Group> moved = store->UpdateGroup(update);
  if (!moved.ok()) return Annotate(moved.status(), "migrate chat " + from);
  Log()->info("group {} follows its chat from {} to {}", moved->folder(), from, to);
  response.set_group_folder(moved->folder());
  response.set_moved(true);
  return response;
}

absl::StatusOr<pb::ReportDeliveryResponse> RecordDeliveryReceipt(
    StoreClient* store, const pb::ReportDeliveryRequest& request) {
  pb::RecordReceiptRequest record;
  *record.mutable_receipt() = request.receipt();
  absl::StatusOr<pb::OutboxEntry> entry = store->RecordReceipt(record);
  if (!entry.ok()) return entry.status();
  if (request.receipt().state() == pb::PLATFORM_DELIVERY_STATE_FAILED) {
    Log()->warn("outbox {} to {}: the platform could not deliver {}: {}", entry->id(),
                entry->chat_jid(), request.receipt().platform_message_id(),
                request.receipt().error());
  }
  pb::ReportDeliveryResponse response;
  response.set_outbox_id(entry->id());
  response.set_platform_state(entry->platform_state());
  return response;
}

}  // namespace clawdie::router
