// The clawdie.v1.Broker gRPC service: RunAgent (a bidirectional stream per
// run, served with the callback API so a run needs no server thread while it
// waits), ListSandboxes, KillSandbox and Info. Each run is validated into a
// RunSpec, registered under its run id (a second live run with the same id is
// refused with ALREADY_EXISTS), and supervised on its own thread.
//
// Thread-safety: all methods are called by gRPC from any thread; KillAll from
// the main thread at shutdown.
#ifndef CLAWDIE_SERVICES_BROKER_BROKER_SERVICE_H_
#define CLAWDIE_SERVICES_BROKER_BROKER_SERVICE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "clawdie/v1/broker.grpc.pb.h"
#include "services/broker/agent_run.h"
#include "services/broker/mount_allowlist.h"
#include "services/broker/run_spec.h"
#include "services/broker/sandbox.h"

namespace clawdie::broker {

// What the service needs besides the backend.
struct BrokerSettings {
  HostLayout layout;
  Limits default_limits = DefaultLimits();
  std::string model_provider = "anthropic";
  std::string default_model;
  bool model_key_present = false;
};

// Live runs by run id.
class RunRegistry {
 public:
  struct Entry {
    std::shared_ptr<AgentRun> run;
    std::string sandbox_id;  // empty until the sandbox started
    absl::Time started_at = absl::InfinitePast();
  };

  // Registers `run`. AlreadyExists if its run id is live.
  absl::Status Add(std::shared_ptr<AgentRun> run);
  void SetStarted(const std::string& run_id, const std::string& sandbox_id);
  void Remove(const std::string& run_id);
  std::shared_ptr<AgentRun> Find(const std::string& run_id);
  std::map<std::string, Entry> Snapshot();

 private:
  std::mutex mu_;
  std::map<std::string, Entry> runs_;  // guarded by mu_
};

// Converts the wire spec into a request for ValidateRunSpec.
RunRequest FromProto(const v1::RunSpec& spec);
v1::SandboxLimits ToProto(const Limits& limits);
v1::ExitReason ToProto(ExitReason reason);

class BrokerService final : public v1::Broker::CallbackService {
 public:
  // `backend` and `allowlist` must outlive the service.
  BrokerService(SandboxBackend& backend, const MountAllowlist& allowlist, BrokerSettings settings);
  ~BrokerService() override;

  grpc::ServerBidiReactor<v1::RunAgentRequest, v1::RunAgentResponse>* RunAgent(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* ListSandboxes(grpc::CallbackServerContext* context,
                                          const v1::ListSandboxesRequest* request,
                                          v1::ListSandboxesResponse* response) override;
  grpc::ServerUnaryReactor* KillSandbox(grpc::CallbackServerContext* context,
                                        const v1::KillSandboxRequest* request,
                                        v1::KillSandboxResponse* response) override;
  grpc::ServerUnaryReactor* Info(grpc::CallbackServerContext* context,
                                 const v1::InfoRequest* request,
                                 v1::InfoResponse* response) override;

  // Kills every live run (broker shutdown).
  void KillAll();

  // Validates and registers a run (used by the RunAgent reactor).
  absl::StatusOr<std::shared_ptr<AgentRun>> CreateRun(const v1::RunSpec& spec);
  RunRegistry& registry() { return registry_; }
  SandboxBackend& backend() { return backend_; }

 private:
  SandboxBackend& backend_;
  const MountAllowlist& allowlist_;
  const BrokerSettings settings_;
  RunRegistry registry_;
};

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_BROKER_SERVICE_H_
