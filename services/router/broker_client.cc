#include "services/router/broker_client.h"

#include <mutex>
#include <thread>

#include "common/grpc_client.h"
#include "common/status.h"

namespace clawdie::router {
namespace {

// State shared by the AgentStream object and its reader thread.
struct StreamState {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<pb::RunAgentRequest, pb::RunAgentResponse>> stream;
  std::mutex write_mu;
  bool writes_done = false;
};

void ReadEvents(std::shared_ptr<StreamState> state, int64_t run_id, AgentEventHandler* handler);

class GrpcAgentStream : public AgentStream {
 public:
  GrpcAgentStream(std::shared_ptr<StreamState> state, int64_t run_id, AgentEventHandler* handler)
      : state_(std::move(state)), run_id_(run_id), handler_(handler) {}

  void Start() override { std::thread(ReadEvents, state_, run_id_, handler_).detach(); }

  absl::Status Send(const pb::AgentInput& input) override {
    std::lock_guard<std::mutex> lock(state_->write_mu);
    if (state_->writes_done) return absl::FailedPreconditionError("send agent input: closed");
    pb::RunAgentRequest request;
    *request.mutable_input() = input;
    if (!state_->stream->Write(request)) {
      return absl::UnavailableError("send agent input: stream ended");
    }
    return absl::OkStatus();
  }

  void Close() override {
    pb::AgentInput input;
    input.set_close(true);
    Send(input).IgnoreError();
    std::lock_guard<std::mutex> lock(state_->write_mu);
    if (state_->writes_done) return;
    state_->writes_done = true;
    state_->stream->WritesDone();
  }

  void Cancel() override { state_->context.TryCancel(); }

 private:
  std::shared_ptr<StreamState> state_;
  int64_t run_id_;
  AgentEventHandler* handler_;
};

void ReadEvents(std::shared_ptr<StreamState> state, int64_t run_id, AgentEventHandler* handler) {
  pb::RunAgentResponse event;
  while (state->stream->Read(&event)) handler->OnAgentEvent(run_id, event);
  {
    // No write may race with Finish.
    std::lock_guard<std::mutex> lock(state->write_mu);
    state->writes_done = true;
  }
  grpc::Status status = state->stream->Finish();
  absl::Status result = FromGrpcStatus(status);
  if (!result.ok()) result = Annotate(result, "broker RunAgent");
  handler->OnAgentStreamEnd(run_id, result);
}

}  // namespace

GrpcAgentBroker::GrpcAgentBroker(std::shared_ptr<grpc::Channel> channel, absl::Duration max_run)
    : stub_(pb::Broker::NewStub(std::move(channel))), max_run_(max_run) {}

absl::StatusOr<std::unique_ptr<AgentStream>> GrpcAgentBroker::StartRun(int64_t run_id,
                                                                       const pb::RunSpec& spec,
                                                                       AgentEventHandler* handler) {
  auto state = std::make_shared<StreamState>();
  PrepareContext(&state->context, max_run_);
  state->stream = stub_->RunAgent(&state->context);
  if (state->stream == nullptr) {
    return absl::UnavailableError("broker RunAgent run " + std::to_string(run_id) + ": no stream");
  }

  pb::RunAgentRequest first;
  *first.mutable_spec() = spec;
  if (!state->stream->Write(first)) {
    // The stream broke at once; Finish tells why.
    absl::Status status = FromGrpcStatus(state->stream->Finish());
    if (status.ok()) status = absl::UnavailableError("stream closed before the spec was sent");
    return Annotate(status, "broker RunAgent run " + std::to_string(run_id));
  }
  return std::unique_ptr<AgentStream>(std::make_unique<GrpcAgentStream>(state, run_id, handler));
}

}  // namespace clawdie::router
