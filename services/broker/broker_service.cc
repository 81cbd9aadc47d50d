#include "services/broker/broker_service.h"

#include <deque>
#include <thread>

#include "common/logging.h"
#include "common/status.h"
#include "google/protobuf/util/time_util.h"

namespace clawdie::broker {
namespace {

using google::protobuf::util::TimeUtil;

absl::Duration FromProto(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
}

google::protobuf::Duration DurationToProto(absl::Duration duration) {
  return TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(duration));
}

v1::RunAgentResponse ToResponse(const AgentEvent& event) {
  v1::RunAgentResponse response;
  switch (event.kind) {
    case AgentEvent::Kind::kOutput:
      response.set_output(event.text);
      break;
    case AgentEvent::Kind::kToolCall: {
      v1::ToolCall* call = response.mutable_tool_call();
      call->set_id(event.tool_id);
      call->set_name(event.tool_name);
      call->set_input_json(event.tool_input_json);
      break;
    }
    case AgentEvent::Kind::kSession:
      response.set_session_id(event.session_id);
      break;
    case AgentEvent::Kind::kDone:
      response.mutable_done()->set_status(event.status);
      response.mutable_done()->set_error(event.error);
      break;
  }
  return response;
}

v1::RunAgentResponse ExitResponse(int code, ExitReason reason, const std::string& detail) {
  v1::RunAgentResponse response;
  response.mutable_exit()->set_code(code);
  response.mutable_exit()->set_reason(ToProto(reason));
  response.mutable_exit()->set_detail(detail);
  return response;
}

// One RunAgent call. gRPC thread: reads input and completes writes. Run
// thread: starts the sandbox, supervises it and queues every response.
class RunAgentReactor : public grpc::ServerBidiReactor<v1::RunAgentRequest, v1::RunAgentResponse> {
 public:
  explicit RunAgentReactor(BrokerService& service) : service_(service) { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      OnInputEnded();
      return;
    }
    if (!run_) {
      HandleSpec();
      return;
    }
    FeedAgent(request_);
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(mu_);
    writing_ = false;
    if (!ok) {
      // The client is gone; nobody will read the events.
      queue_.clear();
      if (run_) run_->Kill(ExitReason::kKilled);
    }
    StartNextLocked(lock);
  }

  void OnCancel() override {
    std::lock_guard lock(mu_);
    if (run_) run_->Kill(ExitReason::kKilled);
  }

  void OnDone() override {
    if (runner_.joinable()) runner_.join();
    delete this;
  }

