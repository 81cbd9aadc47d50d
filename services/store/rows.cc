#include "services/store/rows.h"

#include "absl/time/clock.h"

namespace clawdie::store {

namespace v1 = ::clawdie::v1;

const char kMessageColumns[] =
    "seq, chat_jid, platform_id, sender_id, sender_name, text, time_us, reply_to_id, "
    "reply_to_text, reply_to_sender, mentions_bot, reply_to_bot, from_bot, is_own, edited, "
    "attachments";
const char kChatColumns[] =
    "jid, channel, name, is_group, chat_type, telegram_chat_id, telegram_thread_id, "
    "first_seen_us, last_message_us";
const char kGroupColumns[] =
    "folder, chat_jid, name, trigger, requires_trigger, is_main, sandbox, timezone, added_us";
const char kRunColumns[] =
    "id, group_folder, chat_jid, first_seq, last_seq, state, attempts, error, created_us, "
    "finished_us, output_delivered, task_id, session_id, task_due_us, answered_seq";
const char kTaskColumns[] =
    "id, group_folder, chat_jid, prompt, kind, expression, timezone, context_mode, state, "
    "next_run_us, last_run_us, last_result, lease_owner, lease_until_us, created_us, "
    "paused_reason";
const char kOutboxColumns[] =
    "id, chat_jid, text, reply_to_id, state, attempts, platform_ids, last_error, run_id, "
    "created_us, next_attempt_us, delivered_us, platform_state, platform_error, "
    "platform_state_us";

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

int64_t ToMicros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

int64_t ToMicros(const google::protobuf::Duration& d) {
  return d.seconds() * 1000000 + d.nanos() / 1000;
}

void SetTime(int64_t micros, google::protobuf::Timestamp* out) {
  if (micros == 0) return;
  int64_t seconds = micros / 1000000;
  int64_t rest = micros % 1000000;
  if (rest < 0) {
    rest += 1000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rest * 1000));
}

v1::Message ReadMessage(const Statement& row) {
  v1::Message m;
  m.set_seq(row.Int(0));
  m.set_chat_jid(row.Text(1));
  m.set_platform_message_id(row.Text(2));
  m.set_sender_id(row.Text(3));
  m.set_sender_name(row.Text(4));
  m.set_text(row.Text(5));
  SetTime(row.Int(6), m.mutable_time());
  m.set_reply_to_platform_id(row.Text(7));
  m.set_reply_to_text(row.Text(8));
  m.set_reply_to_sender_name(row.Text(9));
  m.set_mentions_bot(row.Int(10) != 0);
  m.set_reply_to_bot(row.Int(11) != 0);
  m.set_from_bot(row.Int(12) != 0);
  m.set_is_own(row.Int(13) != 0);
  m.set_edited(row.Int(14) != 0);
  if (!row.IsNull(15)) {
    v1::Message holder;
    if (holder.ParseFromString(row.Blob(15))) *m.mutable_attachments() = holder.attachments();
  }
  return m;
}

v1::Chat ReadChat(const Statement& row) {
  v1::Chat c;
  c.set_jid(row.Text(0));
  c.set_channel(static_cast<v1::Channel>(row.Int(1)));
  c.set_name(row.Text(2));
  c.set_is_group(row.Int(3) != 0);
  c.set_chat_type(row.Text(4));
  c.set_telegram_chat_id(row.Int(5));
  c.set_telegram_thread_id(row.Int(6));
  SetTime(row.Int(7), c.mutable_first_seen());
  SetTime(row.Int(8), c.mutable_last_message_time());
  return c;
}

v1::Group ReadGroup(const Statement& row) {
  v1::Group g;
  g.set_folder(row.Text(0));
  g.set_chat_jid(row.Text(1));
  g.set_name(row.Text(2));
  g.set_trigger(row.Text(3));
  g.set_requires_trigger(row.Int(4) != 0);
  g.set_is_main(row.Int(5) != 0);
  if (!row.IsNull(6)) g.mutable_sandbox()->ParseFromString(row.Blob(6));
  g.set_timezone(row.Text(7));
  SetTime(row.Int(8), g.mutable_added_at());
  return g;
}

v1::Run ReadRun(const Statement& row) {
  v1::Run r;
  r.set_id(row.Int(0));
  r.set_group_folder(row.Text(1));
  r.set_chat_jid(row.Text(2));
  r.set_first_seq(row.Int(3));
  r.set_last_seq(row.Int(4));
  r.set_state(static_cast<v1::RunState>(row.Int(5)));
  r.set_attempts(static_cast<int32_t>(row.Int(6)));
  r.set_error(row.Text(7));
  SetTime(row.Int(8), r.mutable_created_at());
  SetTime(row.Int(9), r.mutable_finished_at());
  r.set_output_delivered(row.Int(10) != 0);
  r.set_task_id(row.Int(11));
  r.set_session_id(row.Text(12));
  SetTime(row.Int(13), r.mutable_task_due());
  r.set_answered_seq(row.Int(14));
  return r;
}

