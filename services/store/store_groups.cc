// Store methods for groups, sessions and cursors.
#include "services/store/rows.h"
#include "services/store/store.h"

namespace clawdie::store {

absl::Status EnsureChatRow(Database& db, const std::string& jid);

namespace {

// Finds one group by `column` ("folder" or "chat_jid"); NotFound names the key.
absl::StatusOr<v1::Group> QueryGroup(Database& db, const std::string& column,
                                     const std::string& key) {
  absl::StatusOr<Statement> stmt =
      db.Prepare(std::string("SELECT ") + kGroupColumns + " FROM groups WHERE " + column + " = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, key);
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError("group " + column + " " + key + ": not registered");
  return ReadGroup(*stmt);
}

absl::Status ValidateGroup(const v1::Group& g) {
  absl::Status status = ValidateFolder("group.folder", g.folder());
  if (status.ok()) status = ValidateChatJid("group.chat_jid", g.chat_jid());
  if (status.ok() && g.name().size() > 256) {
    status = absl::InvalidArgumentError("group.name: longer than 256 bytes");
  }
  if (status.ok() && !v1::NetworkPolicy_IsValid(g.sandbox().network())) {
    status = absl::InvalidArgumentError("group.sandbox.network: unknown value " +
                                        std::to_string(g.sandbox().network()));
  }
  return status;
}

// FailedPrecondition when `g` is main and another group already is.
absl::Status CheckSingleMain(Database& db, const v1::Group& g) {
  if (!g.is_main()) return absl::OkStatus();
  absl::StatusOr<Statement> stmt =
      db.Prepare("SELECT folder FROM groups WHERE is_main = 1 AND folder != ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, g.folder());
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (*row) {
    return absl::FailedPreconditionError("group.is_main: group " + stmt->Text(0) +
                                         " is already the main group");
  }
  return absl::OkStatus();
}

Statement& BindGroup(Statement& stmt, const v1::Group& g) {
  return stmt.Bind(1, g.folder())
      .Bind(2, g.chat_jid())
      .Bind(3, g.name().empty() ? g.folder() : g.name())
      .Bind(4, g.trigger())
      .Bind(5, static_cast<int64_t>(g.requires_trigger()))
      .Bind(6, static_cast<int64_t>(g.is_main()))
      .BindBlob(7, g.sandbox().SerializeAsString())
      .Bind(8, g.timezone());
}

}  // namespace

absl::StatusOr<v1::Group> Store::CreateGroup(const v1::CreateGroupRequest& req) {
  const v1::Group& g = req.group();
  absl::Status status = ValidateGroup(g);
  if (!status.ok()) return status;

  v1::Group created;
  status = Write([&](Database& db) {
    absl::Status s = CheckSingleMain(db, g);
    if (s.ok()) s = EnsureChatRow(db, g.chat_jid());
    if (!s.ok()) return s;
    absl::StatusOr<Statement> insert = db.Prepare(
        "INSERT INTO groups (folder, chat_jid, name, trigger, requires_trigger, is_main, "
        "sandbox, timezone, added_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert.ok()) return insert.status();
    s = BindGroup(*insert, g).Bind(9, NowMicros()).Run();
    if (s.code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError("group: folder " + g.folder() + " or chat " + g.chat_jid() +
                                      " is already registered");
    }
    if (!s.ok()) return s;
    absl::StatusOr<v1::Group> read = QueryGroup(db, "folder", g.folder());
    if (read.ok()) created = *read;
    return read.status();
  });
  if (!status.ok()) return status;
  return created;
}

absl::StatusOr<v1::Group> Store::UpdateGroup(const v1::UpdateGroupRequest& req) {
  const v1::Group& g = req.group();
  absl::Status status = ValidateGroup(g);
  if (!status.ok()) return status;

  v1::Group updated;
  status = Write([&](Database& db) {
    absl::Status s = CheckSingleMain(db, g);
    if (s.ok()) s = EnsureChatRow(db, g.chat_jid());
    if (!s.ok()) return s;
    absl::StatusOr<Statement> update = db.Prepare(
        "UPDATE groups SET chat_jid = ?2, name = ?3, trigger = ?4, requires_trigger = ?5, "
        "is_main = ?6, sandbox = ?7, timezone = ?8 WHERE folder = ?1");
    if (!update.ok()) return update.status();
    s = BindGroup(*update, g).Run();
    if (!s.ok()) return s;
    absl::StatusOr<v1::Group> read = QueryGroup(db, "folder", g.folder());
    if (read.ok()) updated = *read;
    return read.status();
  });
  if (!status.ok()) return status;
  return updated;
}

absl::StatusOr<v1::Group> Store::GetGroup(const v1::GetGroupRequest& req) {
  absl::StatusOr<v1::Group> group = absl::InvalidArgumentError("key: set folder or chat_jid");
  if (req.key_case() == v1::GetGroupRequest::kFolder) {
    absl::Status status = Read([&](Database& db) {
      group = QueryGroup(db, "folder", req.folder());
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
  } else if (req.key_case() == v1::GetGroupRequest::kChatJid) {
    absl::Status status = Read([&](Database& db) {
      group = QueryGroup(db, "chat_jid", req.chat_jid());
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
  }
  return group;
}

absl::StatusOr<v1::ListGroupsResponse> Store::ListGroups(const v1::ListGroupsRequest&) {
  v1::ListGroupsResponse response;
  absl::Status status = Read([&](Database& db) {
    absl::StatusOr<Statement> stmt =
        db.Prepare(std::string("SELECT ") + kGroupColumns + " FROM groups ORDER BY folder");
    if (!stmt.ok()) return stmt.status();
    return stmt->ForEach([&](const Statement& r) { *response.add_groups() = ReadGroup(r); });
  });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::DeleteGroupResponse> Store::DeleteGroup(const v1::DeleteGroupRequest& req) {
  absl::Status status = ValidateFolder("folder", req.folder());
  if (!status.ok()) return status;
  status = Write([&](Database& db) {
    absl::StatusOr<Statement> stmt = db.Prepare("DELETE FROM groups WHERE folder = ?");
    if (!stmt.ok()) return stmt.status();
    absl::Status s = stmt->Bind(1, req.folder()).Run();
    if (s.ok() && db.Changes() == 0) {
      return absl::NotFoundError("group folder " + req.folder() + ": not registered");
    }
    return s;
  });
  if (!status.ok()) return status;
  return v1::DeleteGroupResponse();
}

absl::StatusOr<v1::Session> Store::GetSession(const v1::GetSessionRequest& req) {
  absl::Status status = ValidateFolder("group_folder", req.group_folder());
  if (!status.ok()) return status;
  v1::Session session;
  session.set_group_folder(req.group_folder());
  status = Read([&](Database& db) {
    absl::StatusOr<Statement> stmt =
        db.Prepare("SELECT session_id, updated_us FROM sessions WHERE group_folder = ?");
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, req.group_folder());
    return stmt->ForEach([&](const Statement& r) {
      session.set_session_id(r.Text(0));
      SetTime(r.Int(1), session.mutable_updated_at());
    });
  });
  if (!status.ok()) return status;
  return session;
}

absl::StatusOr<v1::Session> Store::SetSession(const v1::SetSessionRequest& req) {
  absl::Status status = ValidateFolder("group_folder", req.group_folder());
  if (!status.ok()) return status;
  int64_t now = NowMicros();
  status = Write([&](Database& db) {
    absl::StatusOr<Statement> stmt =
        req.session_id().empty()
            ? db.Prepare("DELETE FROM sessions WHERE group_folder = ?1")
            : db.Prepare(
                  "INSERT INTO sessions (group_folder, session_id, updated_us) VALUES (?1, ?2, ?3) "
                  "ON CONFLICT (group_folder) DO UPDATE SET session_id = ?2, updated_us = ?3");
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, req.group_folder());
    if (!req.session_id().empty()) stmt->Bind(2, req.session_id()).Bind(3, now);
    return stmt->Run();
  });
  if (!status.ok()) return status;
  v1::Session session;
  session.set_group_folder(req.group_folder());
  session.set_session_id(req.session_id());
  if (!req.session_id().empty()) SetTime(now, session.mutable_updated_at());
  return session;
}

absl::StatusOr<v1::Cursor> Store::GetCursor(const v1::GetCursorRequest& req) {
  absl::Status status = ValidateFolder("group_folder", req.group_folder());
  if (!status.ok()) return status;
  v1::Cursor cursor;
  cursor.set_group_folder(req.group_folder());
  status = Read([&](Database& db) {
    absl::StatusOr<Statement> stmt = db.Prepare("SELECT seq FROM cursors WHERE group_folder = ?");
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, req.group_folder());
    return stmt->ForEach([&](const Statement& r) { cursor.set_seq(r.Int(0)); });
  });
  if (!status.ok()) return status;
  return cursor;
}

absl::StatusOr<v1::Cursor> Store::AdvanceCursor(const v1::AdvanceCursorRequest& req) {
  absl::Status status = ValidateFolder("group_folder", req.group_folder());
  if (status.ok() && req.seq() < 0) status = absl::InvalidArgumentError("seq: negative");
  if (!status.ok()) return status;
  v1::Cursor cursor;
  cursor.set_group_folder(req.group_folder());
  status = Write([&](Database& db) {
    absl::StatusOr<Statement> stmt = db.Prepare(
        "INSERT INTO cursors (group_folder, seq) VALUES (?1, ?2) "
        "ON CONFLICT (group_folder) DO UPDATE SET seq = MAX(seq, ?2)");
    if (!stmt.ok()) return stmt.status();
    absl::Status s = stmt->Bind(1, req.group_folder()).Bind(2, req.seq()).Run();
    if (!s.ok()) return s;
    absl::StatusOr<Statement> read = db.Prepare("SELECT seq FROM cursors WHERE group_folder = ?");
    if (!read.ok()) return read.status();
    read->Bind(1, req.group_folder());
    return read->ForEach([&](const Statement& r) { cursor.set_seq(r.Int(0)); });
  });
  if (!status.ok()) return status;
  return cursor;
}

}  // namespace clawdie::store
