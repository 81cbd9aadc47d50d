// The router's view of clawdie-broker's RunAgent stream: start a run with its
// spec, feed it input (follow-ups, tool results, close), and receive the agent's
// events through a handler. GrpcAgentBroker speaks gRPC; unit tests use a fake
// that lets the test play the agent.
//
// Thread-safety: a handler's methods are called from one thread per run (the
// stream's reader), never concurrently for the same run. AgentStream::Send may
// be called from any thread.
#ifndef CLAWDIE_SERVICES_ROUTER_BROKER_CLIENT_H_
#define CLAWDIE_SERVICES_ROUTER_BROKER_CLIENT_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clawdie/v1/broker.grpc.pb.h"
#include "grpcpp/channel.h"

namespace clawdie::router {

namespace pb = ::clawdie::v1;

// Receives the events of one run.
class AgentEventHandler {
 public:
  virtual ~AgentEventHandler() = default;

  // One event from the broker (started, output, tool_call, session_id, done, stderr_tail, exit).
  virtual void OnAgentEvent(int64_t run_id, const pb::RunAgentResponse& event) = 0;

  // Called exactly once after the last event: OK when the broker closed the stream normally,
  // otherwise why it broke (UNAVAILABLE when the broker went away).
  virtual void OnAgentStreamEnd(int64_t run_id, const absl::Status& status) = 0;
};

// The router's end of one live run.
class AgentStream {
 public:
  virtual ~AgentStream() = default;

  // Begins delivering the run's events to the handler (on the stream's own thread).
  virtual void Start() = 0;

  // Sends input to the agent. FailedPrecondition once the stream has ended or was closed.
  virtual absl::Status Send(const pb::AgentInput& input) = 0;

  // Sends `close` and then ends our side of the stream; the agent finishes its turn and exits.
  virtual void Close() = 0;

  // Aborts the run (the broker kills the sandbox). OnAgentStreamEnd still follows.
  virtual void Cancel() = 0;
};

class AgentBroker {
 public:
  virtual ~AgentBroker() = default;

  // Opens RunAgent and sends `spec`; events flow once the caller calls Start on the result.
  // `handler` is not owned and must stay valid until its OnAgentStreamEnd for this run
  // returned. Errors: the broker's refusal to open the stream.
  virtual absl::StatusOr<std::unique_ptr<AgentStream>> StartRun(int64_t run_id,
                                                                const pb::RunSpec& spec,
                                                                AgentEventHandler* handler) = 0;
};

// RunAgent over gRPC. Each run has a reader thread that outlives the AgentStream object if
// needed, so the handler may drop the stream from inside OnAgentStreamEnd.
class GrpcAgentBroker : public AgentBroker {
 public:
  // `max_run` bounds a whole run (the stream's deadline): the agent timeout plus slack.
  GrpcAgentBroker(std::shared_ptr<grpc::Channel> channel, absl::Duration max_run);

  absl::StatusOr<std::unique_ptr<AgentStream>> StartRun(int64_t run_id, const pb::RunSpec& spec,
                                                        AgentEventHandler* handler) override;

 private:
  std::unique_ptr<pb::Broker::Stub> stub_;
  absl::Duration max_run_;
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_BROKER_CLIENT_H_
