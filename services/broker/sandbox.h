// The one interface every sandbox backend (docker, jail, bwrap, process)
// implements, and the options they share. A backend turns a RunSpec into a
// running Sandbox: the agent started with pipes on stdin, stdout and stderr
// (DESIGN.md §6). Supervision (timeouts, caps, events) is backend-neutral and
// lives in AgentRun.
//
// Thread-safety: SandboxBackend::Start may be called from many threads at once.
// For a Sandbox, ReadOutput and Wait are called from one supervising thread;
// WriteInput and CloseInput from one feeding thread; Kill from any thread.
#ifndef CLAWDIE_SERVICES_BROKER_SANDBOX_H_
#define CLAWDIE_SERVICES_BROKER_SANDBOX_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/broker/run_spec.h"
#include "services/broker/steps.h"

namespace clawdie::broker {

// A piece of the agent's output.
struct OutputChunk {
  enum class Stream { kStdout, kStderr };
  Stream stream = Stream::kStdout;
  std::string data;
};

// How the agent process ended.
struct SandboxExit {
  // Exit status, 128 + signal when killed by a signal, -1 when unknown.
  int code = -1;
  // The kernel or the container runtime killed it for exceeding its memory limit.
  bool oom_killed = false;
};

class Sandbox {
 public:
  // Tears the sandbox down: kills what still runs and undoes every creation step.
  virtual ~Sandbox() = default;

  // Backend id: container id, jail name, or pid.
  virtual std::string id() const = 0;

  // Writes `data` to the agent's stdin. Returns Unavailable when the agent no
  // longer reads it (exited or closed stdin) or input was closed.
  virtual absl::Status WriteInput(std::string_view data) = 0;

  // Closes the agent's stdin (EOF). Idempotent.
  virtual absl::Status CloseInput() = 0;

  // Waits up to `timeout` for output. Returns a chunk, std::nullopt on
  // timeout, or OutOfRange once stdout and stderr both ended.
  virtual absl::StatusOr<std::optional<OutputChunk>> ReadOutput(absl::Duration timeout) = 0;

  // Kills the agent and every process it started. Idempotent; any thread.
  virtual void Kill() = 0;

  // Waits up to `timeout` for the agent to end. DeadlineExceeded on timeout.
  virtual absl::StatusOr<SandboxExit> Wait(absl::Duration timeout) = 0;
};

// Starts the model proxy for one run on `socket_path`; returns how to stop it.
using ModelProxyStarter =
    std::function<absl::StatusOr<std::function<void()>>(const std::string& socket_path)>;

// Settings every backend shares.
struct SandboxOptions {
  // The agent program: a host path (process, bwrap) or a path inside the
  // image or jail base (docker, jail).
  std::string agent_command = "/usr/local/bin/clawdie-agent";
  // Extra arguments after the agent program.
  std::vector<std::string> agent_args;
  // TZ for the agent.
  std::string timezone = "UTC";
  // "anthropic" or "openai", given to the agent as CLAWDIE_MODEL_PROVIDER.
  std::string model_provider = "anthropic";
  // Unprivileged user the agent runs as when the broker is root.
  uid_t sandbox_uid = 65534;
  gid_t sandbox_gid = 65534;
  // Starts the per-run model proxy; null runs without one.
  ModelProxyStarter model_proxy;
  // No key is configured for a provider that needs one: there is no proxy, the agent gets no
  // CLAWDIE_MODEL_SOCKET and answers with the name of the missing setting.
  bool model_key_missing = false;
  // Called before every creation step (tests fail steps with it).
  StepHook step_hook;
};

class SandboxBackend {
 public:
  virtual ~SandboxBackend() = default;

  // "docker", "jail", "bwrap" or "process".
  virtual std::string name() const = 0;

  // Version of what the backend drives (Docker Engine, bwrap, kernel).
  virtual absl::StatusOr<std::string> Version() = 0;

  // Prepares the backend at broker start (for docker: negotiate the API
  // version and remove this install's orphaned containers).
  virtual absl::Status Init() = 0;

  // Creates the sandbox for `spec` and starts the agent in it. On error
  // nothing created for the run remains. The start line is not written yet.
  virtual absl::StatusOr<std::unique_ptr<Sandbox>> Start(const RunSpec& spec) = 0;
};

// Paths of the sandbox contract as the agent sees them.
struct AgentPaths {
  std::string workspace = "/workspace/group";
  std::string global_dir = "/workspace/global";
  std::string extra_dir = "/workspace/extra";
  std::string ipc_dir = "/workspace/ipc";
  std::string model_socket = "/run/clawdie/model.sock";
};

// The agent's environment (KEY=VALUE) for the given in-sandbox paths. Never
// contains a credential.
std::vector<std::string> AgentEnvironment(const AgentPaths& paths, const SandboxOptions& options);

// Adds the steps every backend starts with: the group and global folders
// (opened without following symlinks, created if missing, handed to the
// sandbox user when the broker is root), this run's state folder (removed on
// undo), and the model proxy.
absl::Status RunCommonSteps(StepRunner& steps, const RunSpec& spec, const SandboxOptions& options);

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_SANDBOX_H_
