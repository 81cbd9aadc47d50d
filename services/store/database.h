// A small RAII layer over one SQLite connection: open with clawdie's pragmas,
// prepared statements with typed binds and columns, and SQLite errors turned
// into absl::Status with the codes callers act on (a full disk is
// RESOURCE_EXHAUSTED, an I/O error or a busy database UNAVAILABLE, a unique
// constraint ALREADY_EXISTS).
//
// Thread-safety: a Database and its Statements belong to one thread at a time;
// the store serialises access with its own locks.
#ifndef CLAWDIE_SERVICES_STORE_DATABASE_H_
#define CLAWDIE_SERVICES_STORE_DATABASE_H_

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace clawdie::store {

// Maps an SQLite result code to a status "<what>: <sqlite message>".
absl::Status SqliteError(int code, const std::string& what, sqlite3* db);

class Statement {
 public:
  // `in_use` is the cache's busy flag for a cached statement (reset, not finalized, at the
  // end), or null for a statement this object owns.
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* in_use = nullptr)
      : db_(db), stmt_(stmt), in_use_(in_use) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;

  // Makes the statement runnable again with new binds.
  Statement& Reset();

  // Binds are 1-based, as in SQLite.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, const std::string& value);
  Statement& BindBlob(int index, const std::string& value);
  Statement& BindNull(int index);
  Statement& BindOptional(int index, std::optional<int64_t> value);

  // Advances: true when a row is available, false when done; errors as statuses.
  absl::StatusOr<bool> Step();
  // Runs to completion, ignoring rows.
  absl::Status Run();
  // Calls `fn` for every row.
  absl::Status ForEach(const std::function<void(const Statement&)>& fn);

  // Columns are 0-based.
  int64_t Int(int column) const;
  std::string Text(int column) const;
  std::string Blob(int column) const;
  bool IsNull(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;
};

class Database {
 public:
  // Opens (creating) the file with WAL, synchronous=FULL, foreign keys on and a busy timeout.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without results.
  absl::Status Exec(const std::string& sql);

  // Prepares one statement, reusing a cached one for the same text when it is free; errors
  // name the statement's first words.
  absl::StatusOr<Statement> Prepare(const std::string& sql);

  // Rowid of the last insert and rows changed by the last statement.
  int64_t LastInsertId() const;
  int Changes() const;

  sqlite3* handle() { return db_; }
  const std::string& path() const { return path_; }

 private:
  Database(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };

  std::string path_;
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Cached>> cache_;
};

}  // namespace clawdie::store

#endif  // CLAWDIE_SERVICES_STORE_DATABASE_H_
