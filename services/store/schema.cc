#include "services/store/schema.h"

#include <string>
#include <vector>

#include "absl/time/clock.h"

namespace clawdie::store {
namespace {

// Times are stored as microseconds since the Unix epoch (UTC); 0 or NULL means unset.
// Enums are stored as their proto numbers.
const std::vector<std::string>& Migrations() {
  static const auto* migrations = new std::vector<std::string>{
      // 1: the initial schema.
      R"sql(
CREATE TABLE chats (
  jid TEXT PRIMARY KEY,
  channel INTEGER NOT NULL DEFAULT 0,
  name TEXT NOT NULL DEFAULT '',
  is_group INTEGER NOT NULL DEFAULT 0,
  chat_type TEXT NOT NULL DEFAULT '',
  telegram_chat_id INTEGER NOT NULL DEFAULT 0,
  telegram_thread_id INTEGER NOT NULL DEFAULT 0,
  first_seen_us INTEGER NOT NULL,
  last_message_us INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  chat_jid TEXT NOT NULL REFERENCES chats(jid),
  platform_id TEXT NOT NULL,
  sender_id TEXT NOT NULL DEFAULT '',
  sender_name TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL DEFAULT '',
  time_us INTEGER NOT NULL DEFAULT 0,
  reply_to_id TEXT NOT NULL DEFAULT '',
  reply_to_text TEXT NOT NULL DEFAULT '',
  reply_to_sender TEXT NOT NULL DEFAULT '',
  mentions_bot INTEGER NOT NULL DEFAULT 0,
  reply_to_bot INTEGER NOT NULL DEFAULT 0,
  from_bot INTEGER NOT NULL DEFAULT 0,
  is_own INTEGER NOT NULL DEFAULT 0,
  edited INTEGER NOT NULL DEFAULT 0,
  attachments BLOB,
  UNIQUE (chat_jid, platform_id)
);
CREATE TABLE groups (
  folder TEXT PRIMARY KEY,
  chat_jid TEXT NOT NULL UNIQUE REFERENCES chats(jid),
  name TEXT NOT NULL DEFAULT '',
  trigger TEXT NOT NULL DEFAULT '',
  requires_trigger INTEGER NOT NULL DEFAULT 1,
  is_main INTEGER NOT NULL DEFAULT 0,
  sandbox BLOB,
  timezone TEXT NOT NULL DEFAULT '',
  added_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX groups_one_main ON groups(is_main) WHERE is_main = 1;
CREATE TABLE sessions (
  group_folder TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  updated_us INTEGER NOT NULL
);
CREATE TABLE cursors (
  group_folder TEXT PRIMARY KEY,
  seq INTEGER NOT NULL
);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  group_folder TEXT NOT NULL,
  chat_jid TEXT NOT NULL,
  first_seq INTEGER NOT NULL DEFAULT 0,
  last_seq INTEGER NOT NULL DEFAULT 0,
  state INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  created_us INTEGER NOT NULL,
  finished_us INTEGER NOT NULL DEFAULT 0,
  output_delivered INTEGER NOT NULL DEFAULT 0,
  task_id INTEGER NOT NULL DEFAULT 0,
  session_id TEXT NOT NULL DEFAULT '',
  task_due_us INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_unfinished ON runs(state) WHERE state IN (1, 2);
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  group_folder TEXT NOT NULL,
  chat_jid TEXT NOT NULL,
  prompt TEXT NOT NULL,
  kind INTEGER NOT NULL,
  expression TEXT NOT NULL,
  timezone TEXT NOT NULL DEFAULT '',
  context_mode INTEGER NOT NULL,
  state INTEGER NOT NULL,
  next_run_us INTEGER,
  last_run_us INTEGER NOT NULL DEFAULT 0,
  last_result TEXT NOT NULL DEFAULT '',
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until_us INTEGER NOT NULL DEFAULT 0,
  created_us INTEGER NOT NULL,
  paused_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tasks_due ON tasks(next_run_us) WHERE state = 1;
CREATE TABLE task_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  due_us INTEGER NOT NULL,
  started_us INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  result TEXT NOT NULL DEFAULT ''
);
CREATE INDEX task_runs_by_task ON task_runs(task_id, id);
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  chat_jid TEXT NOT NULL,
  text TEXT NOT NULL,
  reply_to_id TEXT NOT NULL DEFAULT '',
  state INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  platform_ids TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '',
  run_id INTEGER NOT NULL DEFAULT 0,
  created_us INTEGER NOT NULL,
  next_attempt_us INTEGER NOT NULL DEFAULT 0,
  delivered_us INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox(next_attempt_us) WHERE state = 1;
)sql",
      // 2: what the platform reported about delivered replies (WhatsApp status callbacks).
      R"sql(
ALTER TABLE outbox ADD COLUMN platform_state INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN platform_error TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN platform_state_us INTEGER NOT NULL DEFAULT 0;
)sql",
      // 3: the key that makes a repeated EnqueueOutbox return the first entry.
      R"sql(
ALTER TABLE outbox ADD COLUMN dedup_key TEXT;
CREATE UNIQUE INDEX outbox_dedup ON outbox(dedup_key) WHERE dedup_key IS NOT NULL;
)sql",
      // 4: how far a run's replies answered its messages.
      R"sql(
ALTER TABLE runs ADD COLUMN answered_seq INTEGER NOT NULL DEFAULT 0;
)sql",
      // 5: a chat's replies listed for operators.
      R"sql(
CREATE INDEX outbox_chat ON outbox(chat_jid, id);
)sql",
  };
  return *migrations;
}

absl::StatusOr<int> CurrentVersion(Database& db) {
  absl::Status status = db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, "
      "applied_us INTEGER NOT NULL)");
  if (!status.ok()) return status;
  absl::StatusOr<Statement> stmt =
      db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  return static_cast<int>(stmt->Int(0));
}

absl::Status Apply(Database& db, int version, const std::string& sql) {
  absl::Status status = db.Exec("BEGIN IMMEDIATE");
  if (!status.ok()) return status;
  status = db.Exec(sql);
  if (status.ok()) {
    absl::StatusOr<Statement> record =
        db.Prepare("INSERT INTO schema_version (version, applied_us) VALUES (?, ?)");
    status = record.ok() ? record->Bind(1, version).Bind(2, absl::ToUnixMicros(absl::Now())).Run()
                         : record.status();
  }
  if (status.ok()) status = db.Exec("COMMIT");
  if (!status.ok()) {
    db.Exec("ROLLBACK").IgnoreError();
    return absl::Status(status.code(), "migration " + std::to_string(version) + ": " +
                                           std::string(status.message()));
  }
  return absl::OkStatus();
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

absl::StatusOr<int> Migrate(Database& db) {
  absl::StatusOr<int> version = CurrentVersion(db);
  if (!version.ok()) return version.status();
  if (*version > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(
        "database " + db.path() + " has schema version " + std::to_string(*version) +
        ", newer than this clawdie-store (" + std::to_string(LatestSchemaVersion()) +
        "); upgrade clawdie-store");
  }
  for (int next = *version + 1; next <= LatestSchemaVersion(); ++next) {
    absl::Status status = Apply(db, next, Migrations()[next - 1]);
    if (!status.ok()) return status;
  }
  return LatestSchemaVersion();
}

}  // namespace clawdie::store
