#include "services/broker/agent_run.h"

#include "common/logging.h"

namespace clawdie::broker {
namespace {

// How long a killed sandbox may take to close its output and exit.
constexpr absl::Duration kKillGrace = absl::Seconds(10);

// Collects the run's output: stdout split into lines, a stderr tail, and byte counts.
class OutputAccounting {
 public:
  explicit OutputAccounting(const Limits& limits) : limits_(limits) {}

  // Adds stdout bytes and calls `on_line` for each complete line. Returns
  // false when the stdout cap is exceeded.
  bool AddStdout(const std::string& data, const std::function<void(std::string_view)>& on_line) {
    stdout_bytes_ += static_cast<int64_t>(data.size());
    if (stdout_bytes_ > limits_.stdout_bytes) return false;
    pending_ += data;
    size_t start = 0;
    for (size_t end; (end = pending_.find('\n', start)) != std::string::npos; start = end + 1) {
      on_line(std::string_view(pending_).substr(start, end - start));
    }
    pending_.erase(0, start);
    return true;
  }

  // Adds stderr bytes to the tail. Returns false when the stderr cap is exceeded.
  bool AddStderr(const std::string& data) {
    stderr_bytes_ += static_cast<int64_t>(data.size());
    tail_ += data;
    if (tail_.size() > 2 * AgentRun::kStderrTailBytes) {
      tail_.erase(0, tail_.size() - AgentRun::kStderrTailBytes);
    }
    return stderr_bytes_ <= limits_.stderr_bytes;
  }

  // The last kStderrTailBytes of stderr, starting at a line when possible.
  std::string StderrTail() const {
    if (tail_.size() <= AgentRun::kStderrTailBytes) return tail_;
    std::string tail = tail_.substr(tail_.size() - AgentRun::kStderrTailBytes);
    size_t newline = tail.find('\n');
    if (newline != std::string::npos && newline + 1 < tail.size()) tail.erase(0, newline + 1);
    return tail;
  }

