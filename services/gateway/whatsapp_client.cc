// WhatsApp Graph API sends; see whatsapp.h.
#include <algorithm>

#include "common/logging.h"
#include "nlohmann/json.hpp"
#include "services/gateway/chunker.h"
#include "services/gateway/untrusted_json.h"
#include "services/gateway/whatsapp.h"

namespace clawdie::gateway {
namespace {

using json = nlohmann::json;

constexpr int kOutsideWindow = 131047;
constexpr int kMaxAttempts = 4;

absl::Status GraphError(const std::string& op, long http_status, const json& body) {
  static const json kNone = json::object();
  auto found = body.is_object() ? body.find("error") : body.end();
  const json& error = found != body.end() && found->is_object() ? *found : kNone;
  int64_t code = JsonInt64(error, "code").value_or(0);
  auto text = error.find("message");
  std::string message = text != error.end() && text->is_string() ? text->get<std::string>() : "";
  std::string cause =
      op + ": " + (message.empty() ? "HTTP " + std::to_string(http_status) : message);
  if (code == kOutsideWindow) {
    return absl::FailedPreconditionError(
        op +
        ": outside the 24-hour customer service window (131047); WhatsApp only delivers "
        "free-form text within 24 hours of the user's last message");
  }
  // 4 / 80007 / 130429 / 131048 / 131056 are throttling; 5xx and 1 / 2 are transient.
  bool transient = http_status >= 500 || http_status == 429 || code == 4 || code == 80007 ||
                   code == 130429 || code == 131048 || code == 131056 || code == 1 || code == 2;
  if (transient) return absl::UnavailableError(cause);
  return absl::FailedPreconditionError(cause);
}

}  // namespace

WhatsAppClient::WhatsAppClient(std::string api_base, std::string phone_number_id,
                               std::string access_token)
    : api_base_(std::move(api_base)),
      phone_number_id_(std::move(phone_number_id)),
      access_token_(std::move(access_token)) {
  while (!api_base_.empty() && api_base_.back() == '/') api_base_.pop_back();
}

absl::StatusOr<std::string> WhatsAppClient::SendText(const std::string& chat_key,
                                                     const std::string& text,
                                                     const std::string& reply_to) {
  std::string op = "send " + chat_key;
  if (chat_key.rfind("wa:", 0) != 0 || chat_key.size() <= 3) {
    return absl::InvalidArgumentError(op + ": not a wa:<number> chat key");
  }
  json body = {{"messaging_product", "whatsapp"},
               {"recipient_type", "individual"},
               {"to", chat_key.substr(3)},
               {"type", "text"},
               {"text", {{"body", text}, {"preview_url", false}}}};
  if (!reply_to.empty()) body["context"] = {{"message_id", reply_to}};
  HttpRequest request;
  request.method = "POST";
  request.url = api_base_ + "/" + phone_number_id_ + "/messages";
  request.headers = {"Content-Type: application/json", "Authorization: Bearer " + access_token_};
  request.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  request.label = "whatsapp " + op;
  absl::StatusOr<HttpResponse> http = http_.Do(request);
  if (!http.ok()) return absl::UnavailableError(std::string(http.status().message()));

  json reply = ParseUntrustedJson(http->body);
  if (http->status != 200) return GraphError(op, http->status, reply);
  static const json::json_pointer kMessageId("/messages/0/id");
  if (reply.contains(kMessageId) && reply.at(kMessageId).is_string()) {
    return reply.at(kMessageId).get<std::string>();
  }
  // WhatsApp took the message (HTTP 200): sending it again would deliver it twice, so it
  // counts as sent, as a Telegram "ok" without a message_id does.
  GetLogger("whatsapp")->warn("{}: HTTP 200 without a message id; counted as sent", op);
  return std::string("0");
}

absl::StatusOr<std::vector<std::string>> WhatsAppSender::Send(const std::string& chat_key,
                                                              const std::string& text,
                                                              const std::string& reply_to,
                                                              ChunkProgress* progress) {
  if (text.empty()) return absl::InvalidArgumentError("send " + chat_key + ": empty text");
  std::vector<Chunk> chunks = SplitMessage(text, kTelegramMessageLimit);
  std::vector<std::string> ids;
  if (progress != nullptr) ids = progress->delivered;
  for (size_t i = ids.size(); i < chunks.size(); ++i) {
    const Chunk& chunk = chunks[i];
    absl::Duration backoff = absl::Seconds(1);
    absl::StatusOr<std::string> id;
    if (progress != nullptr && progress->on_sending) progress->on_sending(ids);
    for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
      id = client_->SendText(chat_key, chunk.text, ids.empty() ? reply_to : "");
      if (id.ok() || id.status().code() != absl::StatusCode::kUnavailable) break;
      if (attempt == kMaxAttempts) break;
      GetLogger("whatsapp")
          ->warn("{}; retrying in {}", std::string(id.status().message()),
                 absl::FormatDuration(backoff));
      if (clock_->SleepFor(backoff, stop_)) {
        return WithDeliveredChunks(
            absl::CancelledError("send " + chat_key + ": gateway shutting down"), ids,
            chunks.size());
      }
      backoff = std::min(backoff * 2, absl::Seconds(30));
    }
    if (!id.ok()) return WithDeliveredChunks(id.status(), ids, chunks.size());
    ids.push_back(*id);
    if (progress != nullptr && progress->on_chunk) progress->on_chunk(ids, chunks.size());
  }
  return ids;
}

}  // namespace clawdie::gateway
