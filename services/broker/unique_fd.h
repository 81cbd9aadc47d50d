// An owned file descriptor that closes itself, used for pipes, sockets and
// directory handles throughout the broker.
//
// Thread-safety: a UniqueFd is a value; one thread at a time may use or move it.
#ifndef CLAWDIE_SERVICES_BROKER_UNIQUE_FD_H_
#define CLAWDIE_SERVICES_BROKER_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace clawdie::broker {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Gives up ownership without closing.
  int Release() { return std::exchange(fd_, -1); }

  // Closes the held descriptor (if any) and takes `fd`.
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_UNIQUE_FD_H_
