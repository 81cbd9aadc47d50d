#include "services/broker/process_launcher.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

namespace clawdie::broker {
namespace {

// Child-side error report: the failed call and its errno, written to the
// close-on-exec report pipe.
struct ChildFailure {
  int call;
  int error;
};

enum ChildCall {
  kCallDup = 1,
  kCallChdir,
  kCallRlimit,
  kCallSetgid,
  kCallSetuid,
  kCallExec,
  kCallStage
};

const char* CallName(int call) {
  switch (call) {
    case kCallDup:
      return "dup2";
    case kCallChdir:
      return "chdir";
    case kCallRlimit:
      return "setrlimit";
    case kCallSetgid:
      return "setgid";
    case kCallSetuid:
      return "setuid";
    case kCallStage:
      return "stage mounts for";
    default:
      return "exec";
  }
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (const auto& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

[[noreturn]] void ChildFail(int report_fd, int call) {
  ChildFailure failure{call, errno};
  ssize_t ignored = ::write(report_fd, &failure, sizeof(failure));
  (void)ignored;
  ::_exit(127);
}

// Runs in the forked child: only async-signal-safe calls from here to exec.
[[noreturn]] void ChildMain(const LaunchOptions& options, int fds[3], int report_fd,
                            const char* program, char** argv, char** envp) {
  ::setsid();
  if (!options.stage_root.empty() && !EnterMountStage(options)) ChildFail(report_fd, kCallStage);
  if (fds[0] < 0) fds[0] = ::open("/dev/null", O_RDONLY);
  for (int i = 0; i < 3; ++i) {
    if (fds[i] >= 0 && ::dup2(fds[i], i) < 0) ChildFail(report_fd, kCallDup);
  }
  if (::dup2(report_fd, 3) < 0) ChildFail(report_fd, kCallDup);
  report_fd = 3;
  ::fcntl(report_fd, F_SETFD, FD_CLOEXEC);
  ::closefrom(4);
  if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0) {
    ChildFail(report_fd, kCallChdir);
  }
  for (const auto& limit : options.rlimits) {
    struct rlimit value = {limit.value, limit.value};
    if (::setrlimit(limit.resource, &value) != 0) ChildFail(report_fd, kCallRlimit);
  }
  if (options.gid.has_value()) {
    gid_t gid = *options.gid;
    if (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0) ChildFail(report_fd, kCallSetgid);
  }
  if (options.uid.has_value() && ::setuid(*options.uid) != 0) ChildFail(report_fd, kCallSetuid);
  struct sigaction action = {};
  action.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(program, argv, envp);
  ChildFail(report_fd, kCallExec);
}

// Finds `name` on the PATH given in `env` (the child's), as execvp would.
std::string ResolveProgram(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = "/usr/bin:/bin";
  for (const auto& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) path = entry.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string candidate = path.substr(start, end - start) + "/" + name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;
}

absl::Status MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::ResourceExhaustedError(std::string("create pipe: ") + strerror(errno));
  }
  read_end->Reset(fds[0]);
  write_end->Reset(fds[1]);
  return absl::OkStatus();
}

// Reads the child's exec report: EOF means exec succeeded.
absl::Status ReadReport(int report_fd, pid_t pid, const std::string& program) {
  ChildFailure failure{};
  ssize_t n;
  do {
    n = ::read(report_fd, &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  if (n == 0) return absl::OkStatus();
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string text =
      std::string(CallName(failure.call)) + " " + program + ": " + strerror(failure.error);
  if (failure.error == ENOENT) return absl::NotFoundError(text);
  if (failure.error == EACCES || failure.error == EPERM) {
    return absl::PermissionDeniedError(text);
  }
  return absl::InternalError(text);
}

}  // namespace

absl::StatusOr<LaunchedProcess> PosixProcessLauncher::Launch(const LaunchOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("launch: empty argv");
  if (options.staged_mounts.size() > kMaxStagedMounts) {
    return absl::InvalidArgumentError("launch: more than " + std::to_string(kMaxStagedMounts) +
                                      " staged mounts");
  }
  IgnoreSigpipe();

  UniqueFd child_ends[3], parent_ends[3], report_read, report_write;
  if (options.pipes) {
    if (auto s = MakePipe(&child_ends[0], &parent_ends[0]); !s.ok()) return s;
    if (auto s = MakePipe(&parent_ends[1], &child_ends[1]); !s.ok()) return s;
    if (auto s = MakePipe(&parent_ends[2], &child_ends[2]); !s.ok()) return s;
  }
  if (auto s = MakePipe(&report_read, &report_write); !s.ok()) return s;

  std::vector<char*> argv = CStrings(options.argv);
  std::vector<char*> envp = CStrings(options.env);
  std::string program = ResolveProgram(options.argv[0], options.env);
  int fds[3] = {child_ends[0].get(), child_ends[1].get(),
                options.stderr_to_stdout ? child_ends[1].get() : child_ends[2].get()};

  pid_t pid = ::fork();
  if (pid < 0) return absl::ResourceExhaustedError(std::string("fork: ") + strerror(errno));
  if (pid == 0)
    ChildMain(options, fds, report_write.get(), program.c_str(), argv.data(), envp.data());

  report_write.Reset();
  for (auto& fd : child_ends) fd.Reset();
  if (auto s = ReadReport(report_read.get(), pid, options.argv[0]); !s.ok()) return s;

  LaunchedProcess process;
  process.pid = pid;
  process.stdin_fd = std::move(parent_ends[0]);
  process.stdout_fd = std::move(parent_ends[1]);
  process.stderr_fd = std::move(parent_ends[2]);
  return process;
}

void PosixProcessLauncher::KillGroup(pid_t pgid, int signal) {
  if (pgid > 1) ::kill(-pgid, signal);
}

ProcessLauncher& DefaultProcessLauncher() {
  static auto* launcher = new PosixProcessLauncher();
  return *launcher;
}

absl::StatusOr<CommandResult> RunCommand(ProcessLauncher& launcher, const LaunchOptions& options,
                                         size_t max_output) {
  LaunchOptions piped = options;
  piped.pipes = true;
  piped.stderr_to_stdout = true;
  auto process = launcher.Launch(piped);
  if (!process.ok()) return process.status();
  process->stdin_fd.Reset();

  CommandResult result;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(process->stdout_fd.get(), buffer, sizeof(buffer))) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    size_t room = max_output - std::min(max_output, result.output.size());
    result.output.append(buffer, std::min<size_t>(room, n));
  }
  int status = 0;
  while (::waitpid(process->pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

void IgnoreSigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

}  // namespace clawdie::broker
