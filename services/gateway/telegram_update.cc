// Telegram update normalisation; see telegram_update.h and docs/gateway.md.
#include "services/gateway/telegram_update.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "absl/status/status.h"
#include "services/gateway/untrusted_json.h"
#include "services/gateway/utf8.h"

namespace clawdie::gateway {
namespace {

using json = nlohmann::json;
using Kind = TelegramEvent::Kind;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }

int64_t Int(const json& obj, const char* key) { return JsonInt64(obj, key).value_or(0); }

std::string UserName(const json& user) {
  std::string name = JsonString(user, "first_name");
  std::string last = JsonString(user, "last_name");
  if (!last.empty()) name += (name.empty() ? "" : " ") + last;
  if (name.empty()) name = JsonString(user, "username");
  return name;
}

std::string ChatTitle(const json& chat) {
  std::string title = JsonString(chat, "title");
  return title.empty() ? UserName(chat) : title;
}

// Forum topics are separate chats; a thread id outside a forum is a reply thread, not one.
int64_t TopicThreadId(const json& msg, const json& chat) {
  if (!JsonBool(chat, "is_forum") || !JsonBool(msg, "is_topic_message")) return 0;
  return Int(msg, "message_thread_id");
}

// "[Photo]", "[Document: report.pdf]" ... plus the attachment, or "" for plain text.
std::string MediaPlaceholder(const json& msg, std::vector<InboundAttachment>* attachments) {
  auto add = [&](const char* kind, const json& media) {
    attachments->push_back({kind, JsonString(media, "file_name"), JsonString(media, "mime_type"),
                            JsonString(media, "file_id"), Int(media, "file_size")});
  };
  if (auto it = msg.find("photo"); it != msg.end() && it->is_array() && !it->empty()) {
    // Sizes come smallest first; reference the largest.
    const json* best = &it->front();
    for (const json& size : *it) {
      if (Int(size, "width") * Int(size, "height") >= Int(*best, "width") * Int(*best, "height")) {
        best = &size;
      }
    }
    add("photo", *best);
    return "[Photo]";
  }
  struct Simple {
    const char* field;
    const char* kind;
    const char* label;
  };
  static constexpr Simple kSimple[] = {
      {"voice", "voice", "[Voice message]"},
      {"video_note", "video_note", "[Video message]"},
      {"animation", "animation", "[GIF]"},
      {"video", "video", "[Video]"},
  };
  for (const Simple& s : kSimple) {
    if (const json* media = JsonObject(msg, s.field)) {
      add(s.kind, *media);
      return s.label;
    }
  }
  if (const json* doc = JsonObject(msg, "document")) {
    add("document", *doc);
    std::string name = JsonString(*doc, "file_name");
    return name.empty() ? "[Document]" : "[Document: " + name + "]";
  }
  if (const json* audio = JsonObject(msg, "audio")) {
    add("audio", *audio);
    std::string title = JsonString(*audio, "title");
    return title.empty() ? "[Audio]" : "[Audio: " + title + "]";
  }
  if (const json* sticker = JsonObject(msg, "sticker")) {
    add("sticker", *sticker);
    std::string emoji = JsonString(*sticker, "emoji");
    return emoji.empty() ? "[Sticker]" : "[Sticker " + emoji + "]";
  }
  if (const json* loc = JsonObject(msg, "location")) {
    attachments->push_back({"location", "", "", "", 0});
    return "[Location: " + loc->value("latitude", json(0)).dump() + ", " +
           loc->value("longitude", json(0)).dump() + "]";
  }
  if (const json* contact = JsonObject(msg, "contact")) {
    attachments->push_back({"contact", "", "", "", 0});
    return "[Contact: " + UserName(*contact) + "]";
  }
  if (const json* poll = JsonObject(msg, "poll")) {
    attachments->push_back({"poll", "", "", "", 0});
    return "[Poll: " + JsonString(*poll, "question") + "]";
  }
  return "";
}

// Text or caption with the media placeholder in front.
std::string MessageText(const json& msg, std::vector<InboundAttachment>* attachments) {
  std::string placeholder = MediaPlaceholder(msg, attachments);
  std::string body = msg.contains("text") ? JsonString(msg, "text") : JsonString(msg, "caption");
  if (placeholder.empty()) return body;
  return body.empty() ? placeholder : placeholder + " " + body;
}

const json* Entities(const json& msg) {
  for (const char* key : {"entities", "caption_entities"}) {
    auto it = msg.find(key);
    if (it != msg.end() && it->is_array()) return &*it;
  }
  return nullptr;
}

std::string RawText(const json& msg) {
  return msg.contains("text") ? JsonString(msg, "text") : JsonString(msg, "caption");
}

// The entity's text; offsets and lengths are UTF-16 units.
std::string EntityText(std::string_view text, const json& entity) {
  size_t begin = ByteOffsetOfUtf16(text, static_cast<size_t>(Int(entity, "offset")));
  size_t end =
      ByteOffsetOfUtf16(text, static_cast<size_t>(Int(entity, "offset") + Int(entity, "length")));
  return std::string(text.substr(begin, end - begin));
}

bool MentionsBot(const json& msg, const BotIdentity& bot) {
  const json* entities = Entities(msg);
  if (entities == nullptr) return false;
  std::string text = RawText(msg);
  // Each entity's offset is found by counting from the start of the text; a bounded number
  // keeps a hostile update with tens of thousands of entities cheap.
  constexpr size_t kMaxEntities = 200;
  size_t checked = 0;
  for (const json& e : *entities) {
    if (++checked > kMaxEntities) break;
    std::string type = JsonString(e, "type");
    if (type == "mention" && EqualsIgnoreCase(EntityText(text, e), "@" + bot.username)) {
      return true;
    }
    if (const json* user = JsonObject(e, "user"); type == "text_mention" && user != nullptr) {
      if (Int(*user, "id") == bot.id) return true;
    }
  }
  return false;
}

bool IsTopicRoot(const json& msg, const json& reply, int64_t thread_id) {
  if (thread_id == 0) return false;
  return Int(reply, "message_id") == thread_id || reply.contains("forum_topic_created");
}

void FillReply(const json& msg, int64_t thread_id, const BotIdentity& bot, InboundMessage* out) {
  const json* reply = JsonObject(msg, "reply_to_message");
  if (reply == nullptr || IsTopicRoot(msg, *reply, thread_id)) return;
  out->reply_to_platform_id = std::to_string(Int(*reply, "message_id"));
  std::vector<InboundAttachment> ignored;
  out->reply_to_text = MessageText(*reply, &ignored);
  if (const json* from = JsonObject(*reply, "from")) {
    out->reply_to_sender_name = UserName(*from);
    out->reply_to_bot = Int(*from, "id") == bot.id;
  }
}

void FillSender(const json& msg, const json& chat, InboundMessage* out) {
  if (const json* sender_chat = JsonObject(msg, "sender_chat")) {
    out->sender_id = std::to_string(Int(*sender_chat, "id"));
    out->sender_name = ChatTitle(*sender_chat);
  } else if (const json* from = JsonObject(msg, "from")) {
    out->sender_id = std::to_string(Int(*from, "id"));
    out->sender_name = UserName(*from);
    out->from_bot = JsonBool(*from, "is_bot");
  } else {
    // Channel posts carry no sender; the channel speaks.
    out->sender_id = std::to_string(Int(chat, "id"));
    out->sender_name = ChatTitle(chat);
  }
}

struct ParsedCommand {
  std::string name;    // without '/'
  std::string target;  // bot username after '@', may be empty
};

// The bot command at the start of the text, if any.
std::optional<ParsedCommand> LeadingCommand(const json& msg) {
  const json* entities = Entities(msg);
  if (entities == nullptr || !msg.contains("text")) return std::nullopt;
  for (const json& e : *entities) {
    if (JsonString(e, "type") != "bot_command" || Int(e, "offset") != 0) continue;
    std::string token = EntityText(JsonString(msg, "text"), e);
    if (token.size() < 2 || token[0] != '/') continue;
    token.erase(0, 1);
    size_t at = token.find('@');
    if (at == std::string::npos) return ParsedCommand{Lower(token), ""};
    return ParsedCommand{Lower(token.substr(0, at)), token.substr(at + 1)};
  }
  return std::nullopt;
}

void FillPlace(const json& chat, int64_t thread_id, TelegramEvent* event) {
  event->target = {Int(chat, "id"), thread_id};
  event->chat_key = TelegramChatKey(event->target.chat_id, thread_id);
  event->chat_type = JsonString(chat, "type");
  event->chat_title = ChatTitle(chat);
}

// Fills `event` and returns true for a migration notice or a command the gateway answers.
bool HandleSpecialMessage(const json& msg, const json& chat, int64_t thread_id,
                          const BotIdentity& bot, TelegramEvent* event) {
  if (int64_t to = Int(msg, "migrate_to_chat_id"); to != 0) {
    FillPlace(chat, 0, event);
    event->kind = Kind::kMigration;
    event->migrate_to_chat_id = to;
    event->migrate_to_key = TelegramChatKey(to);
    return true;
  }
  std::optional<ParsedCommand> cmd = LeadingCommand(msg);
  if (!cmd || (!cmd->target.empty() && !EqualsIgnoreCase(cmd->target, bot.username))) {
    return false;
  }
  if (cmd->name != "chatid" && cmd->name != "ping") return false;
  FillPlace(chat, thread_id, event);
  event->kind = Kind::kCommand;
  event->command = cmd->name;
  event->message_id = Int(msg, "message_id");
  return true;
}

bool AddressesThisBot(const json& msg, const BotIdentity& bot) {
  std::optional<ParsedCommand> cmd = LeadingCommand(msg);
  return cmd && EqualsIgnoreCase(cmd->target, bot.username);
}

TelegramEvent NormalizeMessage(const json& msg, bool edited, const BotIdentity& bot) {
  TelegramEvent event;
  const json* chat = JsonObject(msg, "chat");
  if (chat == nullptr) {
    event.reason = "message without chat";
    return event;
  }
  if (Int(*chat, "id") == 0) {
    event.reason = "message whose chat has no valid id";
    return event;
  }
  int64_t thread_id = TopicThreadId(msg, *chat);
  if (HandleSpecialMessage(msg, *chat, thread_id, bot, &event)) return event;

  InboundMessage& m = event.message;
  m.text = MessageText(msg, &m.attachments);
  if (m.text.empty()) {
    event.reason = "service message without text or media";
    return event;
  }
  FillPlace(*chat, thread_id, &event);
  m.chat_key = event.chat_key;
  m.chat_name = event.chat_title;
  m.chat_type = event.chat_type;
  m.is_group = m.chat_type != "private";
  m.platform_message_id = std::to_string(Int(msg, "message_id"));
  m.time = PlatformTimeOrNow(Int(msg, "date"));
  FillSender(msg, *chat, &m);
  FillReply(msg, thread_id, bot, &m);
  m.mentions_bot = MentionsBot(msg, bot) || AddressesThisBot(msg, bot);
  if (edited) {
    // An edit is a new message for the store (docs/gateway.md, "Edits").
    m.edited = true;
    m.platform_message_id += ".edit." + std::to_string(Int(msg, "edit_date"));
  }
  event.kind = Kind::kMessage;
  return event;
}

TelegramEvent NormalizeMembership(const json& member) {
  TelegramEvent event;
  const json* chat = JsonObject(member, "chat");
  const json* now = JsonObject(member, "new_chat_member");
  if (chat == nullptr || now == nullptr) {
    event.reason = "my_chat_member without chat or new_chat_member";
    return event;
  }
  if (Int(*chat, "id") == 0) {
    event.reason = "my_chat_member whose chat has no valid id";
    return event;
  }
  FillPlace(*chat, 0, &event);
  std::string status = JsonString(*now, "status");
  event.kind = Kind::kMembership;
  event.blocked = status == "kicked" || status == "left";
  return event;
}

absl::StatusOr<TelegramEvent> Normalize(const json& update, const BotIdentity& bot) {
  if (!update.is_object() || !update.contains("update_id")) {
    return absl::InvalidArgumentError("normalize telegram update: not an object with update_id");
  }
  struct Source {
    const char* field;
    bool edited;
  };
  static constexpr Source kSources[] = {{"message", false},
                                        {"channel_post", false},
                                        {"edited_message", true},
                                        {"edited_channel_post", true}};
  TelegramEvent event;
  event.reason = "update kind not handled";
  for (const Source& s : kSources) {
    if (const json* msg = JsonObject(update, s.field)) {
      event = NormalizeMessage(*msg, s.edited, bot);
      break;
    }
  }
  if (const json* member = JsonObject(update, "my_chat_member"))
    event = NormalizeMembership(*member);
  event.update_id = Int(update, "update_id");
  return event;
}

}  // namespace

