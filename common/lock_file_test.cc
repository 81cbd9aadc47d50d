#include "common/lock_file.h"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "gtest/gtest.h"

namespace clawdie {
namespace {

std::string TempDir() {
  char dir[] = "/tmp/clawdie_lock_XXXXXX";
  return mkdtemp(dir);
}

TEST(LockFileTest, SecondAcquireInAnotherProcessSaysAlreadyRunning) {
  std::string path = TempDir() + "/store.lock";
  absl::StatusOr<std::unique_ptr<LockFile>> first = LockFile::Acquire(path, "clawdie-store");
  ASSERT_TRUE(first.ok()) << first.status();

  // flock is per open file description, so a child process contends like a second instance.
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t child = fork();
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<LockFile>> second = LockFile::Acquire(path, "clawdie-store");
    std::string message = second.ok() ? "acquired" : std::string(second.status().message());
    (void)!write(pipefd[1], message.data(), message.size());
    _exit(second.ok() ? 0 : 1);
  }
  close(pipefd[1]);
  char buf[256] = {};
  ssize_t n = read(pipefd[0], buf, sizeof(buf) - 1);
  close(pipefd[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, n), "clawdie-store already running (lock " + path + " held by pid " +
                                     std::to_string(getpid()) + ")");
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

TEST(LockFileTest, ReleasedWhenDestroyed) {
  std::string path = TempDir() + "/x.lock";
  {
    auto first = LockFile::Acquire(path, "x");
    ASSERT_TRUE(first.ok());
  }
  pid_t child = fork();
  if (child == 0) _exit(LockFile::Acquire(path, "x").ok() ? 0 : 1);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(LockFileTest, UnwritableDirectoryReportsPath) {
  auto lock = LockFile::Acquire("/nonexistent-dir/x.lock", "x");
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().message(),
            "open lock file /nonexistent-dir/x.lock: No such file or directory");
}

}  // namespace
}  // namespace clawdie
