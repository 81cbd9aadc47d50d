// WhatsApp webhook: signature, verification, normalisation, dedup; see whatsapp.h.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>

#include "common/logging.h"
#include "nlohmann/json.hpp"
#include "services/gateway/untrusted_json.h"
#include "services/gateway/whatsapp.h"

namespace clawdie::gateway {
namespace {

using json = nlohmann::json;

constexpr size_t kRemembered = 10000;

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xF];
  }
  return out;
}

// The array at `key` by reference (never a copy), or an empty one.
const json& ArrayOrEmpty(const json& obj, const char* key) {
  static const json kEmpty = json::array();
  const json* array = JsonArray(obj, key);
  return array != nullptr ? *array : kEmpty;
}

// A number as the platform wrote it, or "?" for anything else.
std::string NumberText(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->dump() : "?";
}

// WhatsApp sends Unix times as decimal strings.
absl::Time Timestamp(const json& obj) {
  std::string text = JsonString(obj, "timestamp");
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size()) seconds = 0;
  return PlatformTimeOrNow(seconds);
}

// A phone number in international form, digits only (what `from` and `wa_id` hold).
bool IsPhoneNumber(const std::string& s) {
  return !s.empty() && s.size() <= 20 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Placeholder and caption for a media message, with its attachment.
std::string MediaText(const json& msg, const std::string& type, InboundMessage* out) {
  const json* media = JsonObject(msg, type.c_str());
  if (media == nullptr) return "[" + type + "]";
  out->attachments.push_back({type == "image" ? "photo" : type, JsonString(*media, "filename"),
                              JsonString(*media, "mime_type"), JsonString(*media, "id"), 0});
  std::string label;
  if (type == "image")
    label = "[Photo]";
  else if (type == "video")
    label = "[Video]";
  else if (type == "sticker")
    label = "[Sticker]";
  else if (type == "audio")
    label = JsonBool(*media, "voice") ? "[Voice message]" : "[Audio]";
  else if (type == "document") {
    std::string name = JsonString(*media, "filename");
    label = name.empty() ? "[Document]" : "[Document: " + name + "]";
  } else {
    label = "[" + type + "]";
  }
  std::string caption = JsonString(*media, "caption");
  return caption.empty() ? label : label + " " + caption;
}

std::string MessageText(const json& msg, InboundMessage* out) {
  std::string type = JsonString(msg, "type");
  if (type == "text") return JsonObject(msg, "text") ? JsonString(msg["text"], "body") : "";
  if (type == "location" && JsonObject(msg, "location")) {
    const json& loc = msg["location"];
    return "[Location: " + NumberText(loc, "latitude") + ", " + NumberText(loc, "longitude") + "]";
  }
  if (type == "button" && JsonObject(msg, "button")) return JsonString(msg["button"], "text");
  if (type == "interactive" && JsonObject(msg, "interactive")) {
    for (const char* kind : {"button_reply", "list_reply"}) {
      if (const json* reply = JsonObject(msg["interactive"], kind))
        return JsonString(*reply, "title");
    }
  }
  if (type == "reaction" || type == "unsupported" || type.empty()) return "";
  return MediaText(msg, type, out);
}

InboundMessage NormalizeMessage(const json& msg, const std::map<std::string, std::string>& names) {
  InboundMessage m;
  std::string from = JsonString(msg, "from");
  m.chat_key = "wa:" + from;
  m.chat_type = "private";
  m.sender_id = from;
  auto name = names.find(from);
  m.sender_name = name != names.end() ? name->second : from;
  m.chat_name = m.sender_name;
  m.platform_message_id = JsonString(msg, "id");
  m.time = Timestamp(msg);
  m.text = MessageText(msg, &m);
  if (const json* context = JsonObject(msg, "context"))
    m.reply_to_platform_id = JsonString(*context, "id");
  return m;
}

WhatsAppStatus NormalizeStatus(const json& s) {
  WhatsAppStatus status{JsonString(s, "id"), JsonString(s, "status"),
                        "wa:" + JsonString(s, "recipient_id"), "", Timestamp(s)};
  const json* errors = JsonArray(s, "errors");
  if (errors != nullptr && !errors->empty() && errors->front().is_object()) {
    const json& e = errors->front();
    status.error = NumberText(e, "code") + ": " + JsonString(e, "title");
  }
  return status;
}

// Adds the change's messages and statuses to `batch`, leaving out malformed ones.
void ParseChange(const json& value, WhatsAppWebhookBatch* batch) {
  std::map<std::string, std::string> names;
  if (const json* contacts = JsonArray(value, "contacts")) {
    for (const json& c : *contacts) {
      if (const json* profile = JsonObject(c, "profile")) {
        names[JsonString(c, "wa_id")] = JsonString(*profile, "name");
      }
    }
  }
  if (const json* messages = JsonArray(value, "messages")) {
    for (const json& msg : *messages) {
      if (!msg.is_object() || !IsPhoneNumber(JsonString(msg, "from"))) {
        batch->skipped.push_back("a message without a sender number");
        continue;
      }
      try {
        InboundMessage m = NormalizeMessage(msg, names);
        if (!m.text.empty() && !m.platform_message_id.empty()) batch->messages.push_back(m);
      } catch (const json::exception& e) {
        batch->skipped.push_back("message " + JsonString(msg, "id") + ": " + e.what());
      }
    }
  }
  if (const json* statuses = JsonArray(value, "statuses")) {
    for (const json& s : *statuses) {
      if (!s.is_object() || JsonString(s, "id").empty()) {
        batch->skipped.push_back("a status without a message id");
        continue;
      }
      batch->statuses.push_back(NormalizeStatus(s));
    }
  }
}

absl::StatusOr<WhatsAppWebhookBatch> Parse(const std::string& body) {
  json root = ParseUntrustedJson(body);
  if (!root.is_object() || JsonString(root, "object") != "whatsapp_business_account") {
    return absl::InvalidArgumentError(
        "parse whatsapp webhook: not a business account notification");
  }
  WhatsAppWebhookBatch batch;
  for (const json& entry : ArrayOrEmpty(root, "entry")) {
    for (const json& change : ArrayOrEmpty(entry, "changes")) {
      if (!change.is_object() || JsonString(change, "field") != "messages") continue;
      if (const json* value = JsonObject(change, "value")) ParseChange(*value, &batch);
    }
  }
  return batch;
}

}  // namespace