v1::Task ReadTask(const Statement& row) {
  v1::Task t;
  t.set_id(row.Int(0));
  t.set_group_folder(row.Text(1));
  t.set_chat_jid(row.Text(2));
  t.set_prompt(row.Text(3));
  t.set_kind(static_cast<v1::TaskKind>(row.Int(4)));
  t.set_expression(row.Text(5));
  t.set_timezone(row.Text(6));
  t.set_context_mode(static_cast<v1::ContextMode>(row.Int(7)));
  t.set_state(static_cast<v1::TaskState>(row.Int(8)));
  if (!row.IsNull(9)) SetTime(row.Int(9), t.mutable_next_run());
  SetTime(row.Int(10), t.mutable_last_run());
  t.set_last_result(row.Text(11));
  t.set_lease_owner(row.Text(12));
  SetTime(row.Int(13), t.mutable_lease_until());
  SetTime(row.Int(14), t.mutable_created_at());
  t.set_paused_reason(row.Text(15));
  return t;
}

v1::OutboxEntry ReadOutbox(const Statement& row) {
  v1::OutboxEntry e;
  e.set_id(row.Int(0));
  e.set_chat_jid(row.Text(1));
  e.set_text(row.Text(2));
  e.set_reply_to_platform_id(row.Text(3));
  e.set_state(static_cast<v1::OutboxState>(row.Int(4)));
  e.set_attempts(static_cast<int32_t>(row.Int(5)));
  std::string ids = row.Text(6);
  for (size_t start = 0; start < ids.size();) {
    size_t end = ids.find('\n', start);
    if (end == std::string::npos) end = ids.size();
    e.add_platform_message_ids(ids.substr(start, end - start));
    start = end + 1;
  }
  e.set_last_error(row.Text(7));
  e.set_run_id(row.Int(8));
  SetTime(row.Int(9), e.mutable_created_at());
  SetTime(row.Int(10), e.mutable_next_attempt_at());
  SetTime(row.Int(11), e.mutable_delivered_at());
  e.set_platform_state(static_cast<v1::PlatformDeliveryState>(row.Int(12)));
  e.set_platform_error(row.Text(13));
  SetTime(row.Int(14), e.mutable_platform_state_at());
  return e;
}

absl::Status ValidateNotEmpty(const std::string& field, const std::string& value) {
  if (value.empty()) return absl::InvalidArgumentError(field + ": must not be empty");
  return absl::OkStatus();
}

absl::Status ValidateChatJid(const std::string& field, const std::string& jid) {
  if (jid.empty()) return absl::InvalidArgumentError(field + ": must not be empty");
  size_t colon = jid.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == jid.size()) {
    return absl::InvalidArgumentError(field + ": \"" + jid +
                                      "\" is not a chat key like tg:123, wa:467... or local:me");
  }
  if (jid.size() > 256) return absl::InvalidArgumentError(field + ": longer than 256 bytes");
  return absl::OkStatus();
}

absl::Status ValidateFolder(const std::string& field, const std::string& folder) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  bool ok = !folder.empty() && folder.size() <= 64 && alnum(folder[0]);
  for (char c : folder) ok = ok && (alnum(c) || c == '_' || c == '-');
  if (!ok) {
    return absl::InvalidArgumentError(field + ": \"" + folder +
                                      "\" must match [A-Za-z0-9][A-Za-z0-9_-]{0,63}");
  }
  if (folder == "global") {
    return absl::InvalidArgumentError(field + ": \"global\" is reserved for shared memory");
  }
  return absl::OkStatus();
}

absl::Status ValidateText(const std::string& field, const std::string& text, int64_t max_bytes) {
  if (static_cast<int64_t>(text.size()) > max_bytes) {
    return absl::InvalidArgumentError(field + ": " + std::to_string(text.size()) +
                                      " bytes, over the limit of " + std::to_string(max_bytes));
  }
  return absl::OkStatus();
}

absl::Status ValidateEnum(const std::string& field, bool defined, int value,
                          bool allow_unspecified) {
  if (!defined) {
    return absl::InvalidArgumentError(field + ": unknown value " + std::to_string(value));
  }
  if (value == 0 && !allow_unspecified) {
    return absl::InvalidArgumentError(field + ": must be set");
  }
  return absl::OkStatus();
}

v1::Channel ChannelOf(const std::string& jid) {
  if (jid.rfind("tg:", 0) == 0) return v1::CHANNEL_TELEGRAM;
  if (jid.rfind("wa:", 0) == 0) return v1::CHANNEL_WHATSAPP;
  if (jid.rfind("local:", 0) == 0) return v1::CHANNEL_LOCAL;
  return v1::CHANNEL_UNSPECIFIED;
}

}  // namespace clawdie::store
