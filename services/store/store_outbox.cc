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

// The id of the newest delivered entry holding `platform_id` among its platform ids (in
// `chat_jid` when given). The ids are stored newline-separated, so the match is made on
// whole lines. NotFound when none holds it.
absl::StatusOr<int64_t> FindByPlatformId(Database& db, const std::string& chat_jid,
                                         const std::string& platform_id) {
  absl::StatusOr<Statement> stmt = db.Prepare(
      "SELECT id FROM outbox WHERE state = 2 AND (?1 = '' OR chat_jid = ?1) AND "
      "instr(char(10) || platform_ids || char(10), char(10) || ?2 || char(10)) > 0 "
      "ORDER BY id DESC LIMIT 1");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, chat_jid).Bind(2, platform_id);
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    return absl::NotFoundError("receipt for " + platform_id +
                               ": no delivered outbox entry holds this platform id");
  }
  return stmt->Int(0);
}

absl::Status ValidateReceipt(const v1::DeliveryReceipt& r) {
  absl::Status status = ValidateNotEmpty("receipt.platform_message_id", r.platform_message_id());
  if (status.ok() && r.platform_message_id().find('\n') != std::string::npos) {
    status = absl::InvalidArgumentError("receipt.platform_message_id: contains a newline");
  }
  if (status.ok() && (r.state() == v1::PLATFORM_DELIVERY_STATE_UNSPECIFIED ||
                      !v1::PlatformDeliveryState_IsValid(r.state()))) {
    status = absl::InvalidArgumentError("receipt.state: unspecified or unknown value " +
                                        std::to_string(r.state()));
  }
  if (status.ok() && r.outbox_id() < 0) {
    status = absl::InvalidArgumentError("receipt.outbox_id: negative");
  }
  return status;
}

}  // namespace

absl::StatusOr<v1::OutboxEntry> Store::EnqueueOutbox(const v1::EnqueueOutboxRequest& req) {
  const v1::OutboxEntry& e = req.entry();
  absl::Status status = ValidateChatJid("entry.chat_jid", e.chat_jid());
  if (status.ok()) status = ValidateNotEmpty("entry.text", e.text());
  if (status.ok()) status = ValidateText("entry.text", e.text(), options_.max_text_bytes);
  if (status.ok() && req.run_answered_seq() < 0) {
    status = absl::InvalidArgumentError("run_answered_seq: negative");
  }
  if (status.ok() && req.run_answered_seq() > 0 && e.run_id() == 0) {
    status = absl::InvalidArgumentError("run_answered_seq: set without entry.run_id");
  }
  if (!status.ok()) return status;

  v1::OutboxEntry created;
  status = Write([&](Database& db) {
    if (!req.dedup_key().empty()) {
      absl::StatusOr<Statement> find = db.Prepare("SELECT id FROM outbox WHERE dedup_key = ?");
      if (!find.ok()) return find.status();
      find->Bind(1, req.dedup_key());
      absl::StatusOr<bool> found = find->Step();
      if (!found.ok()) return found.status();
      if (*found) {
        absl::StatusOr<v1::OutboxEntry> earlier = QueryOutbox(db, find->Int(0));
        if (earlier.ok()) created = *earlier;
        return earlier.status();
      }
    }
    int64_t now = NowMicros();
    absl::StatusOr<Statement> insert = db.Prepare(
        "INSERT INTO outbox (chat_jid, text, reply_to_id, state, run_id, created_us, "
        "next_attempt_us, dedup_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert.ok()) return insert.status();
    insert->Bind(1, e.chat_jid())
        .Bind(2, e.text())
        .Bind(3, e.reply_to_platform_id())
        .Bind(4, static_cast<int64_t>(v1::OUTBOX_STATE_PENDING))
        .Bind(5, e.run_id())
        .Bind(6, now)
        .Bind(7, now);
    if (req.dedup_key().empty()) {
      insert->BindNull(8);
    } else {
      insert->Bind(8, req.dedup_key());
    }
    absl::Status s = insert->Run();
    if (!s.ok()) return s;
    int64_t entry_id = db.LastInsertId();
    if (e.run_id() != 0 && req.run_answered_seq() > 0) {
      absl::StatusOr<Statement> answered = db.Prepare(
          "UPDATE runs SET output_delivered = 1, answered_seq = MAX(answered_seq, ?) "
          "WHERE id = ?");
      if (!answered.ok()) return answered.status();
      answered->Bind(1, req.run_answered_seq()).Bind(2, e.run_id());
      s = answered->Run();
      if (!s.ok()) return s;
      // The messages the reply answers are answered from this commit on, even if the
      // router's own cursor update after the run never arrives (store away, disk full).
      absl::StatusOr<Statement> cursor = db.Prepare(
          "INSERT INTO cursors (group_folder, seq) SELECT group_folder, ?1 FROM runs "
          "WHERE id = ?2 ON CONFLICT (group_folder) DO UPDATE SET seq = MAX(seq, ?1)");
      if (!cursor.ok()) return cursor.status();
      cursor->Bind(1, req.run_answered_seq()).Bind(2, e.run_id());
      s = cursor->Run();
      if (!s.ok()) return s;
    }
    absl::StatusOr<v1::OutboxEntry> read = QueryOutbox(db, entry_id);
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

absl::StatusOr<v1::OutboxEntry> Store::RecordReceipt(const v1::RecordReceiptRequest& req) {
  const v1::DeliveryReceipt& r = req.receipt();
  absl::Status status = ValidateReceipt(r);
  if (!status.ok()) return status;
  int64_t at = r.has_time() ? ToMicros(r.time()) : NowMicros();
  v1::OutboxEntry entry;
  status = Write([&](Database& db) {
    absl::StatusOr<int64_t> id = r.outbox_id();
    if (r.outbox_id() == 0) id = FindByPlatformId(db, r.chat_jid(), r.platform_message_id());
    if (!id.ok()) return id.status();
    // Reports arrive out of order (read before delivered): only a further state is taken,
    // and a failure is final.
    return UpdateOutbox(
        db, *id,
        "UPDATE outbox SET platform_state = ?2, platform_error = ?3, platform_state_us = ?4 "
        "WHERE id = ?1 AND platform_state != 4 AND (?2 = 4 OR platform_state < ?2)",
        [&](Statement& s) {
          s.Bind(2, static_cast<int64_t>(r.state())).Bind(3, r.error().substr(0, 1000)).Bind(4, at);
        },
        &entry);
  });
  if (!status.ok()) return status;
  return entry;
}

}  // namespace clawdie::store
