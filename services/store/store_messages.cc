// Store methods for messages and chat metadata.
#include <algorithm>
#include <vector>

#include "services/store/rows.h"
#include "services/store/store.h"

namespace clawdie::store {
namespace {

// The most messages one AppendMessages call may carry.
constexpr int kMaxAppendsPerCall = 1000;
// How many messages an append lists after list_after_seq by default, and at most.
constexpr int kDefaultListing = 50;
constexpr int kMaxListing = 1000;

absl::Status ValidateMessage(const v1::Message& m, int64_t max_text_bytes) {
  absl::Status status = ValidateChatJid("message.chat_jid", m.chat_jid());
  if (status.ok())
    status = ValidateNotEmpty("message.platform_message_id", m.platform_message_id());
  if (status.ok()) status = ValidateText("message.text", m.text(), max_text_bytes);
  if (status.ok())
    status = ValidateText("message.reply_to_text", m.reply_to_text(), max_text_bytes);
  return status;
}

// The chat's newest `limit` outbox entries, oldest first.
absl::Status ListChatReplies(Database& db, const std::string& jid, int limit,
                             google::protobuf::RepeatedPtrField<v1::OutboxEntry>* out) {
  absl::StatusOr<Statement> stmt =
      db.Prepare(std::string("SELECT ") + kOutboxColumns +
                 " FROM outbox WHERE chat_jid = ? ORDER BY id DESC LIMIT ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, jid).Bind(2, limit);
  absl::Status status = stmt->ForEach([&](const Statement& r) { *out->Add() = ReadOutbox(r); });
  std::reverse(out->begin(), out->end());
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

absl::Status ListChatMessages(Database& db, const std::string& jid, int64_t after_seq, int limit,
                              bool keep_newest,
                              google::protobuf::RepeatedPtrField<v1::Message>* messages,
                              int64_t* omitted);

// From the run methods: begin_run inside the append's transaction. Its refusal goes to
// out->run_start_code and run_start_error; an error returned aborts the append.
absl::Status BeginRunWithAppend(Database& db, const v1::BeginMessageRunRequest& req,
                                const std::string& chat_jid, v1::AppendMessageResponse* out);

namespace {

// Checks an append before anything is written; InvalidArgument names the field.
absl::Status ValidateAppend(const v1::AppendMessageRequest& req, int64_t max_text_bytes) {
  absl::Status status = ValidateMessage(req.message(), max_text_bytes);
  if (status.ok() && req.has_chat() && req.chat().jid() != req.message().chat_jid()) {
    status = absl::InvalidArgumentError("chat.jid: \"" + req.chat().jid() +
                                        "\" differs from message.chat_jid");
  }
  if (status.ok() && req.list_limit() < 0) {
    status = absl::InvalidArgumentError("list_limit: negative");
  }
  return status;
}

// Sets out->group to the group registered on `jid`, if there is one.
absl::Status FindChatGroup(Database& db, const std::string& jid, v1::AppendMessageResponse* out) {
  absl::StatusOr<Statement> stmt =
      db.Prepare(std::string("SELECT ") + kGroupColumns + " FROM groups WHERE chat_jid = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, jid);
  return stmt->ForEach([&](const Statement& r) { *out->mutable_group() = ReadGroup(r); });
}

// One append inside the writer's transaction: the chat's metadata, the message unless it is
// stored already, and the chat's group, all committed together; then the run start and the
// listing asked for.
absl::Status AppendIn(Database& db, const v1::AppendMessageRequest& req,
                      v1::AppendMessageResponse* out) {
  out->Clear();
  v1::Chat chat = req.chat();
  chat.set_jid(req.message().chat_jid());
  absl::Status status = UpsertChatRow(db, chat, ToMicros(req.message().time()));
  if (status.ok()) status = InsertMessage(db, req.message(), out);
  if (status.ok()) status = FindChatGroup(db, chat.jid(), out);
  if (status.ok() && req.has_begin_run()) {
    status = BeginRunWithAppend(db, req.begin_run(), chat.jid(), out);
  }
  if (!status.ok() || !req.has_list_after_seq()) return status;

  int limit = req.list_limit() == 0 ? kDefaultListing : std::min(req.list_limit(), kMaxListing);
  int64_t omitted = 0;
  status = ListChatMessages(db, chat.jid(), req.list_after_seq(), limit, /*keep_newest=*/true,
                            out->mutable_listed(), &omitted);
  out->set_listed_omitted(omitted);
  return status;
}

// Records why one message of AppendMessages was refused; it has no stored answer.
void SetRefused(const absl::Status& status, v1::AppendMessageResult* result) {
  result->clear_response();
  result->set_code(static_cast<int>(status.code()));
  result->set_error(std::string(status.message()));
}

}  // namespace

// Exposed to the run methods: the messages of `jid` with seq > after_seq, oldest first, at
// most `limit` (the newest ones when keep_newest); *omitted counts those left out.
absl::Status ListChatMessages(Database& db, const std::string& jid, int64_t after_seq, int limit,
                              bool keep_newest,
                              google::protobuf::RepeatedPtrField<v1::Message>* messages,
                              int64_t* omitted) {
  // Count first, so a capped listing can say how much it left out.
  absl::StatusOr<Statement> count =
      db.Prepare("SELECT COUNT(*) FROM messages WHERE chat_jid = ? AND seq > ?");
  if (!count.ok()) return count.status();
  count->Bind(1, jid).Bind(2, after_seq);
  absl::StatusOr<bool> row = count->Step();
  if (!row.ok()) return row.status();
  int64_t total = count->Int(0);
  int64_t skip = keep_newest ? std::max<int64_t>(0, total - limit) : 0;
  *omitted = std::max<int64_t>(0, total - limit);

  absl::StatusOr<Statement> list =
      db.Prepare(std::string("SELECT ") + kMessageColumns +
                 " FROM messages WHERE chat_jid = ? AND seq > ? ORDER BY seq LIMIT ? OFFSET ?");
  if (!list.ok()) return list.status();
  list->Bind(1, jid).Bind(2, after_seq).Bind(3, limit).Bind(4, skip);
  return list->ForEach([&](const Statement& r) { *messages->Add() = ReadMessage(r); });
}

absl::StatusOr<v1::AppendMessageResponse> Store::AppendMessage(
    const v1::AppendMessageRequest& req) {
  absl::Status status = ValidateAppend(req, options_.max_text_bytes);
  if (!status.ok()) return status;
  v1::AppendMessageResponse response;
  status = Write([&](Database& db) { return AppendIn(db, req, &response); });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::AppendMessagesResponse> Store::AppendMessages(
    const v1::AppendMessagesRequest& req) {
  if (req.appends_size() > kMaxAppendsPerCall) {
    return absl::InvalidArgumentError("appends: " + std::to_string(req.appends_size()) +
                                      " messages, over the limit of " +
                                      std::to_string(kMaxAppendsPerCall));
  }
  // Every valid message gets its own write; they are queued together. Results are stable
  // in memory while the writes fill them (a repeated field holds its elements by pointer).
  v1::AppendMessagesResponse response;
  std::vector<std::function<absl::Status(Database&)>> writes;
  std::vector<v1::AppendMessageResult*> written;
  for (const v1::AppendMessageRequest& append : req.appends()) {
    v1::AppendMessageResult* result = response.add_results();
    absl::Status valid = ValidateAppend(append, options_.max_text_bytes);
    if (!valid.ok()) {
      SetRefused(valid, result);
      continue;
    }
    writes.push_back([&append, result](Database& db) {
      return AppendIn(db, append, result->mutable_response());
    });
    written.push_back(result);
  }

  std::vector<absl::Status> statuses = WriteEach(std::move(writes));
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (!statuses[i].ok()) SetRefused(statuses[i], written[i]);
  }
  return response;
}

absl::StatusOr<v1::ListMessagesResponse> Store::ListMessages(const v1::ListMessagesRequest& req) {
  absl::Status status = ValidateChatJid("chat_jid", req.chat_jid());
  if (!status.ok()) return status;
  int limit = req.limit() <= 0 ? 200 : std::min(req.limit(), 1000);

  v1::ListMessagesResponse response;
  int64_t omitted = 0;
  status = Read([&](Database& db) {
    absl::Status listed =
        ListChatMessages(db, req.chat_jid(), req.after_seq(), limit, req.keep_newest(),
                         response.mutable_messages(), &omitted);
    if (!listed.ok() || !req.include_replies()) return listed;
    return ListChatReplies(db, req.chat_jid(), limit, response.mutable_replies());
  });
  response.set_omitted(omitted);
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
