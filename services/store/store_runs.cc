// Store methods for agent runs.
#include <algorithm>
#include <functional>
#include <vector>

#include "services/store/rows.h"
#include "services/store/store.h"

namespace clawdie::store {

absl::Status ListChatMessages(Database& db, const std::string& jid, int64_t after_seq, int limit,
                              bool keep_newest,
                              google::protobuf::RepeatedPtrField<v1::Message>* messages,
                              int64_t* omitted);

namespace {

// The prompt cap BeginMessageRun applies when the request names none, and its maximum.
constexpr int kDefaultRunMessages = 50;
constexpr int kMaxRunMessages = 1000;
// The most updates one UpdateRuns call may carry.
constexpr int kMaxUpdatesPerCall = 1000;

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

absl::Status ValidateUpdate(const v1::UpdateRunRequest& req, int64_t max_text_bytes) {
  absl::Status status = ValidateEnum("state", v1::RunState_IsValid(req.state()), req.state(),
                                     /*allow_unspecified=*/true);
  if (status.ok()) status = ValidateText("error", req.error(), max_text_bytes);
  return status;
}

// One UpdateRun inside the writer's transaction; *out is the run afterwards.
absl::Status UpdateRunIn(Database& db, const v1::UpdateRunRequest& req, v1::Run* out) {
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
  absl::Status status = update->Bind(1, req.run_id())
                            .Bind(2, static_cast<int64_t>(req.state()))
                            .Bind(3, req.last_seq())
                            .Bind(4, req.error())
                            .Bind(5, static_cast<int64_t>(req.output_delivered()))
                            .Bind(6, req.session_id())
                            .Bind(7, static_cast<int64_t>(req.add_attempt()))
                            .Bind(8, finished)
                            .Run();
  if (!status.ok()) return status;
  absl::StatusOr<v1::Run> read = QueryRun(db, req.run_id());
  if (!read.ok()) return read.status();
  *out = *std::move(read);
  return absl::OkStatus();
}

// Records why one update of UpdateRuns was refused; it has no run to answer.
void SetRefused(const absl::Status& status, v1::UpdateRunResult* result) {
  result->clear_run();
  result->set_code(static_cast<int>(status.code()));
  result->set_error(std::string(status.message()));
}

// Records `req` as a new PENDING run of the group whose chat is `chat_jid`, and reads it back.
absl::StatusOr<v1::Run> InsertRun(Database& db, const v1::BeginRunRequest& req,
                                  const std::string& chat_jid) {
  absl::StatusOr<Statement> insert = db.Prepare(
      "INSERT INTO runs (group_folder, chat_jid, first_seq, last_seq, state, created_us, "
      "task_id, task_due_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  absl::Status status = insert->Bind(1, req.group_folder())
                            .Bind(2, chat_jid)
                            .Bind(3, req.first_seq())
                            .Bind(4, req.last_seq())
                            .Bind(5, static_cast<int64_t>(v1::RUN_STATE_PENDING))
                            .Bind(6, NowMicros())
                            .Bind(7, req.task_id())
                            .Bind(8, ToMicros(req.task_due()))
                            .Run();
  if (!status.ok()) return status;
  return QueryRun(db, db.LastInsertId());
}

// Sets run `id` of group `folder` back to PENDING and raises its last seq to `last_seq`.
absl::StatusOr<v1::Run> ResumeRun(Database& db, int64_t id, const std::string& folder,
                                  int64_t last_seq) {
  absl::StatusOr<v1::Run> run = QueryRun(db, id);
  if (!run.ok() && run.status().code() != absl::StatusCode::kNotFound) return run.status();
  if (!run.ok() || run->group_folder() != folder) {
    return absl::FailedPreconditionError("resume_run_id: run " + std::to_string(id) +
                                         " is not a run of group " + folder);
  }
  absl::StatusOr<Statement> update =
      db.Prepare("UPDATE runs SET state = ?2, last_seq = MAX(last_seq, ?3) WHERE id = ?1");
  if (!update.ok()) return update.status();
  absl::Status status = update->Bind(1, id)
                            .Bind(2, static_cast<int64_t>(v1::RUN_STATE_PENDING))
                            .Bind(3, last_seq)
                            .Run();
  if (!status.ok()) return status;
  return QueryRun(db, id);
}

// Fills the group, its cursor and its session into `out`. NotFound when not registered.
absl::Status ReadRunContext(Database& db, const std::string& folder,
                            v1::BeginMessageRunResponse* out) {
  absl::StatusOr<Statement> group =
      db.Prepare(std::string("SELECT ") + kGroupColumns + " FROM groups WHERE folder = ?");
  if (!group.ok()) return group.status();
  group->Bind(1, folder);
  absl::StatusOr<bool> found = group->Step();
  if (!found.ok()) return found.status();
  if (!*found) return absl::NotFoundError("group folder " + folder + ": not registered");
  *out->mutable_group() = ReadGroup(*group);

  absl::StatusOr<Statement> cursor = db.Prepare("SELECT seq FROM cursors WHERE group_folder = ?");
  if (!cursor.ok()) return cursor.status();
  cursor->Bind(1, folder);
  absl::Status status = cursor->ForEach([&](const Statement& r) { out->set_cursor_seq(r.Int(0)); });
  if (!status.ok()) return status;

  absl::StatusOr<Statement> session =
      db.Prepare("SELECT session_id FROM sessions WHERE group_folder = ?");
  if (!session.ok()) return session.status();
  session->Bind(1, folder);
  return session->ForEach([&](const Statement& r) { out->set_session_id(r.Text(0)); });
}

// FailedPrecondition when the group no longer has the settings the caller decided on.
absl::Status CheckDecidedOn(const v1::Group& expected, const v1::Group& group) {
  if (group.chat_jid() == expected.chat_jid() && group.trigger() == expected.trigger() &&
      group.requires_trigger() == expected.requires_trigger() &&
      group.is_main() == expected.is_main()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError("if_group: group " + group.folder() +
                                       " changed since the run was decided on");
}

absl::Status ValidateBeginMessageRun(const v1::BeginMessageRunRequest& req) {
  absl::Status status = ValidateFolder("group_folder", req.group_folder());
  if (status.ok() && req.max_messages() < 0) {
    status = absl::InvalidArgumentError("max_messages: negative");
  }
  if (status.ok() && req.resume_run_id() < 0) {
    status = absl::InvalidArgumentError("resume_run_id: negative");
  }
  return status;
}

// BeginMessageRun inside the writer's transaction: what it reads and what it records come
// from one snapshot, so the run covers exactly the messages answered.
absl::Status BeginMessageRunIn(Database& db, const v1::BeginMessageRunRequest& req,
                               v1::BeginMessageRunResponse* out) {
  out->Clear();
  absl::Status status = ReadRunContext(db, req.group_folder(), out);
  if (status.ok() && req.has_if_group()) status = CheckDecidedOn(req.if_group(), out->group());
  if (!status.ok()) return status;
  int limit =
      req.max_messages() == 0 ? kDefaultRunMessages : std::min(req.max_messages(), kMaxRunMessages);
  int64_t omitted = 0;
  status = ListChatMessages(db, out->group().chat_jid(), out->cursor_seq(), limit,
                            /*keep_newest=*/true, out->mutable_messages(), &omitted);
  if (!status.ok()) return status;
  out->set_omitted(omitted);

  // Only a message someone else wrote needs an answer; the assistant's own are context.
  auto answerable = std::find_if(out->messages().begin(), out->messages().end(),
                                 [](const v1::Message& m) { return !m.is_own(); });
  if (answerable == out->messages().end()) return absl::OkStatus();
  v1::BeginRunRequest record;
  record.set_group_folder(req.group_folder());
  record.set_first_seq(answerable->seq());
  record.set_last_seq(out->messages().rbegin()->seq());
  absl::StatusOr<v1::Run> run =
      req.resume_run_id() != 0
          ? ResumeRun(db, req.resume_run_id(), req.group_folder(), record.last_seq())
          : InsertRun(db, record, out->group().chat_jid());
  if (!run.ok()) return run.status();
  *out->mutable_run() = *std::move(run);
  return absl::OkStatus();
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
    absl::StatusOr<v1::Run> read = InsertRun(db, req, group->Text(0));
    if (read.ok()) run = *read;
    return read.status();
  });
  if (!status.ok()) return status;
  return run;
}

absl::StatusOr<v1::BeginMessageRunResponse> Store::BeginMessageRun(
    const v1::BeginMessageRunRequest& req) {
  absl::Status status = ValidateBeginMessageRun(req);
  if (!status.ok()) return status;
  v1::BeginMessageRunResponse response;
  status = Write([&](Database& db) { return BeginMessageRunIn(db, req, &response); });
  if (!status.ok()) return status;
  return response;
}

// Exposed to AppendMessage: the router starts a run with the message that triggers it, so
// the run is recorded in the message's own commit instead of waiting for another.
absl::Status BeginRunWithAppend(Database& db, const v1::BeginMessageRunRequest& req,
                                const std::string& chat_jid, v1::AppendMessageResponse* out) {
  absl::Status refused = ValidateBeginMessageRun(req);
  if (refused.ok() && !req.has_if_group()) {
    refused = absl::InvalidArgumentError("begin_run.if_group: required");
  }
  if (refused.ok() && req.if_group().chat_jid() != chat_jid) {
    refused =
        absl::InvalidArgumentError("begin_run.if_group.chat_jid: \"" + req.if_group().chat_jid() +
                                   "\" differs from message.chat_jid");
  }
  if (refused.ok()) {
    // Its own savepoint: a refused start is undone alone, the message stays.
    absl::Status status = db.Exec("SAVEPOINT begin_run");
    if (!status.ok()) return status;
    refused = BeginMessageRunIn(db, req, out->mutable_run_start());
    status = refused.ok() ? db.Exec("RELEASE begin_run")
                          : db.Exec("ROLLBACK TO begin_run; RELEASE begin_run");
    if (!status.ok()) return status;
  }
  if (!refused.ok()) {
    out->clear_run_start();
    out->set_run_start_code(static_cast<int>(refused.code()));
    out->set_run_start_error(std::string(refused.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Run> Store::UpdateRun(const v1::UpdateRunRequest& req) {
  absl::Status status = ValidateUpdate(req, options_.max_text_bytes);
  if (!status.ok()) return status;
  v1::Run run;
  status = Write([&](Database& db) { return UpdateRunIn(db, req, &run); });
  if (!status.ok()) return status;
  return run;
}

absl::StatusOr<v1::UpdateRunsResponse> Store::UpdateRuns(const v1::UpdateRunsRequest& req) {
  if (req.updates_size() > kMaxUpdatesPerCall) {
    return absl::InvalidArgumentError("updates: " + std::to_string(req.updates_size()) +
                                      " updates, over the limit of " +
                                      std::to_string(kMaxUpdatesPerCall));
  }
  // Every valid update gets its own write; they are queued together. Results are stable in
  // memory while the writes fill them (a repeated field holds its elements by pointer).
  v1::UpdateRunsResponse response;
  std::vector<std::function<absl::Status(Database&)>> writes;
  std::vector<v1::UpdateRunResult*> written;
  for (const v1::UpdateRunRequest& update : req.updates()) {
    v1::UpdateRunResult* result = response.add_results();
    absl::Status valid = ValidateUpdate(update, options_.max_text_bytes);
    if (!valid.ok()) {
      SetRefused(valid, result);
      continue;
    }
    writes.push_back(
        [&update, result](Database& db) { return UpdateRunIn(db, update, result->mutable_run()); });
    written.push_back(result);
  }

  std::vector<absl::Status> statuses = WriteEach(std::move(writes));
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (!statuses[i].ok()) SetRefused(statuses[i], written[i]);
  }
  return response;
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