std::string TelegramChatKey(int64_t chat_id, int64_t thread_id) {
  std::string key = "tg:" + std::to_string(chat_id);
  if (thread_id != 0) key += "/" + std::to_string(thread_id);
  return key;
}

absl::StatusOr<TelegramTarget> ParseTelegramChatKey(std::string_view key) {
  auto bad = [&] {
    return absl::InvalidArgumentError("parse chat key " + std::string(key) +
                                      ": not tg:<chat id>[/<thread id>]");
  };
  if (key.substr(0, 3) != "tg:") return bad();
  std::string_view rest = key.substr(3);
  TelegramTarget target;
  size_t slash = rest.find('/');
  std::string_view chat = rest.substr(0, slash);
  auto [p, ec] = std::from_chars(chat.data(), chat.data() + chat.size(), target.chat_id);
  if (ec != std::errc() || p != chat.data() + chat.size() || chat.empty()) return bad();
  if (slash == std::string_view::npos) return target;
  std::string_view thread = rest.substr(slash + 1);
  auto [q, ec2] = std::from_chars(thread.data(), thread.data() + thread.size(), target.thread_id);
  if (ec2 != std::errc() || q != thread.data() + thread.size() || target.thread_id <= 0) {
    return bad();
  }
  return target;
}

absl::StatusOr<TelegramEvent> NormalizeTelegramUpdate(const json& update, const BotIdentity& bot) {
  try {
    return Normalize(update, bot);
  } catch (const std::exception& e) {
    // JSON type errors, and any other malformed shape the checks above missed.
    return absl::InvalidArgumentError(std::string("normalize telegram update: ") + e.what());
  }
}

std::string ChatIdReply(const TelegramEvent& command) {
  std::string reply = "Chat key: " + command.chat_key + "\nType: " + command.chat_type;
  if (!command.chat_title.empty()) reply += "\nTitle: " + command.chat_title;
  return reply;
}

}  // namespace clawdie::gateway
