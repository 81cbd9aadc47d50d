#include "common/lock_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/status.h"

namespace clawdie {
namespace {

std::string ReadHolderPid(int fd) {
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return "unknown";
  std::string pid(buf, static_cast<size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LockFile>> LockFile::Acquire(const std::string& path,
                                                            const std::string& what) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoError(errno, "open lock file " + path);

  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder = ReadHolderPid(fd);
    close(fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(what + " already running (lock " + path +
                                           " held by pid " + holder + ")");
    }
    return ErrnoError(err, "lock " + path);
  }

  // Record who holds it, for the message a second instance prints.
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    int err = errno;
    close(fd);
    return ErrnoError(err, "write lock file " + path);
  }
  return std::unique_ptr<LockFile>(new LockFile(path, fd));
}

LockFile::~LockFile() {
  // Closing releases the lock; the file stays so the next holder reuses it.
  close(fd_);
}

}  // namespace clawdie