 private:
  const Limits& limits_;
  int64_t stdout_bytes_ = 0;
  int64_t stderr_bytes_ = 0;
  std::string pending_;
  std::string tail_;
};

std::string ExitDetail(ExitReason reason, const Limits& limits) {
  switch (reason) {
    case ExitReason::kTimedOut:
      return "hard timeout of " + absl::FormatDuration(limits.timeout) + " reached";
    case ExitReason::kIdle:
      return "no agent event for " + absl::FormatDuration(limits.idle_timeout);
    case ExitReason::kOutputLimit:
      return "output exceeded " + std::to_string(limits.stdout_bytes) + " bytes (stdout) or " +
             std::to_string(limits.stderr_bytes) + " bytes (stderr)";
    case ExitReason::kOutOfMemory:
      return "memory limit of " + std::to_string(limits.memory_bytes) + " bytes reached";
    default:
      return "";
  }
}

}  // namespace

std::string ExitReasonName(ExitReason reason) {
  switch (reason) {
    case ExitReason::kExited:
      return "exited";
    case ExitReason::kTimedOut:
      return "timed out";
    case ExitReason::kIdle:
      return "idle";
    case ExitReason::kKilled:
      return "killed";
    case ExitReason::kOutOfMemory:
      return "out of memory";
    case ExitReason::kOutputLimit:
      return "output limit";
    case ExitReason::kFailedToStart:
      return "failed to start";
  }
  return "unknown";
}

AgentRun::AgentRun(RunSpec spec, SandboxBackend& backend)
    : spec_(std::move(spec)), backend_(backend) {}

AgentRun::~AgentRun() {
  std::shared_ptr<Sandbox> sandbox = this->sandbox();
  if (sandbox) sandbox->Kill();
}

absl::Status AgentRun::Start() {
  auto sandbox = backend_.Start(spec_);
  if (!sandbox.ok()) return sandbox.status();
  sandbox_id_ = (*sandbox)->id();
  started_at_ = absl::Now();
  std::shared_ptr<Sandbox> shared = *std::move(sandbox);

  std::lock_guard input_lock(input_mu_);
  started_ = true;
  {
    std::lock_guard lock(mu_);
    sandbox_ = shared;
    if (kill_reason_.has_value()) shared->Kill();
  }
  // A failed write shows up as the agent's exit; it is not an error here.
  absl::Status written = shared->WriteInput(spec_.start_line() + "\n");
  for (const auto& line : early_input_) {
    if (written.ok()) written = shared->WriteInput(line);
  }
  early_input_.clear();
  if (early_close_) shared->CloseInput().IgnoreError();
  if (!written.ok()) {
    GetLogger("broker")->warn("run {}: {}", spec_.run_id(), std::string(written.message()));
  }
  return absl::OkStatus();
}

std::shared_ptr<Sandbox> AgentRun::sandbox() {
  std::lock_guard lock(mu_);
  return sandbox_;
}

std::optional<ExitReason> AgentRun::kill_reason() {
  std::lock_guard lock(mu_);
  return kill_reason_;
}

absl::Status AgentRun::Send(const std::string& line) {
  std::lock_guard input_lock(input_mu_);
  std::shared_ptr<Sandbox> sandbox = this->sandbox();
  if (!started_) {
    if (early_close_)
      return absl::UnavailableError("send to run " + spec_.run_id() + ": input closed");
    early_input_.push_back(line);
    return absl::OkStatus();
  }
  if (!sandbox) return absl::UnavailableError("send to run " + spec_.run_id() + ": not running");
  return sandbox->WriteInput(line);
}

absl::Status AgentRun::SendFollowUp(const std::string& text) { return Send(EncodeFollowUp(text)); }

absl::Status AgentRun::SendToolResult(const std::string& id, bool ok, const std::string& content) {
  return Send(EncodeToolResult(id, ok, content));
}

absl::Status AgentRun::SendClose() { return Send(EncodeClose()); }

absl::Status AgentRun::CloseInput() {
  std::lock_guard input_lock(input_mu_);
  std::shared_ptr<Sandbox> sandbox = this->sandbox();
  if (!started_) {
    early_close_ = true;
    return absl::OkStatus();
  }
  return sandbox ? sandbox->CloseInput() : absl::OkStatus();
}

void AgentRun::Kill(ExitReason reason) {
  std::shared_ptr<Sandbox> sandbox;
  {
    std::lock_guard lock(mu_);
    if (!kill_reason_.has_value()) kill_reason_ = reason;
    sandbox = sandbox_;
  }
  if (sandbox) sandbox->Kill();
}

RunExit AgentRun::Supervise(const std::function<void(const AgentEvent&)>& on_event) {
  std::shared_ptr<Sandbox> sandbox = this->sandbox();
  const Limits& limits = spec_.limits();
  OutputAccounting output(limits);
  absl::Time hard_deadline = started_at_ + limits.timeout;
  absl::Time last_event = started_at_;
  absl::Time kill_deadline = absl::InfiniteFuture();
  auto logger = GetLogger("broker");

  auto on_line = [&](std::string_view line) {
    if (kill_reason().has_value()) return;
    auto event = ParseAgentEvent(line);
    if (!event.ok()) {
      logger->debug("run {}: {}", spec_.run_id(), std::string(event.status().message()));
      return;
    }
    last_event = absl::Now();
    on_event(*event);
  };

  while (true) {
    absl::Time now = absl::Now();
    bool killed = kill_reason().has_value();
    if (!killed && now >= hard_deadline) Kill(ExitReason::kTimedOut);
    if (!killed && now >= last_event + limits.idle_timeout) Kill(ExitReason::kIdle);
    killed = kill_reason().has_value();
    if (killed && kill_deadline == absl::InfiniteFuture()) kill_deadline = now + kKillGrace;
    if (now >= kill_deadline) break;
    absl::Time wake =
        killed ? kill_deadline : std::min(hard_deadline, last_event + limits.idle_timeout);

    auto chunk = sandbox->ReadOutput(std::min(wake - now, absl::Seconds(1)));
    if (!chunk.ok()) break;
    if (!chunk->has_value()) continue;
    bool within_cap = (*chunk)->stream == OutputChunk::Stream::kStdout
                          ? output.AddStdout((*chunk)->data, on_line)
                          : output.AddStderr((*chunk)->data);
    if (!within_cap && !killed) Kill(ExitReason::kOutputLimit);
  }

  RunExit result;
  auto exit = sandbox->Wait(kKillGrace);
  if (!exit.ok()) {
    sandbox->Kill();
    exit = sandbox->Wait(kKillGrace);
  }
  if (exit.ok()) result.code = exit->code;
  std::optional<ExitReason> reason = kill_reason();
  if (reason.has_value()) {
    result.reason = *reason;
  } else if (exit.ok() && exit->oom_killed) {
    result.reason = ExitReason::kOutOfMemory;
  } else {
    result.reason = ExitReason::kExited;
  }
  result.detail = ExitDetail(result.reason, limits);
  if (!exit.ok()) result.detail = std::string(exit.status().message());
  result.stderr_tail = output.StderrTail();

  // Tear the sandbox down before reporting that it is gone.
  {
    std::lock_guard lock(mu_);
    sandbox_.reset();
  }
  sandbox.reset();
  logger->info("run {} group {} sandbox {}: {} (code {}) after {}", spec_.run_id(),
               spec_.group_folder(), sandbox_id_, ExitReasonName(result.reason), result.code,
               absl::FormatDuration(absl::Trunc(absl::Now() - started_at_, absl::Milliseconds(1))));
  return result;
}

}  // namespace clawdie::broker
