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

// Hands a normalised message to the router. Success means the router has stored it (or
// knows it already) so the channel may confirm the update upstream. Unavailable means
// "try again later": the channel must keep the update unconfirmed.
class Ingester {
 public:
  virtual ~Ingester() = default;
  virtual absl::Status Ingest(const InboundMessage& message) = 0;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_INBOUND_H_
