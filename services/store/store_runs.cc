// Store methods for agent runs.
#include "services/store/rows.h"
#include "services/store/store.h"

namespace clawdie::store {
namespace {

absl::StatusOr<v1::Run> QueryRun(Database& db, int64_t id) {
  absl::StatusOr<Statement> stmt =
      db.Prepare(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id);
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError("run " + std::to_string(id) + ": not found");
  return ReadRun(*stmt);
}

bool IsFinal(v1::RunState state) {
  return state == v1::RUN_STATE_SUCCEEDED || state == v1::RUN_STATE_FAILED ||
         state == v1::RUN_STATE_ABANDONED;
}

}  // namespace

absl::StatusOr<v1::Run> Store::BeginRun(const v1::BeginRunRequest& req) {
  absl::Status status = ValidateFolder("group_folder", req.group_folder());
  if (status.ok() && (req.first_seq() < 0 || req.last_seq() < req.first_seq())) {
    status = absl::InvalidArgumentError("last_seq: must be >= first_seq >= 0");
  }
  if (!status.ok()) return status;

  v1::Run run;
  status = Write([&](Database& db) {
    absl::StatusOr<Statement> group = db.Prepare("SELECT chat_jid FROM groups WHERE folder = ?");
    if (!group.ok()) return group.status();
    group->Bind(1, req.group_folder());
    absl::StatusOr<bool> found = group->Step();
    if (!found.ok()) return found.status();
    if (!*found) {
      return absl::FailedPreconditionError("group_folder: " + req.group_folder() +
                                           " is not registered");
    }
    absl::StatusOr<Statement> insert = db.Prepare(
        "INSERT INTO runs (group_folder, chat_jid, first_seq, last_seq, state, created_us, "
        "task_id, task_due_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert.ok()) return insert.status();
    absl::Status s = insert->Bind(1, req.group_folder())
                         .Bind(2, group->Text(0))
                         .Bind(3, req.first_seq())
                         .Bind(4, req.last_seq())
                         .Bind(5, static_cast<int64_t>(v1::RUN_STATE_PENDING))
                         .Bind(6, NowMicros())
                         .Bind(7, req.task_id())
                         .Bind(8, ToMicros(req.task_due()))
                         .Run();
    if (!s.ok()) return s;
    absl::StatusOr<v1::Run> read = QueryRun(db, db.LastInsertId());
    if (read.ok()) run = *read;
    return read.status();
  });
  if (!status.ok()) return status;
  return run;
}

absl::StatusOr<v1::Run> Store::UpdateRun(const v1::UpdateRunRequest& req) {
  absl::Status status = ValidateEnum("state", v1::RunState_IsValid(req.state()), req.state(),
                                     /*allow_unspecified=*/true);
  if (status.ok()) status = ValidateText("error", req.error(), options_.max_text_bytes);
  if (!status.ok()) return status;

  v1::Run run;
  status = Write([&](Database& db) {
    absl::StatusOr<Statement> update = db.Prepare(
        "UPDATE runs SET "
        "state = CASE WHEN ?2 != 0 THEN ?2 ELSE state END, "
        "last_seq = MAX(last_seq, ?3), "
        "error = CASE WHEN ?4 != '' THEN ?4 ELSE error END, "
        "output_delivered = output_delivered OR ?5, "
        "session_id = CASE WHEN ?6 != '' THEN ?6 ELSE session_id END, "
        "attempts = attempts + ?7, "
        "finished_us = CASE WHEN ?8 != 0 THEN ?8 ELSE finished_us END "
        "WHERE id = ?1");
    if (!update.ok()) return update.status();
    int64_t finished = IsFinal(req.state()) ? NowMicros() : 0;
    absl::Status s = update->Bind(1, req.run_id())
                         .Bind(2, static_cast<int64_t>(req.state()))
                         .Bind(3, req.last_seq())
                         .Bind(4, req.error())
                         .Bind(5, static_cast<int64_t>(req.output_delivered()))
                         .Bind(6, req.session_id())
                         .Bind(7, static_cast<int64_t>(req.add_attempt()))
                         .Bind(8, finished)
                         .Run();
    if (!s.ok()) return s;
    absl::StatusOr<v1::Run> read = QueryRun(db, req.run_id());
    if (read.ok()) run = *read;
    return read.status();
  });
  if (!status.ok()) return status;
  return run;
}

absl::StatusOr<v1::ListRunsResponse> Store::ListRuns(const v1::ListRunsRequest& req) {
  int limit = req.limit() <= 0 ? 100 : req.limit();
  v1::ListRunsResponse response;
  absl::Status status = Read([&](Database& db) {
    absl::StatusOr<Statement> stmt = db.Prepare(
        std::string("SELECT ") + kRunColumns +
        " FROM runs WHERE (?1 = 0 OR state IN (1, 2)) AND (?2 = '' OR group_folder = ?2) "
        "ORDER BY id DESC LIMIT ?3");
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, static_cast<int64_t>(req.unfinished_only()))
        .Bind(2, req.group_folder())
        .Bind(3, limit);
    return stmt->ForEach([&](const Statement& r) { *response.add_runs() = ReadRun(r); });
  });
  if (!status.ok()) return status;
  return response;
}

}  // namespace clawdie::store
