// Store methods for the outbox of replies waiting for delivery.
#include "services/store/rows.h"
#include "services/store/store.h"

namespace clawdie::store {
namespace {

absl::StatusOr<v1::OutboxEntry> QueryOutbox(Database& db, int64_t id) {
  absl::StatusOr<Statement> stmt =
      db.Prepare(std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE id = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id);
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError("outbox entry " + std::to_string(id) + ": not found");
  return ReadOutbox(*stmt);
}

// Runs `update` (with ?1 = id) and returns the entry afterwards.
absl::Status UpdateOutbox(Database& db, int64_t id, const std::string& sql,
                          const std::function<void(Statement&)>& bind, v1::OutboxEntry* out) {
  absl::StatusOr<Statement> stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id);
  bind(*stmt);
  absl::Status s = stmt->Run();
  if (!s.ok()) return s;
  absl::StatusOr<v1::OutboxEntry> read = QueryOutbox(db, id);
  if (read.ok()) *out = *read;
  return read.status();
}

}  // namespace

absl::StatusOr<v1::OutboxEntry> Store::EnqueueOutbox(const v1::EnqueueOutboxRequest& req) {
  const v1::OutboxEntry& e = req.entry();
  absl::Status status = ValidateChatJid("entry.chat_jid", e.chat_jid());
  if (status.ok()) status = ValidateNotEmpty("entry.text", e.text());
  if (status.ok()) status = ValidateText("entry.text", e.text(), options_.max_text_bytes);
  if (!status.ok()) return status;

  v1::OutboxEntry created;
  status = Write([&](Database& db) {
    int64_t now = NowMicros();
    absl::StatusOr<Statement> insert = db.Prepare(
        "INSERT INTO outbox (chat_jid, text, reply_to_id, state, run_id, created_us, "
        "next_attempt_us) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!insert.ok()) return insert.status();
    absl::Status s = insert->Bind(1, e.chat_jid())
                         .Bind(2, e.text())
                         .Bind(3, e.reply_to_platform_id())
                         .Bind(4, static_cast<int64_t>(v1::OUTBOX_STATE_PENDING))
                         .Bind(5, e.run_id())
                         .Bind(6, now)
                         .Bind(7, now)
                         .Run();
    if (!s.ok()) return s;
    absl::StatusOr<v1::OutboxEntry> read = QueryOutbox(db, db.LastInsertId());
    if (read.ok()) created = *read;
    return read.status();
  });
  if (!status.ok()) return status;
  return created;
}

absl::StatusOr<v1::ListPendingOutboxResponse> Store::ListPendingOutbox(
    const v1::ListPendingOutboxRequest& req) {
  int64_t now = req.has_now() ? ToMicros(req.now()) : NowMicros();
  int limit = req.limit() <= 0 ? 100 : req.limit();
  v1::ListPendingOutboxResponse response;
  absl::Status status = Read([&](Database& db) {
    absl::StatusOr<Statement> stmt =
        db.Prepare(std::string("SELECT ") + kOutboxColumns +
                   " FROM outbox WHERE state = 1 AND next_attempt_us <= ? ORDER BY id LIMIT ?");
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, now).Bind(2, limit);
    return stmt->ForEach([&](const Statement& r) { *response.add_entries() = ReadOutbox(r); });
  });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::OutboxEntry> Store::MarkDelivered(const v1::MarkDeliveredRequest& req) {
  std::string ids;
  for (const std::string& id : req.platform_message_ids()) {
    if (id.find('\n') != std::string::npos) {
      return absl::InvalidArgumentError("platform_message_ids: contains a newline");
    }
    ids += (ids.empty() ? "" : "\n") + id;
  }
  v1::OutboxEntry entry;
  absl::Status status = Write([&](Database& db) {
    absl::StatusOr<v1::OutboxEntry> current = QueryOutbox(db, req.id());
    if (!current.ok()) return current.status();
    // Delivered already: keep the first acknowledgement.
    if (current->state() == v1::OUTBOX_STATE_DELIVERED) {
      entry = *current;
      return absl::OkStatus();
    }
    return UpdateOutbox(
        db, req.id(),
        "UPDATE outbox SET state = 2, platform_ids = ?2, delivered_us = ?3, "
        "attempts = attempts + 1, last_error = '' WHERE id = ?1",
        [&](Statement& s) { s.Bind(2, ids).Bind(3, NowMicros()); }, &entry);
  });
  if (!status.ok()) return status;
  return entry;
}

absl::StatusOr<v1::OutboxEntry> Store::MarkFailed(const v1::MarkFailedRequest& req) {
  absl::Status status = ValidateNotEmpty("error", req.error());
  if (!status.ok()) return status;
  v1::OutboxEntry entry;
  status = Write([&](Database& db) {
    absl::StatusOr<v1::OutboxEntry> current = QueryOutbox(db, req.id());
    if (!current.ok()) return current.status();
    if (current->state() == v1::OUTBOX_STATE_DELIVERED) {
      return absl::FailedPreconditionError("outbox entry " + std::to_string(req.id()) +
                                           ": already delivered");
    }
    int64_t next = req.has_next_attempt_at() ? ToMicros(req.next_attempt_at()) : NowMicros();
    return UpdateOutbox(
        db, req.id(),
        "UPDATE outbox SET state = ?2, last_error = ?3, next_attempt_us = ?4, "
        "attempts = attempts + 1 WHERE id = ?1",
        [&](Statement& s) {
          s.Bind(2, static_cast<int64_t>(req.permanent() ? v1::OUTBOX_STATE_FAILED
                                                         : v1::OUTBOX_STATE_PENDING))
              .Bind(3, req.error().substr(0, 4000))
              .Bind(4, next);
        },
        &entry);
  });
  if (!status.ok()) return status;
  return entry;
}

}  // namespace clawdie::store
