// A Sandbox whose agent is a local child process connected by pipes: the
// process, bwrap and jail backends all end up here (the child being the agent,
// bwrap, or jexec). A waiter thread reaps the child; when it ends, the rest of
// its process group is killed so nothing it started outlives the run.
//
// Thread-safety: as for Sandbox (see sandbox.h).
#ifndef CLAWDIE_SERVICES_BROKER_PIPE_SANDBOX_H_
#define CLAWDIE_SERVICES_BROKER_PIPE_SANDBOX_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "services/broker/process_launcher.h"
#include "services/broker/sandbox.h"
#include "services/broker/steps.h"

namespace clawdie::broker {

class PipeSandbox : public Sandbox {
 public:
  // Takes the started `process` and the `steps` that built the sandbox (their
  // undo actions are its teardown). `extra_kill`, if set, runs on Kill after
  // the process group is signalled (e.g. `jail -r`).
  PipeSandbox(std::string id, LaunchedProcess process, ProcessLauncher& launcher,
              std::unique_ptr<StepRunner> steps, std::function<void()> extra_kill = nullptr);
  ~PipeSandbox() override;

  std::string id() const override { return id_; }
  absl::Status WriteInput(std::string_view data) override;
  absl::Status CloseInput() override;
  absl::StatusOr<std::optional<OutputChunk>> ReadOutput(absl::Duration timeout) override;
  void Kill() override;
  absl::StatusOr<SandboxExit> Wait(absl::Duration timeout) override;

  pid_t pid() const { return pid_; }

 private:
  void WaitForChild();

  const std::string id_;
  const pid_t pid_;
  ProcessLauncher& launcher_;
  std::unique_ptr<StepRunner> steps_;
  std::function<void()> extra_kill_;

  std::mutex input_mu_;
  UniqueFd stdin_fd_;  // guarded by input_mu_

  // Used only by the supervising thread.
  UniqueFd stdout_fd_;
  UniqueFd stderr_fd_;

  std::mutex mu_;
  std::condition_variable exited_cv_;
  bool reaped_ = false;  // guarded by mu_
  SandboxExit exit_;     // guarded by mu_
  std::thread waiter_;
};

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_PIPE_SANDBOX_H_