 private:
  void HandleSpec() {
    if (request_.kind_case() != v1::RunAgentRequest::kSpec) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "RunAgent: the first request must carry the spec"));
      return;
    }
    auto run = service_.CreateRun(request_.spec());
    if (!run.ok()) {
      Finish(ToGrpcStatus(run.status()));
      return;
    }
    {
      std::lock_guard lock(mu_);
      run_ = *run;
    }
    runner_ = std::thread([this] { RunToEnd(); });
    StartRead(&request_);
  }

  void OnInputEnded() {
    std::shared_ptr<AgentRun> run;
    {
      std::lock_guard lock(mu_);
      run = run_;
    }
    if (!run) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "RunAgent: no spec was sent"));
      return;
    }
    // The caller half-closed: the agent's stdin ends.
    run->CloseInput().IgnoreError();
  }

  void FeedAgent(const v1::RunAgentRequest& request) {
    if (request.kind_case() != v1::RunAgentRequest::kInput) return;
    const v1::AgentInput& input = request.input();
    absl::Status status;
    switch (input.kind_case()) {
      case v1::AgentInput::kMessage:
        status = run_->SendFollowUp(input.message());
        break;
      case v1::AgentInput::kToolResult:
        status = run_->SendToolResult(input.tool_result().id(), input.tool_result().ok(),
                                      input.tool_result().content());
        break;
      case v1::AgentInput::kClose:
        status = run_->SendClose();
        break;
      default:
        break;
    }
    if (!status.ok()) {
      GetLogger("broker")->debug("run {}: {}", run_->spec().run_id(),
                                 std::string(status.message()));
    }
  }

  // Runs on runner_: the whole life of the sandbox.
  void RunToEnd() {
    const std::string run_id = run_->spec().run_id();
    absl::Status started = run_->Start();
    if (!started.ok()) {
      GetLogger("broker")->warn("run {}: {}", run_id, std::string(started.message()));
      service_.registry().Remove(run_id);
      Enqueue(ExitResponse(-1, ExitReason::kFailedToStart, std::string(started.message())));
      EnqueueFinish();
      return;
    }
    service_.registry().SetStarted(run_id, run_->sandbox_id());

    v1::RunAgentResponse response;
    v1::RunAgentResponse::Started* info = response.mutable_started();
    info->set_sandbox_id(run_->sandbox_id());
    info->set_backend(service_.backend().name());
    for (const auto& rejected : run_->spec().rejected_mounts()) info->add_rejected_mounts(rejected);
    Enqueue(std::move(response));

    RunExit exit = run_->Supervise([&](const AgentEvent& event) { Enqueue(ToResponse(event)); });
    service_.registry().Remove(run_id);
    if (!exit.stderr_tail.empty()) {
      v1::RunAgentResponse tail;
      tail.set_stderr_tail(exit.stderr_tail);
      Enqueue(std::move(tail));
    }
    Enqueue(ExitResponse(exit.code, exit.reason, exit.detail));
    EnqueueFinish();
  }

  void Enqueue(v1::RunAgentResponse response) {
    std::unique_lock lock(mu_);
    queue_.push_back(std::move(response));
    StartNextLocked(lock);
  }

  void EnqueueFinish() {
    std::unique_lock lock(mu_);
    finish_requested_ = true;
    StartNextLocked(lock);
  }

  // Starts the next write or the finish; releases the lock before calling gRPC.
  void StartNextLocked(std::unique_lock<std::mutex>& lock) {
    if (writing_ || finished_) return;
    if (!queue_.empty()) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      lock.unlock();
      StartWrite(&current_);
      return;
    }
    if (finish_requested_) {
      finished_ = true;
      lock.unlock();
      Finish(grpc::Status::OK);
    }
  }

  BrokerService& service_;
  v1::RunAgentRequest request_;  // used by the gRPC thread only
  std::thread runner_;

  std::mutex mu_;
  std::shared_ptr<AgentRun> run_;           // set once, guarded by mu_
  std::deque<v1::RunAgentResponse> queue_;  // guarded by mu_
  v1::RunAgentResponse current_;            // the response being written
  bool writing_ = false;                    // guarded by mu_
  bool finish_requested_ = false;           // guarded by mu_
  bool finished_ = false;                   // guarded by mu_
};

}  // namespace

absl::Status RunRegistry::Add(std::shared_ptr<AgentRun> run) {
  std::lock_guard lock(mu_);
  const std::string& run_id = run->spec().run_id();
  if (runs_.count(run_id) != 0) {
    return absl::AlreadyExistsError("run " + run_id + ": already running");
  }
  runs_[run_id] = Entry{std::move(run), "", absl::Now()};
  return absl::OkStatus();
}

void RunRegistry::SetStarted(const std::string& run_id, const std::string& sandbox_id) {
  std::lock_guard lock(mu_);
  auto it = runs_.find(run_id);
  if (it != runs_.end()) it->second.sandbox_id = sandbox_id;
}

void RunRegistry::Remove(const std::string& run_id) {
  std::lock_guard lock(mu_);
  runs_.erase(run_id);
}

std::shared_ptr<AgentRun> RunRegistry::Find(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto it = runs_.find(run_id);
  return it == runs_.end() ? nullptr : it->second.run;
}

std::map<std::string, RunRegistry::Entry> RunRegistry::Snapshot() {
  std::lock_guard lock(mu_);
  return runs_;
}

RunRequest FromProto(const v1::RunSpec& spec) {
  RunRequest request;
  request.run_id = spec.run_id();
  request.group_folder = spec.group_folder();
  request.is_main = spec.is_main();
  request.start_json = spec.start_json();
  for (const auto& mount : spec.extra_mounts()) {
    request.extra_mounts.push_back({mount.host_path(), mount.name(), mount.read_write()});
  }
  const v1::SandboxLimits& limits = spec.limits();
  request.limits.timeout = FromProto(limits.timeout());
  request.limits.idle_timeout = FromProto(limits.idle_timeout());
  request.limits.memory_bytes = limits.memory_bytes();
  request.limits.cpu_millis = limits.cpu_millis();
  request.limits.pids = limits.pids();
  request.limits.stdout_bytes = limits.stdout_bytes();
  request.limits.stderr_bytes = limits.stderr_bytes();
  request.network =
      spec.network() == v1::NETWORK_POLICY_FULL ? NetworkPolicy::kFull : NetworkPolicy::kNone;
  request.model = spec.model();
  return request;
}

