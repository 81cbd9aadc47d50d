#include "services/broker/pipe_sandbox.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <cerrno>

namespace clawdie::broker {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

int PollTimeoutMs(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return 0;
  if (timeout == absl::InfiniteDuration()) return -1;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(timeout) + 1, 1 << 30));
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

PipeSandbox::PipeSandbox(std::string id, LaunchedProcess process, ProcessLauncher& launcher,
                         std::unique_ptr<StepRunner> steps, std::function<void()> extra_kill)
    : id_(std::move(id)),
      pid_(process.pid),
      launcher_(launcher),
      steps_(std::move(steps)),
      extra_kill_(std::move(extra_kill)),
      stdin_fd_(std::move(process.stdin_fd)),
      stdout_fd_(std::move(process.stdout_fd)),
      stderr_fd_(std::move(process.stderr_fd)) {
  waiter_ = std::thread([this] { WaitForChild(); });
}

PipeSandbox::~PipeSandbox() {
  Kill();
  waiter_.join();
  if (steps_) steps_->UndoAll();
}

void PipeSandbox::WaitForChild() {
  // Look at the exit without reaping, so the process group id stays ours
  // while the rest of the tree is killed.
  siginfo_t info = {};
  while (::waitid(P_PID, pid_, &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
  }
  launcher_.KillGroup(pid_, SIGKILL);

  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  std::lock_guard lock(mu_);
  reaped_ = true;
  exit_.code = ExitCode(status);
  exited_cv_.notify_all();
}

absl::Status PipeSandbox::WriteInput(std::string_view data) {
  std::lock_guard lock(input_mu_);
  if (!stdin_fd_.valid()) return absl::UnavailableError("write stdin " + id_ + ": input closed");
  while (!data.empty()) {
    ssize_t n = ::write(stdin_fd_.get(), data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError("write stdin " + id_ + ": " + strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status PipeSandbox::CloseInput() {
  std::lock_guard lock(input_mu_);
  stdin_fd_.Reset();
  return absl::OkStatus();
}

absl::StatusOr<std::optional<OutputChunk>> PipeSandbox::ReadOutput(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (stdout_fd_.valid() || stderr_fd_.valid()) {
    struct pollfd fds[2] = {{stdout_fd_.get(), POLLIN, 0}, {stderr_fd_.get(), POLLIN, 0}};
    int ready = ::poll(fds, 2, PollTimeoutMs(deadline - absl::Now()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return absl::InternalError("poll output " + id_ + ": " + strerror(errno));
    if (ready == 0) return std::nullopt;

    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      UniqueFd& fd = i == 0 ? stdout_fd_ : stderr_fd_;
      std::string data(kReadChunk, '\0');
      ssize_t n = ::read(fd.get(), data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fd.Reset();
        continue;
      }
      data.resize(static_cast<size_t>(n));
      return OutputChunk{i == 0 ? OutputChunk::Stream::kStdout : OutputChunk::Stream::kStderr,
                         std::move(data)};
    }
  }
  return absl::OutOfRangeError("read output " + id_ + ": ended");
}

void PipeSandbox::Kill() {
  {
    std::lock_guard lock(mu_);
    if (!reaped_) launcher_.KillGroup(pid_, SIGKILL);
  }
  if (extra_kill_) extra_kill_();
}

absl::StatusOr<SandboxExit> PipeSandbox::Wait(absl::Duration timeout) {
  std::unique_lock lock(mu_);
  bool done =
      exited_cv_.wait_for(lock, absl::ToChronoNanoseconds(std::min(timeout, absl::Hours(24))),
                          [this] { return reaped_; });
  if (!done) return absl::DeadlineExceededError("wait " + id_ + ": still running");
  return exit_;
}

}  // namespace clawdie::broker
