// The `process` backend: the agent runs as a plain child process of the
// broker in the group's folder, with no isolation at all. Only for trusted
// setups and tests; it logs a warning when chosen. Extra mounts appear as
// symlinks under the run's state folder (NANOCLAW_EXTRA_DIR).
//
// Thread-safety: Start may be called from many threads at once.
#ifndef CLAWDIE_SERVICES_BROKER_PROCESS_BACKEND_H_
#define CLAWDIE_SERVICES_BROKER_PROCESS_BACKEND_H_

#include "services/broker/process_launcher.h"
#include "services/broker/sandbox.h"

namespace clawdie::broker {

class ProcessBackend : public SandboxBackend {
 public:
  explicit ProcessBackend(SandboxOptions options,
                          ProcessLauncher& launcher = DefaultProcessLauncher());

  std::string name() const override { return "process"; }
  absl::StatusOr<std::string> Version() override;
  absl::Status Init() override;
  absl::StatusOr<std::unique_ptr<Sandbox>> Start(const RunSpec& spec) override;

 private:
  const SandboxOptions options_;
  ProcessLauncher& launcher_;
};

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_PROCESS_BACKEND_H_
