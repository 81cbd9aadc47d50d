#include "container/bash_tool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/status/status.h"

namespace clawdie::agent {
namespace {

using Clock = std::chrono::steady_clock;

// In the child: new process group, working directory, stdio; then exec. Only
// async-signal-safe calls here.
[[noreturn]] void ExecChild(const char* command, const char* cwd, int out_fd) {
  setpgid(0, 0);
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  dup2(out_fd, STDOUT_FILENO);
  dup2(out_fd, STDERR_FILENO);
  if (chdir(cwd) != 0) {
    static const char kMessage[] = "chdir workspace failed\n";
    (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    _exit(126);
  }
  signal(SIGPIPE, SIG_DFL);
  execl("/bin/sh", "sh", "-c", command, static_cast<char*>(nullptr));
  _exit(127);
}

void Append(const char* data, size_t n, size_t cap, ShellResult& result) {
  result.total_bytes += n;
  size_t room = cap > result.output.size() ? cap - result.output.size() : 0;
  result.output.append(data, std::min(room, n));
  if (n > room) result.truncated = true;
}

// Reads the pipe until EOF, until the shell exited and the pipe is idle (background jobs may
// keep it open), or until the deadline. Returns false on timeout; sets `*status` once reaped.
bool Drain(int fd, pid_t pid, Clock::time_point deadline, size_t cap, ShellResult& result,
           int* status, bool* reaped) {
  char buffer[16384];
  while (true) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining.count() <= 0) return false;
    pollfd pfd{fd, POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(std::min<long long>(remaining.count(), 100)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      if (*reaped) return true;
      *reaped = waitpid(pid, status, WNOHANG) == pid;
      continue;
    }
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    Append(buffer, static_cast<size_t>(n), cap, result);
  }
}

}  // namespace

absl::StatusOr<ShellResult> RunShellCommand(const std::string& command,
                                            const std::filesystem::path& cwd,
                                            std::chrono::milliseconds timeout, size_t output_cap) {
  int fds[2];
  if (pipe(fds) != 0)
    return absl::InternalError(std::string("pipe for /bin/sh: ") + strerror(errno));
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  std::string cwd_text = cwd.string();

  pid_t pid = fork();
  if (pid < 0) {
    int error = errno;
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(std::string("spawn /bin/sh: ") + strerror(error));
  }
  if (pid == 0) ExecChild(command.c_str(), cwd_text.c_str(), fds[1]);
  setpgid(pid, pid);  // also from the parent, so the kill below cannot race the child's setpgid
  close(fds[1]);

  ShellResult result;
  int status = 0;
  bool reaped = false;
  if (!Drain(fds[0], pid, Clock::now() + timeout, output_cap, result, &status, &reaped)) {
    result.timed_out = true;
    kill(-pid, SIGKILL);
  }
  close(fds[0]);
  while (!reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::string DescribeShellResult(const ShellResult& result, std::chrono::milliseconds timeout) {
  std::string text = result.output;
  if (!text.empty() && text.back() != '\n') text.push_back('\n');
  if (result.truncated) {
    text += "[output truncated: showing the first " + std::to_string(result.output.size()) +
            " of " + std::to_string(result.total_bytes) + " bytes]\n";
  }
  if (result.timed_out) {
    text += "[timed out after " + std::to_string(timeout.count() / 1000) +
            " s; the command's process group was killed]\n";
  } else if (result.signal != 0) {
    text += "[killed by signal " + std::to_string(result.signal) + "]\n";
  } else {
    text += "[exit code " + std::to_string(result.exit_code) + "]\n";
  }
  return text;
}

}  // namespace clawdie::agent
