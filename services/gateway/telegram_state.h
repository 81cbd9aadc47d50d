// The Telegram channel's small durable state: the confirmed getUpdates offset, chats that
// migrated to a new id (old key → new key), and chats that blocked or removed the bot.
// Kept as one JSON file. Migrations and blocks rewrite it atomically (temporary file +
// rename); the offset, which changes with every update, is written in place with a single
// pwrite of the whole document padded to the file's length, so a kill -9 leaves either the
// old or the new document and the hot path costs one small write, not a rename.
//
// Thread-safety: all methods are safe to call from any thread.
#ifndef CLAWDIE_SERVICES_GATEWAY_TELEGRAM_STATE_H_
#define CLAWDIE_SERVICES_GATEWAY_TELEGRAM_STATE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace clawdie::gateway {

class TelegramState {
 public:
  // Loads `path` (a missing file is an empty state). An empty path keeps the state in
  // memory only. InvalidArgument when the file is not valid state JSON.
  static absl::StatusOr<std::unique_ptr<TelegramState>> Open(const std::string& path);
  ~TelegramState();

  // The next update_id to ask for: every update below it was handled.
  int64_t offset() const;
  // Raises the offset (never lowers it) and saves. Errors name the file.
  absl::Status ConfirmUpTo(int64_t next_offset);

  // Follows migrations: the key messages for `chat_key` go to now.
  std::string Resolve(const std::string& chat_key) const;
  absl::Status AddMigration(const std::string& from_key, const std::string& to_key);

  bool IsBlocked(const std::string& chat_key) const;
  absl::Status SetBlocked(const std::string& chat_key, bool blocked);

 private:
  explicit TelegramState(std::string path) : path_(std::move(path)) {}
  absl::Status SaveLocked();
  // Rewrites the file in place (offset changes). Falls back to SaveLocked.
  absl::Status SaveOffsetLocked();
  std::string SerializeLocked() const;

  std::string path_;
  mutable std::mutex mu_;
  int64_t offset_ = 0;
  std::map<std::string, std::string> migrations_;
  std::set<std::string> blocked_;
  int fd_ = -1;           // open for in-place offset writes
  size_t file_size_ = 0;  // current length of the file
};

// Writes `contents` to `path` through a temporary file and rename.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_TELEGRAM_STATE_H_