v1::SandboxLimits ToProto(const Limits& limits) {
  v1::SandboxLimits proto;
  *proto.mutable_timeout() = DurationToProto(limits.timeout);
  *proto.mutable_idle_timeout() = DurationToProto(limits.idle_timeout);
  proto.set_memory_bytes(limits.memory_bytes);
  proto.set_cpu_millis(limits.cpu_millis);
  proto.set_pids(limits.pids);
  proto.set_stdout_bytes(limits.stdout_bytes);
  proto.set_stderr_bytes(limits.stderr_bytes);
  return proto;
}

v1::ExitReason ToProto(ExitReason reason) {
  switch (reason) {
    case ExitReason::kExited:
      return v1::EXIT_REASON_EXITED;
    case ExitReason::kTimedOut:
      return v1::EXIT_REASON_TIMED_OUT;
    case ExitReason::kIdle:
      return v1::EXIT_REASON_IDLE;
    case ExitReason::kKilled:
      return v1::EXIT_REASON_KILLED;
    case ExitReason::kOutOfMemory:
      return v1::EXIT_REASON_OUT_OF_MEMORY;
    case ExitReason::kOutputLimit:
      return v1::EXIT_REASON_OUTPUT_LIMIT;
    case ExitReason::kFailedToStart:
      return v1::EXIT_REASON_FAILED_TO_START;
  }
  return v1::EXIT_REASON_UNSPECIFIED;
}

BrokerService::BrokerService(SandboxBackend& backend, const MountAllowlist& allowlist,
                             BrokerSettings settings)
    : backend_(backend), allowlist_(allowlist), settings_(std::move(settings)) {}

BrokerService::~BrokerService() { KillAll(); }

absl::StatusOr<std::shared_ptr<AgentRun>> BrokerService::CreateRun(const v1::RunSpec& proto) {
  auto spec = ValidateRunSpec(FromProto(proto), settings_.layout, allowlist_,
                              settings_.default_limits, settings_.default_model);
  if (!spec.ok()) return spec.status();
  auto run = std::make_shared<AgentRun>(*std::move(spec), backend_);
  if (auto status = registry_.Add(run); !status.ok()) return status;
  return run;
}

grpc::ServerBidiReactor<v1::RunAgentRequest, v1::RunAgentResponse>* BrokerService::RunAgent(
    grpc::CallbackServerContext* context) {
  return new RunAgentReactor(*this);
}

grpc::ServerUnaryReactor* BrokerService::ListSandboxes(grpc::CallbackServerContext* context,
                                                       const v1::ListSandboxesRequest* request,
                                                       v1::ListSandboxesResponse* response) {
  for (const auto& [run_id, entry] : registry_.Snapshot()) {
    v1::Sandbox* sandbox = response->add_sandboxes();
    sandbox->set_run_id(run_id);
    sandbox->set_group_folder(entry.run->spec().group_folder());
    sandbox->set_sandbox_id(entry.sandbox_id);
    sandbox->set_backend(backend_.name());
    *sandbox->mutable_started_at() =
        TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(entry.started_at));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* BrokerService::KillSandbox(grpc::CallbackServerContext* context,
                                                     const v1::KillSandboxRequest* request,
                                                     v1::KillSandboxResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::shared_ptr<AgentRun> run = registry_.Find(request->run_id());
  if (!run) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                 "kill sandbox " + request->run_id() + ": no such live run"));
    return reactor;
  }
  GetLogger("broker")->info("run {}: killed on request", request->run_id());
  run->Kill(ExitReason::kKilled);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* BrokerService::Info(grpc::CallbackServerContext* context,
                                              const v1::InfoRequest* request,
                                              v1::InfoResponse* response) {
  response->set_backend(backend_.name());
  auto version = backend_.Version();
  response->set_backend_version(version.ok() ? *version : std::string(version.status().message()));
  *response->mutable_default_limits() = ToProto(settings_.default_limits);
  response->set_model_provider(settings_.model_provider);
  response->set_model(settings_.default_model);
  response->set_model_key_present(settings_.model_key_present);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

void BrokerService::KillAll() {
  for (auto& [run_id, entry] : registry_.Snapshot()) entry.run->Kill(ExitReason::kKilled);
}

}  // namespace clawdie::broker
