// Store methods for messages and chat metadata.
#include <algorithm>

#include "services/store/rows.h"
#include "services/store/store.h"

namespace clawdie::store {
namespace {

absl::Status ValidateMessage(const v1::Message& m, int64_t max_text_bytes) {
  absl::Status status = ValidateChatJid("message.chat_jid", m.chat_jid());
  if (status.ok())
    status = ValidateNotEmpty("message.platform_message_id", m.platform_message_id());
  if (status.ok()) status = ValidateText("message.text", m.text(), max_text_bytes);
  if (status.ok())
    status = ValidateText("message.reply_to_text", m.reply_to_text(), max_text_bytes);
  return status;
}

// Inserts the chat or refreshes its metadata; empty fields keep stored values and the
// newest message time wins.
absl::Status UpsertChatRow(Database& db, const v1::Chat& chat, int64_t last_message_us) {
  absl::StatusOr<Statement> stmt = db.Prepare(
      "INSERT INTO chats (jid, channel, name, is_group, chat_type, telegram_chat_id, "
      "telegram_thread_id, first_seen_us, last_message_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (jid) DO UPDATE SET "
      "name = CASE WHEN excluded.name != '' THEN excluded.name ELSE name END, "
      "is_group = CASE WHEN excluded.chat_type != '' THEN excluded.is_group ELSE is_group END, "
      "chat_type = CASE WHEN excluded.chat_type != '' THEN excluded.chat_type ELSE chat_type END, "
      "telegram_chat_id = CASE WHEN excluded.telegram_chat_id != 0 "
      "  THEN excluded.telegram_chat_id ELSE telegram_chat_id END, "
      "telegram_thread_id = CASE WHEN excluded.telegram_thread_id != 0 "
      "  THEN excluded.telegram_thread_id ELSE telegram_thread_id END, "
      "last_message_us = MAX(last_message_us, excluded.last_message_us)");
  if (!stmt.ok()) return stmt.status();
  return stmt->Bind(1, chat.jid())
      .Bind(2, static_cast<int64_t>(ChannelOf(chat.jid())))
      .Bind(3, chat.name())
      .Bind(4, static_cast<int64_t>(chat.is_group()))
      .Bind(5, chat.chat_type())
      .Bind(6, chat.telegram_chat_id())
      .Bind(7, chat.telegram_thread_id())
      .Bind(8, NowMicros())
      .Bind(9, last_message_us)
      .Run();
}

// Finds the seq a message was stored under; 0 when it is new.
absl::StatusOr<int64_t> ExistingSeq(Database& db, const v1::Message& m) {
  absl::StatusOr<Statement> existing =
      db.Prepare("SELECT seq FROM messages WHERE chat_jid = ? AND platform_id = ?");
  if (!existing.ok()) return existing.status();
  existing->Bind(1, m.chat_jid()).Bind(2, m.platform_message_id());
  absl::StatusOr<bool> row = existing->Step();
  if (!row.ok()) return row.status();
  return *row ? existing->Int(0) : 0;
}

// Stores `m` unless it is stored already. Looking first (rather than INSERT OR IGNORE)
// keeps duplicates from using up sequence numbers.
absl::Status InsertMessage(Database& db, const v1::Message& m, v1::AppendMessageResponse* out) {
  absl::StatusOr<int64_t> seq = ExistingSeq(db, m);
  if (!seq.ok()) return seq.status();
  if (*seq != 0) {
    out->set_seq(*seq);
    out->set_inserted(false);
    return absl::OkStatus();
  }

  absl::StatusOr<Statement> insert = db.Prepare(
      "INSERT INTO messages (chat_jid, platform_id, sender_id, sender_name, text, time_us, "
      "reply_to_id, reply_to_text, reply_to_sender, mentions_bot, reply_to_bot, from_bot, "
      "is_own, edited, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  insert->Bind(1, m.chat_jid()).Bind(2, m.platform_message_id()).Bind(3, m.sender_id());
  insert->Bind(4, m.sender_name()).Bind(5, m.text()).Bind(6, ToMicros(m.time()));
  insert->Bind(7, m.reply_to_platform_id()).Bind(8, m.reply_to_text());
  insert->Bind(9, m.reply_to_sender_name()).Bind(10, static_cast<int64_t>(m.mentions_bot()));
  insert->Bind(11, static_cast<int64_t>(m.reply_to_bot()));
  insert->Bind(12, static_cast<int64_t>(m.from_bot()));
  insert->Bind(13, static_cast<int64_t>(m.is_own())).Bind(14, static_cast<int64_t>(m.edited()));
  if (m.attachments_size() > 0) {
    v1::Message holder;
    *holder.mutable_attachments() = m.attachments();
    insert->BindBlob(15, holder.SerializeAsString());
  } else {
    insert->BindNull(15);
  }
  absl::Status status = insert->Run();
  if (!status.ok()) return status;
  out->set_seq(db.LastInsertId());
  out->set_inserted(true);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::AppendMessageResponse> Store::AppendMessage(
    const v1::AppendMessageRequest& req) {
  absl::Status status = ValidateMessage(req.message(), options_.max_text_bytes);
  if (status.ok() && req.has_chat() && req.chat().jid() != req.message().chat_jid()) {
    status = absl::InvalidArgumentError("chat.jid: \"" + req.chat().jid() +
                                        "\" differs from message.chat_jid");
  }
  if (!status.ok()) return status;

  v1::Chat chat = req.chat();
  chat.set_jid(req.message().chat_jid());
  v1::AppendMessageResponse response;
  status = Write([&](Database& db) {
    absl::Status s = UpsertChatRow(db, chat, ToMicros(req.message().time()));
    return s.ok() ? InsertMessage(db, req.message(), &response) : s;
  });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::ListMessagesResponse> Store::ListMessages(const v1::ListMessagesRequest& req) {
  absl::Status status = ValidateChatJid("chat_jid", req.chat_jid());
  if (!status.ok()) return status;
  int limit = req.limit() <= 0 ? 200 : std::min(req.limit(), 1000);

  v1::ListMessagesResponse response;
  status = Read([&](Database& db) {
    // Count first, so a capped listing can say how much it left out.
    absl::StatusOr<Statement> count =
        db.Prepare("SELECT COUNT(*) FROM messages WHERE chat_jid = ? AND seq > ?");
    if (!count.ok()) return count.status();
    count->Bind(1, req.chat_jid()).Bind(2, req.after_seq());
    absl::StatusOr<bool> row = count->Step();
    if (!row.ok()) return row.status();
    int64_t total = count->Int(0);
    int64_t skip = req.keep_newest() ? std::max<int64_t>(0, total - limit) : 0;
    response.set_omitted(std::max<int64_t>(0, total - limit));

    absl::StatusOr<Statement> list =
        db.Prepare(std::string("SELECT ") + kMessageColumns +
                   " FROM messages WHERE chat_jid = ? AND seq > ? ORDER BY seq LIMIT ? OFFSET ?");
    if (!list.ok()) return list.status();
    list->Bind(1, req.chat_jid()).Bind(2, req.after_seq()).Bind(3, limit).Bind(4, skip);
    return list->ForEach([&](const Statement& r) { *response.add_messages() = ReadMessage(r); });
  });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::Chat> Store::UpsertChat(const v1::UpsertChatRequest& req) {
  absl::Status status = ValidateChatJid("chat.jid", req.chat().jid());
  if (!status.ok()) return status;
  status = Write([&](Database& db) { return UpsertChatRow(db, req.chat(), 0); });
  if (!status.ok()) return status;

  v1::Chat chat;
  status = Read([&](Database& db) {
    absl::StatusOr<Statement> stmt =
        db.Prepare(std::string("SELECT ") + kChatColumns + " FROM chats WHERE jid = ?");
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, req.chat().jid());
    return stmt->ForEach([&](const Statement& r) { chat = ReadChat(r); });
  });
  if (!status.ok()) return status;
  return chat;
}

absl::StatusOr<v1::ListChatsResponse> Store::ListChats(const v1::ListChatsRequest& req) {
  int limit = req.limit() <= 0 ? 500 : req.limit();
  v1::ListChatsResponse response;
  absl::Status status = Read([&](Database& db) {
    absl::StatusOr<Statement> stmt =
        db.Prepare(std::string("SELECT ") + kChatColumns +
                   " FROM chats ORDER BY last_message_us DESC, jid LIMIT ?");
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, limit);
    return stmt->ForEach([&](const Statement& r) { *response.add_chats() = ReadChat(r); });
  });
  if (!status.ok()) return status;
  return response;
}

// Exposed to the group methods: a group's chat row must exist for its foreign key.
absl::Status EnsureChatRow(Database& db, const std::string& jid) {
  v1::Chat chat;
  chat.set_jid(jid);
  return UpsertChatRow(db, chat, 0);
}

}  // namespace clawdie::store
