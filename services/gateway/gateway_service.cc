// gRPC Gateway service; see gateway_service.h.
#include "services/gateway/gateway_service.h"

#include <thread>

#include "common/logging.h"
#include "common/status.h"

namespace clawdie::gateway {
namespace {

using clawdie::v1::LocalChatEvent;
using clawdie::v1::LocalChatRequest;

LocalChatEvent ToProto(const LocalEvent& e) {
  LocalChatEvent out;
  out.set_text(e.text);
  out.set_platform_message_id(e.platform_message_id);
  out.set_ack_platform_message_id(e.ack_platform_message_id);
  return out;
}

}  // namespace

grpc::Status GatewayService::Send(grpc::ServerContext* context,
                                  const clawdie::v1::SendRequest* request,
                                  clawdie::v1::SendResponse* response) {
  GetLogger("gateway")->debug("send outbox {} to {}", request->outbox_id(), request->chat_jid());
  absl::StatusOr<SentReply> sent = gateway_->Send(
      request->chat_jid(), request->text(), request->reply_to_platform_id(), request->outbox_id());
  if (!sent.ok()) return ToGrpcStatus(sent.status());
  for (const std::string& id : sent->platform_ids) response->add_platform_message_ids(id);
  response->set_chunks_already_delivered(sent->already_delivered);
  return grpc::Status::OK;
}

grpc::Status GatewayService::SetTyping(grpc::ServerContext* context,
                                       const clawdie::v1::SetTypingRequest* request,
                                       clawdie::v1::SetTypingResponse* response) {
  return ToGrpcStatus(gateway_->SetTyping(request->chat_jid(), request->typing()));
}

grpc::Status GatewayService::Status(grpc::ServerContext* context,
                                    const clawdie::v1::StatusRequest* request,
                                    clawdie::v1::StatusResponse* response) {
  for (const ChannelStatus& s : gateway_->Status()) {
    clawdie::v1::ChannelStatus* out = response->add_channels();
    out->set_name(s.channel);
    out->set_enabled(s.enabled);
    out->set_connected(s.connected);
    out->set_last_error(s.last_error);
    out->set_identity(s.identity);
    out->set_queue_depth(static_cast<int32_t>(s.queue_depth));
  }
  return grpc::Status::OK;
}

grpc::Status GatewayService::LocalChat(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<LocalChatEvent, LocalChatRequest>* stream) {
  LocalChatRequest first;
  if (!stream->Read(&first)) return grpc::Status::OK;
  std::string name = first.as();
  if (!LocalChannel::ValidName(name)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "local chat " + name +
                            ": `as` must be 1-64 of [A-Za-z0-9_.-], starting with a letter "
                            "or digit");
  }
  LocalChannel* local = gateway_->local();
  std::shared_ptr<LocalSubscription> sub = local->Subscribe(name);
  grpc::Status result = grpc::Status::OK;
  std::mutex result_mu;
  std::atomic<bool> reader_done{false};

  // One thread reads what the client types; this one writes events, so writes never race.
  std::thread reader([&] {
    LocalChatRequest request = first;
    do {
      if (request.text().empty()) continue;
      absl::StatusOr<std::string> id = local->Receive(name, request.text());
      if (!id.ok()) {
        std::lock_guard<std::mutex> lock(result_mu);
        result = ToGrpcStatus(id.status());
        reader_done.store(true);
        sub->Close();
        return;
      }
      sub->Push({"", "", *id});
    } while (stream->Read(&request));
    reader_done.store(true);
  });
  while (!context->IsCancelled() && !shutting_down_.load() && !sub->closed()) {
    std::optional<LocalEvent> event = sub->Next(absl::Milliseconds(200));
    if (event && !stream->Write(ToProto(*event))) break;
  }
  // Drain what is queued (e.g. the ack before an error), then let the reader finish.
  while (std::optional<LocalEvent> event = sub->Next(absl::ZeroDuration())) {
    if (!stream->Write(ToProto(*event))) break;
  }
  local->Unsubscribe(name, sub);
  // Unblock a reader still waiting for the client; a reader that failed has returned already.
  if (!reader_done.load()) context->TryCancel();
  reader.join();
  std::lock_guard<std::mutex> lock(result_mu);
  return result;
}

}  // namespace clawdie::gateway
