// An exclusive advisory lock (flock) held for the life of a process, so a
// second instance of a service refuses to start instead of taking over a live
// socket or database. The lock disappears with the process, even on SIGKILL.
//
// Thread-safety: a LockFile is owned by one thread; Acquire is safe anywhere.
#ifndef CLAWDIE_COMMON_LOCK_FILE_H_
#define CLAWDIE_COMMON_LOCK_FILE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace clawdie {

class LockFile {
 public:
  // Creates `path` if needed (mode 0640) and locks it, writing our pid into it.
  // Returns FailedPrecondition "<what> already running (lock <path> held by pid N)" when
  // another process holds it, or the open/lock error.
  static absl::StatusOr<std::unique_ptr<LockFile>> Acquire(const std::string& path,
                                                           const std::string& what);

  ~LockFile();
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  LockFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::string path_;
  int fd_;
};

}  // namespace clawdie

#endif  // CLAWDIE_COMMON_LOCK_FILE_H_
