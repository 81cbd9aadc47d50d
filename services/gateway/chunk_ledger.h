// Which chunks of each outbox entry the gateway delivered. The router retries an outbox entry
// (same outbox id) after any failed or unanswered Gateway.Send; with the ledger a retry
// resumes after the chunks an earlier attempt delivered, and an entry delivered completely is
// answered with its earlier ids instead of being sent again (docs/gateway.md, "Partial
// delivery"). An entry carries a fingerprint of its chat and text, so an outbox id that means
// another reply (a fresh database) starts afresh.
//
// With a path the ledger is also an append-only file of JSON lines, one before and one after
// each chunk is sent, replayed at start and compacted when it has grown to twice the
// capacity. Like the Telegram offset it is written without fsync: it survives a crash of the
// gateway, not a power loss.
//
// Thread-safety: all methods are safe from any thread.
#ifndef CLAWDIE_SERVICES_GATEWAY_CHUNK_LEDGER_H_
#define CLAWDIE_SERVICES_GATEWAY_CHUNK_LEDGER_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace clawdie::gateway {

// A stable 64-bit fingerprint (FNV-1a) of a reply's chat key and text.
uint64_t ReplyFingerprint(const std::string& chat_key, const std::string& text);

class ChunkLedger {
 public:
  // What earlier attempts delivered of one entry.
  struct Progress {
    std::vector<std::string> ids;  // platform ids of the chunks delivered, in order
    bool complete = false;         // every chunk went out
    // The chunk after `ids` had been handed to the platform when the record was written; if
    // nothing later was recorded, the gateway stopped before it knew whether it arrived.
    bool sending = false;
  };

  // Loads `path` (missing is empty; an unreadable line, e.g. one cut short by a crash, is
  // skipped) and keeps the file open for appending. An empty path keeps the ledger in memory.
  // Remembers the last `capacity` entries. Errors name the file.
  static absl::StatusOr<std::unique_ptr<ChunkLedger>> Open(const std::string& path,
                                                           size_t capacity = 10000);
  ~ChunkLedger();

  // Claims `outbox_id` for one delivery attempt. False while another attempt holds it.
  bool Begin(int64_t outbox_id);
  // Releases the claim.
  void End(int64_t outbox_id);

  // What was delivered of `outbox_id` when it was the reply with `fingerprint`; empty
  // progress otherwise.
  Progress Get(int64_t outbox_id, uint64_t fingerprint) const;

  // Records the ids delivered so far. The memory is updated even when the file write fails
  // (the error names the file).
  absl::Status Record(int64_t outbox_id, uint64_t fingerprint, const std::vector<std::string>& ids,
                      bool complete);
  // Records that the chunk after `ids` is about to be sent (Progress::sending), so a retry
  // after a crash knows it may have gone out. Errors as for Record.
  absl::Status RecordSending(int64_t outbox_id, uint64_t fingerprint,
                             const std::vector<std::string>& ids);

 private:
  struct Entry {
    uint64_t fingerprint = 0;
    Progress progress;
  };

  explicit ChunkLedger(std::string path, size_t capacity)
      : path_(std::move(path)), capacity_(capacity) {}
  absl::Status Load();
  absl::Status Write(int64_t outbox_id, Entry entry);
  // Takes one line of the file; false when it is not a ledger line.
  bool ReplayLocked(const std::string& line);
  void RememberLocked(int64_t outbox_id, Entry entry);
  absl::Status AppendLocked(const std::string& line);
  absl::Status CompactLocked();

  std::string path_;
  size_t capacity_;
  mutable std::mutex mu_;
  std::map<int64_t, Entry> entries_;
  std::deque<int64_t> order_;  // outbox ids, oldest first
  std::set<int64_t> in_flight_;
  int fd_ = -1;
  size_t lines_ = 0;  // lines in the file
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_CHUNK_LEDGER_H_
