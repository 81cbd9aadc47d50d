// One agent run, independent of the backend: creates the sandbox, writes the
// start line, feeds follow-ups, turns stdout lines into events, and ends the
// run on exit, hard timeout, idle timeout, output cap or kill.
//
// Thread-safety: Start and then Supervise are called by one thread; the Send*
// methods by one other (feeding) thread; Kill from any thread at any time.
#ifndef CLAWDIE_SERVICES_BROKER_AGENT_RUN_H_
#define CLAWDIE_SERVICES_BROKER_AGENT_RUN_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/broker/agent_protocol.h"
#include "services/broker/run_spec.h"
#include "services/broker/sandbox.h"

namespace clawdie::broker {

enum class ExitReason {
  kExited,
  kTimedOut,
  kIdle,
  kKilled,
  kOutOfMemory,
  kOutputLimit,
  kFailedToStart,
};

// "exited", "timed out", "idle", "killed", "out of memory", "output limit",
// "failed to start".
std::string ExitReasonName(ExitReason reason);

struct RunExit {
  // The agent's exit code, -1 when unknown.
  int code = -1;
  ExitReason reason = ExitReason::kExited;
  std::string detail;
  // The last bytes of stderr (at most kStderrTailBytes), starting at a line.
  std::string stderr_tail;
};

class AgentRun {
 public:
  static constexpr size_t kStderrTailBytes = 4096;

  AgentRun(RunSpec spec, SandboxBackend& backend);
  ~AgentRun();

  AgentRun(const AgentRun&) = delete;
  AgentRun& operator=(const AgentRun&) = delete;

  // Creates the sandbox and writes the start line. Returns the backend's
  // error when the sandbox could not be created (nothing is left behind);
  // Supervise must not be called then.
  absl::Status Start();

  // The sandbox id once started.
  const std::string& sandbox_id() const { return sandbox_id_; }
  const RunSpec& spec() const { return spec_; }
  absl::Time started_at() const { return started_at_; }

  // Feed the agent; input sent before Start finished is delivered after the
  // start line. Unavailable once its stdin is closed or it ended.
  absl::Status SendFollowUp(const std::string& text);
  absl::Status SendToolResult(const std::string& id, bool ok, const std::string& content);
  absl::Status SendClose();
  // Closes the agent's stdin (EOF).
  absl::Status CloseInput();

  // Ends the run with `reason` (the first reason given wins).
  void Kill(ExitReason reason = ExitReason::kKilled);

  // Supervises until the agent ended, calling `on_event` (on this thread) for
  // each stdout event, then tears the sandbox down and returns how it ended.
  RunExit Supervise(const std::function<void(const AgentEvent&)>& on_event);

 private:
  std::shared_ptr<Sandbox> sandbox();
  absl::Status Send(const std::string& line);
  std::optional<ExitReason> kill_reason();

  const RunSpec spec_;
  SandboxBackend& backend_;
  std::string sandbox_id_;
  absl::Time started_at_ = absl::InfinitePast();

  // Serialises input: the start line first, then input sent before the
  // sandbox existed, then the rest.
  std::mutex input_mu_;
  std::vector<std::string> early_input_;  // guarded by input_mu_
  bool early_close_ = false;              // guarded by input_mu_
  bool started_ = false;                  // guarded by input_mu_

  std::mutex mu_;
  std::shared_ptr<Sandbox> sandbox_;       // guarded by mu_
  std::optional<ExitReason> kill_reason_;  // guarded by mu_
};

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_AGENT_RUN_H_
