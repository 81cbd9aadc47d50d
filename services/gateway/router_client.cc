// Router.Ingest client; see router_client.h.
#include "services/gateway/router_client.h"

#include "common/grpc_client.h"
#include "common/status.h"
#include "services/gateway/telegram_update.h"

namespace clawdie::gateway {
namespace {

clawdie::v1::Channel ChannelOf(const std::string& key) {
  if (key.rfind("tg:", 0) == 0) return clawdie::v1::CHANNEL_TELEGRAM;
  if (key.rfind("wa:", 0) == 0) return clawdie::v1::CHANNEL_WHATSAPP;
  if (key.rfind("local:", 0) == 0) return clawdie::v1::CHANNEL_LOCAL;
  return clawdie::v1::CHANNEL_UNSPECIFIED;
}

void FillChat(const InboundMessage& m, clawdie::v1::Chat* chat) {
  chat->set_jid(m.chat_key);
  chat->set_channel(ChannelOf(m.chat_key));
  chat->set_name(m.chat_name);
  chat->set_is_group(m.is_group);
  chat->set_chat_type(m.chat_type);
  absl::StatusOr<TelegramTarget> target = ParseTelegramChatKey(m.chat_key);
  if (target.ok()) {
    chat->set_telegram_chat_id(target->chat_id);
    chat->set_telegram_thread_id(target->thread_id);
  }
}

// `status` of a router call as an absl::Status with `what` in front. A router that does not
// answer in time is treated like one that is down.
absl::Status RouterStatus(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return absl::OkStatus();
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(what + ": " + status.error_message());
  }
  return Annotate(FromGrpcStatus(status), what);
}

}  // namespace

void ToIngestRequest(const InboundMessage& m, clawdie::v1::IngestRequest* request) {
  clawdie::v1::Message* msg = request->mutable_message();
  msg->set_chat_jid(m.chat_key);
  msg->set_platform_message_id(m.platform_message_id);
  msg->set_sender_id(m.sender_id);
  msg->set_sender_name(m.sender_name);
  msg->set_text(m.text);
  msg->mutable_time()->set_seconds(absl::ToUnixSeconds(m.time));
  msg->set_reply_to_platform_id(m.reply_to_platform_id);
  msg->set_reply_to_text(m.reply_to_text);
  msg->set_reply_to_sender_name(m.reply_to_sender_name);
  msg->set_mentions_bot(m.mentions_bot);
  msg->set_reply_to_bot(m.reply_to_bot);
  msg->set_from_bot(m.from_bot);
  msg->set_edited(m.edited);
  for (const InboundAttachment& a : m.attachments) {
    clawdie::v1::Attachment* out = msg->add_attachments();
    out->set_kind(a.kind);
    out->set_file_name(a.file_name);
    out->set_mime_type(a.mime_type);
    out->set_platform_file_id(a.platform_file_id);
    out->set_size_bytes(a.size_bytes);
  }
  FillChat(m, request->mutable_chat());
}

clawdie::v1::PlatformDeliveryState ToPlatformDeliveryState(const std::string& state) {
  if (state == "sent") return clawdie::v1::PLATFORM_DELIVERY_STATE_SENT;
  if (state == "delivered") return clawdie::v1::PLATFORM_DELIVERY_STATE_DELIVERED;
  if (state == "read") return clawdie::v1::PLATFORM_DELIVERY_STATE_READ;
  if (state == "failed") return clawdie::v1::PLATFORM_DELIVERY_STATE_FAILED;
  return clawdie::v1::PLATFORM_DELIVERY_STATE_UNSPECIFIED;
}

RouterIngester::RouterIngester(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : stub_(clawdie::v1::Router::NewStub(channel)), timeout_(timeout) {}

absl::Status RouterIngester::Ingest(const InboundMessage& message) {
  clawdie::v1::IngestRequest request;
  ToIngestRequest(message, &request);
  clawdie::v1::IngestResponse response;
  grpc::ClientContext context;
  PrepareContext(&context, timeout_);
  grpc::Status status = stub_->Ingest(&context, request, &response);
  return RouterStatus(status, "ingest " + message.chat_key + "#" + message.platform_message_id);
}

absl::Status RouterIngester::MigrateChat(const std::string& from_key, const std::string& to_key) {
  clawdie::v1::MigrateChatRequest request;
  request.set_from_chat_jid(from_key);
  request.set_to_chat_jid(to_key);
  clawdie::v1::MigrateChatResponse response;
  grpc::ClientContext context;
  PrepareContext(&context, timeout_);
  grpc::Status status = stub_->MigrateChat(&context, request, &response);
  return RouterStatus(status, "migrate chat " + from_key + " to " + to_key);
}

absl::Status RouterIngester::ReportDelivery(const DeliveryReport& report) {
  clawdie::v1::ReportDeliveryRequest request;
  clawdie::v1::DeliveryReceipt* receipt = request.mutable_receipt();
  receipt->set_chat_jid(report.chat_key);
  receipt->set_platform_message_id(report.platform_message_id);
  receipt->set_outbox_id(report.outbox_id);
  receipt->set_state(ToPlatformDeliveryState(report.state));
  receipt->set_error(report.error);
  receipt->mutable_time()->set_seconds(absl::ToUnixSeconds(report.time));
  clawdie::v1::ReportDeliveryResponse response;
  grpc::ClientContext context;
  PrepareContext(&context, timeout_);
  grpc::Status status = stub_->ReportDelivery(&context, request, &response);
  return RouterStatus(status, "report " + report.state + " of " + report.platform_message_id);
}

}  // namespace clawdie::gateway