std::string WhatsAppSignature(const std::string& app_secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), app_secret.data(), static_cast<int>(app_secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &mac_len);
  return "sha256=" + Hex(mac, mac_len);
}

bool VerifyWhatsAppSignature(const std::string& app_secret, const std::string& body,
                             const std::string& header) {
  if (app_secret.empty()) return false;
  std::string expected = WhatsAppSignature(app_secret, body);
  // Header hex may come in upper case; our own is lower case.
  std::string given = header;
  for (char& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (given.size() != expected.size()) return false;
  return CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

absl::StatusOr<WhatsAppWebhookBatch> ParseWhatsAppWebhook(const std::string& body) {
  try {
    return Parse(body);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(std::string("parse whatsapp webhook: ") + e.what());
  }
}

DeliveryTracker::Tracked& DeliveryTracker::TrackLocked(const std::string& message_id) {
  auto [it, inserted] = tracked_.try_emplace(message_id);
  if (inserted) order_.push_back(message_id);
  if (order_.size() > kRemembered) {
    tracked_.erase(order_.front());  // the oldest, never the one just added
    order_.pop_front();
  }
  return it->second;
}

void DeliveryTracker::RememberSent(const std::string& message_id, int64_t outbox_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TrackLocked(message_id).outbox_id = outbox_id;
}

void DeliveryTracker::Update(const WhatsAppStatus& status) {
  std::lock_guard<std::mutex> lock(mu_);
  TrackLocked(status.message_id).state = status.status;
}

std::string DeliveryTracker::StateOf(const std::string& message_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tracked_.find(message_id);
  return it == tracked_.end() ? "" : it->second.state;
}

int64_t DeliveryTracker::OutboxOf(const std::string& message_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tracked_.find(message_id);
  return it == tracked_.end() ? 0 : it->second.outbox_id;
}

WhatsAppWebhook::WhatsAppWebhook(std::string app_secret, std::string verify_token,
                                 Ingester* ingester, DeliveryTracker* tracker,
                                 ChannelHealth* health)
    : app_secret_(std::move(app_secret)),
      verify_token_(std::move(verify_token)),
      ingester_(ingester),
      tracker_(tracker),
      health_(health) {}

HttpReply WhatsAppWebhook::HandleVerification(const std::string& mode, const std::string& token,
                                              const std::string& challenge) const {
  bool token_ok = !verify_token_.empty() && token.size() == verify_token_.size() &&
                  CRYPTO_memcmp(token.data(), verify_token_.data(), token.size()) == 0;
  if (mode != "subscribe" || !token_ok) {
    GetLogger("whatsapp")->warn("webhook verification refused: wrong hub.mode or hub.verify_token");
    return {403, "verification refused"};
  }
  if (challenge.empty()) return {400, "hub.challenge missing"};
  return {200, challenge};
}

bool WhatsAppWebhook::Seen(const std::string& message_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_.count(message_id) > 0;
}

void WhatsAppWebhook::Remember(const std::string& message_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (seen_.insert(message_id).second) seen_order_.push_back(message_id);
  if (seen_order_.size() > kRemembered) {
    seen_.erase(seen_order_.front());
    seen_order_.pop_front();
  }
}

HttpReply WhatsAppWebhook::HandleNotification(const std::string& body,
                                              const std::string& signature) {
  auto log = GetLogger("whatsapp");
  if (!VerifyWhatsAppSignature(app_secret_, body, signature)) {
    log->warn("webhook: rejected a notification with a bad X-Hub-Signature-256");
    return {401, "bad signature"};
  }
  absl::StatusOr<WhatsAppWebhookBatch> batch = ParseWhatsAppWebhook(body);
  if (!batch.ok()) {
    log->warn("webhook: {}", std::string(batch.status().message()));
    return {400, "not a notification"};
  }
  for (const std::string& reason : batch->skipped) log->warn("webhook: skipped {}", reason);
  for (const InboundMessage& m : batch->messages) {
    if (Seen(m.platform_message_id)) continue;
    absl::Status status = ingester_->Ingest(m);
    if (status.code() == absl::StatusCode::kInvalidArgument) {
      // The router will never take this message; asking Meta to redeliver would stall the rest.
      log->error("dropping {} from {}: {}", m.platform_message_id, m.chat_key,
                 std::string(status.message()));
      Remember(m.platform_message_id);
      continue;
    }
    if (!status.ok()) {
      // Meta redelivers on non-2xx; the messages ingested before stay deduplicated.
      health_->Failed("ingest " + m.platform_message_id + ": " + std::string(status.message()),
                      absl::Now());
      return {503, "try again later"};
    }
    Remember(m.platform_message_id);
    health_->CountReceived();
  }
  for (const WhatsAppStatus& s : batch->statuses) {
    if (!PassOn(s)) return {503, "try again later"};
  }
  health_->Connected();
  return {200, "ok"};
}

bool WhatsAppWebhook::PassOn(const WhatsAppStatus& s) {
  auto log = GetLogger("whatsapp");
  tracker_->Update(s);
  if (s.status == "failed") {
    log->warn("message {} to {} failed: {}", s.message_id, s.recipient, s.error);
  }
  DeliveryReport report{s.recipient, s.message_id, tracker_->OutboxOf(s.message_id),
                        s.status,    s.error,      s.time};
  absl::Status status = ingester_->ReportDelivery(report);
  if (status.ok()) return true;
  if (RouterMayAcceptLater(status)) {
    health_->Failed(
        "report " + s.status + " of " + s.message_id + ": " + std::string(status.message()),
        absl::Now());
    return false;
  }
  // Not one of the outbox's messages, or a status the router does not know: nothing to retry.
  log->debug("status {} of {} not recorded: {}", s.status, s.message_id,
             std::string(status.message()));
  return true;
}

}  // namespace clawdie::gateway
