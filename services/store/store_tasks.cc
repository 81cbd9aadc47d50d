// Store methods for scheduled tasks, their leases and their run log.
#include "services/store/rows.h"
#include "services/store/store.h"

namespace clawdie::store {
namespace {

absl::StatusOr<v1::Task> QueryTask(Database& db, int64_t id) {
  absl::StatusOr<Statement> stmt =
      db.Prepare(std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE id = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id);
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError("task " + std::to_string(id) + ": not found");
  return ReadTask(*stmt);
}

absl::Status ValidateNewTask(const v1::Task& t, int64_t max_text_bytes) {
  absl::Status status = ValidateFolder("task.group_folder", t.group_folder());
  if (status.ok()) status = ValidateNotEmpty("task.prompt", t.prompt());
  if (status.ok()) status = ValidateText("task.prompt", t.prompt(), max_text_bytes);
  if (status.ok()) {
    status = ValidateEnum("task.kind", v1::TaskKind_IsValid(t.kind()), t.kind(), false);
  }
  if (status.ok()) status = ValidateNotEmpty("task.expression", t.expression());
  if (status.ok()) {
    status = ValidateEnum("task.context_mode", v1::ContextMode_IsValid(t.context_mode()),
                          t.context_mode(), true);
  }
  if (status.ok()) {
    status = ValidateEnum("task.state", v1::TaskState_IsValid(t.state()), t.state(), true);
  }
  if (status.ok() && !t.has_next_run()) {
    status = absl::InvalidArgumentError("task.next_run: must be set");
  }
  return status;
}

}  // namespace

absl::StatusOr<v1::Task> Store::CreateTask(const v1::CreateTaskRequest& req) {
  const v1::Task& t = req.task();
  absl::Status status = ValidateNewTask(t, options_.max_text_bytes);
  if (!status.ok()) return status;

  v1::Task created;
  status = Write([&](Database& db) {
    absl::StatusOr<Statement> group = db.Prepare("SELECT chat_jid FROM groups WHERE folder = ?");
    if (!group.ok()) return group.status();
    group->Bind(1, t.group_folder());
    absl::StatusOr<bool> found = group->Step();
    if (!found.ok()) return found.status();
    if (!*found) {
      return absl::FailedPreconditionError("task.group_folder: " + t.group_folder() +
                                           " is not registered");
    }
    absl::StatusOr<Statement> insert = db.Prepare(
        "INSERT INTO tasks (group_folder, chat_jid, prompt, kind, expression, timezone, "
        "context_mode, state, next_run_us, created_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert.ok()) return insert.status();
    absl::Status s =
        insert->Bind(1, t.group_folder())
            .Bind(2, t.chat_jid().empty() ? group->Text(0) : t.chat_jid())
            .Bind(3, t.prompt())
            .Bind(4, static_cast<int64_t>(t.kind()))
            .Bind(5, t.expression())
            .Bind(6, t.timezone())
            .Bind(7, static_cast<int64_t>(t.context_mode() == v1::CONTEXT_MODE_UNSPECIFIED
                                              ? v1::CONTEXT_MODE_GROUP
                                              : t.context_mode()))
            .Bind(8, static_cast<int64_t>(t.state() == v1::TASK_STATE_UNSPECIFIED
                                              ? v1::TASK_STATE_ACTIVE
                                              : t.state()))
            .Bind(9, ToMicros(t.next_run()))
            .Bind(10, NowMicros())
            .Run();
    if (!s.ok()) return s;
    absl::StatusOr<v1::Task> read = QueryTask(db, db.LastInsertId());
    if (read.ok()) created = *read;
    return read.status();
  });
  if (!status.ok()) return status;
  return created;
}

absl::StatusOr<v1::Task> Store::GetTask(const v1::GetTaskRequest& req) {
  absl::StatusOr<v1::Task> task = absl::NotFoundError("task: not found");
  absl::Status status = Read([&](Database& db) {
    task = QueryTask(db, req.id());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return task;
}

absl::StatusOr<v1::ListTasksResponse> Store::ListTasks(const v1::ListTasksRequest& req) {
  v1::ListTasksResponse response;
  absl::Status status = Read([&](Database& db) {
    absl::StatusOr<Statement> stmt = db.Prepare(
        std::string("SELECT ") + kTaskColumns +
        " FROM tasks WHERE (?1 = '' OR group_folder = ?1) AND (?2 != 0 OR state IN (1, 2)) "
        "ORDER BY id");
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, req.group_folder()).Bind(2, static_cast<int64_t>(req.include_finished()));
    return stmt->ForEach([&](const Statement& r) { *response.add_tasks() = ReadTask(r); });
  });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::Task> Store::UpdateTask(const v1::UpdateTaskRequest& req) {
  absl::Status status =
      ValidateEnum("state", v1::TaskState_IsValid(req.state()), req.state(), true);
  if (status.ok())
    status = ValidateEnum("kind", v1::TaskKind_IsValid(req.kind()), req.kind(), true);
  if (status.ok() && req.has_prompt()) status = ValidateNotEmpty("prompt", req.prompt());
  if (status.ok() && req.has_prompt()) {
    status = ValidateText("prompt", req.prompt(), options_.max_text_bytes);
  }
  if (status.ok() && req.has_expression())
    status = ValidateNotEmpty("expression", req.expression());
  if (!status.ok()) return status;

  v1::Task task;
  status = Write([&](Database& db) {
    absl::StatusOr<v1::Task> current = QueryTask(db, req.id());
    if (!current.ok()) return current.status();
    v1::Task t = *current;
    if (req.has_prompt()) t.set_prompt(req.prompt());
    if (req.kind() != v1::TASK_KIND_UNSPECIFIED) t.set_kind(req.kind());
    if (req.has_expression()) t.set_expression(req.expression());
    if (req.has_timezone()) t.set_timezone(req.timezone());
    if (req.state() != v1::TASK_STATE_UNSPECIFIED) t.set_state(req.state());
    if (req.has_next_run()) *t.mutable_next_run() = req.next_run();
    if (req.has_paused_reason()) t.set_paused_reason(req.paused_reason());
    if (t.state() == v1::TASK_STATE_ACTIVE) t.clear_paused_reason();

    absl::StatusOr<Statement> update = db.Prepare(
        "UPDATE tasks SET prompt = ?2, kind = ?3, expression = ?4, timezone = ?5, state = ?6, "
        "next_run_us = ?7, paused_reason = ?8 WHERE id = ?1");
    if (!update.ok()) return update.status();
    update->Bind(1, t.id()).Bind(2, t.prompt()).Bind(3, static_cast<int64_t>(t.kind()));
    update->Bind(4, t.expression()).Bind(5, t.timezone()).Bind(6, static_cast<int64_t>(t.state()));
    update->BindOptional(
        7, t.has_next_run() ? std::optional<int64_t>(ToMicros(t.next_run())) : std::nullopt);
    absl::Status s = update->Bind(8, t.paused_reason()).Run();
    task = t;
    return s;
  });
  if (!status.ok()) return status;
  return task;
}

absl::StatusOr<v1::ClaimDueTasksResponse> Store::ClaimDueTasks(
    const v1::ClaimDueTasksRequest& req) {
  absl::Status status = ValidateNotEmpty("owner", req.owner());
  if (status.ok() && ToMicros(req.lease()) <= 0) {
    status = absl::InvalidArgumentError("lease: must be positive");
  }
  if (!status.ok()) return status;
  int64_t now = req.has_now() ? ToMicros(req.now()) : NowMicros();
  int limit = req.limit() <= 0 ? 10 : req.limit();
  int64_t lease_until = now + ToMicros(req.lease());

  v1::ClaimDueTasksResponse response;
  status = Write([&](Database& db) {
    absl::StatusOr<Statement> due = db.Prepare(
        std::string("SELECT ") + kTaskColumns +
        " FROM tasks WHERE state = 1 AND next_run_us IS NOT NULL AND next_run_us <= ?1 "
        "AND (lease_owner = '' OR lease_until_us <= ?1) ORDER BY next_run_us, id LIMIT ?2");
    if (!due.ok()) return due.status();
    due->Bind(1, now).Bind(2, limit);
    absl::Status s = due->ForEach([&](const Statement& r) { *response.add_tasks() = ReadTask(r); });
    if (!s.ok()) return s;

    absl::StatusOr<Statement> lease =
        db.Prepare("UPDATE tasks SET lease_owner = ?, lease_until_us = ? WHERE id = ?");
    if (!lease.ok()) return lease.status();
    for (v1::Task& t : *response.mutable_tasks()) {
      s = lease->Reset().Bind(1, req.owner()).Bind(2, lease_until).Bind(3, t.id()).Run();
      if (!s.ok()) return s;
      t.set_lease_owner(req.owner());
      SetTime(lease_until, t.mutable_lease_until());
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::Task> Store::CompleteTaskRun(const v1::CompleteTaskRunRequest& req) {
  absl::Status status = ValidateNotEmpty("owner", req.owner());
  if (status.ok()) status = ValidateText("result", req.result(), options_.max_text_bytes);
  if (!status.ok()) return status;

  v1::Task task;
  status = Write([&](Database& db) {
    absl::StatusOr<v1::Task> current = QueryTask(db, req.task_id());
    if (!current.ok()) return current.status();
    if (current->lease_owner() != req.owner() ||
        ToMicros(current->next_run()) != ToMicros(req.due_at())) {
      return absl::FailedPreconditionError("task " + std::to_string(req.task_id()) +
                                           ": lease of this due time is not held by " +
                                           req.owner());
    }
    absl::StatusOr<Statement> log = db.Prepare(
        "INSERT INTO task_runs (task_id, due_us, started_us, duration_us, ok, result) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    if (!log.ok()) return log.status();
    absl::Status s = log->Bind(1, req.task_id())
                         .Bind(2, ToMicros(req.due_at()))
                         .Bind(3, ToMicros(req.started_at()))
                         .Bind(4, ToMicros(req.duration()))
                         .Bind(5, static_cast<int64_t>(req.ok()))
                         .Bind(6, req.result())
                         .Run();
    if (!s.ok()) return s;

    // No next due time completes the task (a once-task), unless it was paused or cancelled.
    absl::StatusOr<Statement> update = db.Prepare(
        "UPDATE tasks SET last_run_us = ?2, last_result = ?3, next_run_us = ?4, "
        "lease_owner = '', lease_until_us = 0, "
        "state = CASE WHEN ?4 IS NULL AND state = 1 THEN 3 ELSE state END WHERE id = ?1");
    if (!update.ok()) return update.status();
    update->Bind(1, req.task_id())
        .Bind(2, ToMicros(req.due_at()))
        .Bind(3, req.result().substr(0, 1000));
    update->BindOptional(
        4, req.has_next_run() ? std::optional<int64_t>(ToMicros(req.next_run())) : std::nullopt);
    s = update->Run();
    if (!s.ok()) return s;
    absl::StatusOr<v1::Task> read = QueryTask(db, req.task_id());
    if (read.ok()) task = *read;
    return read.status();
  });
  if (!status.ok()) return status;
  return task;
}

absl::StatusOr<v1::ListTaskRunsResponse> Store::ListTaskRuns(const v1::ListTaskRunsRequest& req) {
  int limit = req.limit() <= 0 ? 50 : req.limit();
  v1::ListTaskRunsResponse response;
  absl::Status status = Read([&](Database& db) {
    absl::StatusOr<Statement> stmt = db.Prepare(
        "SELECT id, task_id, due_us, started_us, duration_us, ok, result FROM task_runs "
        "WHERE task_id = ? ORDER BY id DESC LIMIT ?");
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, req.task_id()).Bind(2, limit);
    return stmt->ForEach([&](const Statement& r) {
      v1::TaskRunLog* log = response.add_runs();
      log->set_id(r.Int(0));
      log->set_task_id(r.Int(1));
      SetTime(r.Int(2), log->mutable_due_at());
      SetTime(r.Int(3), log->mutable_started_at());
      log->mutable_duration()->set_seconds(r.Int(4) / 1000000);
      log->mutable_duration()->set_nanos(static_cast<int32_t>((r.Int(4) % 1000000) * 1000));
      log->set_ok(r.Int(5) != 0);
      log->set_result(r.Text(6));
    });
  });
  if (!status.ok()) return status;
  return response;
}

}  // namespace clawdie::store
