// Channel-neutral inbound message as the gateway hands it to the router, and the Ingester
// interface the channels call. Plain C++ types so the channel code and its tests do not
// depend on the gRPC layer; router_client.h maps them onto clawdie.v1 messages.
//
// Thread-safety: the structs are values. Ingester implementations must be safe to call from
// several channel threads at once.
#ifndef CLAWDIE_SERVICES_GATEWAY_INBOUND_H_
#define CLAWDIE_SERVICES_GATEWAY_INBOUND_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/message_time.h"

namespace clawdie::gateway {

// A file or media item attached to a message; described, never downloaded.
struct InboundAttachment {
  std::string kind;  // "photo", "voice", "document", ...
  std::string file_name;
  std::string mime_type;
  std::string platform_file_id;
  int64_t size_bytes = 0;

  bool operator==(const InboundAttachment&) const = default;
};

// One message from a chat, normalised (DESIGN.md §4 step 1).
struct InboundMessage {
  std::string chat_key;   // "tg:-100…", "tg:-100…/5210", "wa:4670…", "local:alice"
  std::string chat_name;  // group title or private display name
  std::string chat_type;  // "private", "group", "supergroup", "channel"
  bool is_group = false;
  std::string platform_message_id;  // unique within the chat
  std::string sender_id;
  std::string sender_name;
  std::string text;  // text or caption, media placeholders first
  absl::Time time = absl::UnixEpoch();
  std::string reply_to_platform_id;  // empty when not a reply
  std::string reply_to_text;
  std::string reply_to_sender_name;
  bool mentions_bot = false;  // an @mention (or text_mention) of this bot
  bool reply_to_bot = false;  // a reply to one of this bot's messages
  bool from_bot = false;
  bool edited = false;  // an edit of an earlier message (docs/gateway.md, "Edits")
  std::vector<InboundAttachment> attachments;
};

// The time a platform gave a message, or `now` when it is not plausible
// (common/message_time.h).
inline absl::Time PlatformTimeOrNow(int64_t unix_seconds, absl::Time now = absl::Now()) {
  absl::Time time = absl::FromUnixSeconds(unix_seconds);
  return IsPlausibleMessageTime(time, now) ? time : now;
}

// True for router errors after which the same call may succeed later (the router or its
// store is down, slow or busy). A channel then leaves the platform's update unconfirmed;
// after any other error retrying cannot help, so the channel logs it and moves on.
inline bool RouterMayAcceptLater(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

// What a platform reported about a message the gateway sent (WhatsApp status callbacks).
struct DeliveryReport {
  std::string chat_key;             // "wa:4670…"
  std::string platform_message_id;  // the wamid
  int64_t outbox_id = 0;            // the outbox entry it was sent for, 0 when unknown
  std::string state;                // "sent", "delivered", "read", "failed"
  std::string error;                // "<code>: <title>" for failed
  absl::Time time = absl::UnixEpoch();
};

// The router as the channels see it. Each call's success means the router has recorded what
// it was told, so the channel may confirm the platform's update or callback; Unavailable (or
// DeadlineExceeded) means "try again later" and the channel must leave it unconfirmed so the
// platform delivers it again.
class Ingester {
 public:
  virtual ~Ingester() = default;

  // Hands a normalised message to the router: OK once it is stored (or known already).
  virtual absl::Status Ingest(const InboundMessage& message) = 0;

  // The chat `from_key` now lives at `to_key` (a Telegram group became a supergroup): a group
  // registered on the old key follows it. The default accepts and forgets, for ingesters
  // that only take messages (tests, benchmarks).
  virtual absl::Status MigrateChat(const std::string& from_key, const std::string& to_key) {
    return absl::OkStatus();
  }

  // Passes a platform's delivery report on to the outbox entry. NotFound when the router
  // knows no entry holding the message. The default accepts and forgets, as above.
  virtual absl::Status ReportDelivery(const DeliveryReport& report) { return absl::OkStatus(); }
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_INBOUND_H_
