// Turns one Telegram Bot API `Update` object into what the gateway does with it: a message
// for the router, a command the gateway answers itself (/chatid, /ping), a chat migration,
// a change of the bot's membership (blocked / unblocked), or nothing. The rules are listed
// in docs/gateway.md ("Telegram: normalising").
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_GATEWAY_TELEGRAM_UPDATE_H_
#define CLAWDIE_SERVICES_GATEWAY_TELEGRAM_UPDATE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "services/gateway/inbound.h"

namespace clawdie::gateway {

// Who this bot is, from getMe.
struct BotIdentity {
  int64_t id = 0;
  std::string username;  // without '@'
  std::string first_name;
};

// Where in Telegram a chat key points: the chat and, for forum topics, the thread.
struct TelegramTarget {
  int64_t chat_id = 0;
  int64_t thread_id = 0;  // 0 when not a topic
};

// "tg:<chat>" or "tg:<chat>/<thread>" (thread 0 means none).
std::string TelegramChatKey(int64_t chat_id, int64_t thread_id = 0);
// Parses a "tg:" chat key. InvalidArgument for anything else.
absl::StatusOr<TelegramTarget> ParseTelegramChatKey(std::string_view key);

struct TelegramEvent {
  enum class Kind {
    kMessage,     // `message` is to be ingested
    kCommand,     // the gateway answers `command` itself; nothing reaches the router
    kMigration,   // the chat moved from `chat_key` to `migrate_to_key`
    kMembership,  // the bot was blocked/removed (`blocked`) or allowed again in `chat_key`
    kIgnored,     // nothing to do; `reason` says why
  };
  Kind kind = Kind::kIgnored;
  int64_t update_id = 0;
  InboundMessage message;

  // kCommand, kMigration, kMembership: where it happened.
  std::string chat_key;
  TelegramTarget target;
  std::string chat_type;
  std::string chat_title;
  int64_t message_id = 0;  // kCommand: the command message, to reply to
  std::string command;     // kCommand: "chatid" or "ping"
  std::string migrate_to_key;
  int64_t migrate_to_chat_id = 0;
  bool blocked = false;
  std::string reason;
};

// Normalises `update` as seen by `bot`. InvalidArgument when the update is not an object
// or lacks update_id; unknown update kinds become kIgnored rather than errors.
absl::StatusOr<TelegramEvent> NormalizeTelegramUpdate(const nlohmann::json& update,
                                                      const BotIdentity& bot);

// The text the gateway answers `/chatid` with.
std::string ChatIdReply(const TelegramEvent& command);

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_TELEGRAM_UPDATE_H_
