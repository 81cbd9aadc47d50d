#include "services/broker/docker_backend.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common/logging.h"
#include "services/broker/docker_stream.h"
#include "services/broker/docker_workspace.h"

namespace clawdie::broker {
namespace {

using Json = nlohmann::json;

constexpr absl::Duration kArmTimeout = absl::Seconds(10);
constexpr absl::Duration kRequestTimeout = absl::Seconds(30);
// How long the copy back waits for a killed container to stop.
constexpr absl::Duration kStopTimeout = absl::Seconds(30);

std::shared_ptr<spdlog::logger> DockerLog() { return GetLogger("docker"); }

Json Mount(const std::string& source, const std::string& target, bool read_only) {
  return {{"Type", "bind"},
          {"Source", source},
          {"Target", target},
          {"ReadOnly", read_only},
          {"BindOptions", {{"Propagation", "rprivate"}}}};
}

// The group, global, IPC and model-socket folders and the extra mounts, bound from this host.
Json HostMounts(const RunSpec& spec) {
  AgentPaths paths;
  Json mounts = Json::array();
  mounts.push_back(Mount(spec.group_dir(), paths.workspace, false));
  mounts.push_back(Mount(spec.global_dir(), paths.global_dir, !spec.is_main()));
  mounts.push_back(Mount(spec.run_state_dir() + "/ipc", paths.ipc_dir, false));
  mounts.push_back(Mount(spec.run_state_dir() + "/sock", "/run/clawdie", true));
  for (const auto& mount : spec.mounts()) {
    mounts.push_back(Mount(mount.host_path, mount.sandbox_path, !mount.read_write));
  }
  return mounts;
}

// An anonymous volume the folders are copied into; removed with the container.
Json WorkspaceVolume(const RunSpec& spec, const DockerOptions& docker) {
  Json labels = {{kInstallLabel, docker.install_id}, {kRunLabel, spec.run_id()}};
  return Json::array({{{"Type", "volume"},
                       {"Target", kWorkspaceVolumeTarget},
                       {"ReadOnly", false},
                       {"VolumeOptions", {{"Labels", labels}}}}});
}

// What the run's container shares between the sandbox, its steps and the
// thread waiting for the container to exit.
struct ContainerState {
  std::string id;
  std::unique_ptr<HijackedConnection> attach;

  std::mutex mu;
  std::condition_variable cv;
  bool armed = false;    // guarded by mu
  bool exited = false;   // guarded by mu
  SandboxExit exit;      // guarded by mu
  bool removed = false;  // set by the thread running the undo actions
  std::atomic<bool> abort_wait{false};
  std::thread waiter;
  WorkspaceCopy copied;  // what the copy-in sent (copy_workspace only)
};

void RemoveContainer(DockerClient& client, const std::string& id) {
  auto removed = client.Call("DELETE", "/containers/" + id + "?force=1&v=1", "", kRequestTimeout);
  if (!removed.ok() && removed.status().code() != absl::StatusCode::kNotFound) {
    DockerLog()->warn("{}", std::string(removed.status().message()));
  }
}

// Runs on the waiter thread: blocks in /wait, then inspects for OOMKilled.
void WaitForExit(DockerClient& client, std::shared_ptr<ContainerState> state,
                 absl::Duration timeout) {
  auto on_headers = [&] {
    std::lock_guard lock(state->mu);
    state->armed = true;
    state->cv.notify_all();
  };
  auto waited =
      client.CallStreaming("POST", "/containers/" + state->id + "/wait?condition=next-exit",
                           on_headers, &state->abort_wait, timeout);
  SandboxExit exit;
  if (waited.ok()) {
    Json body = Json::parse(waited->body, nullptr, false);
    if (body.is_object()) exit.code = body.value("StatusCode", -1);
    auto inspected = client.Call("GET", "/containers/" + state->id + "/json", "", kRequestTimeout);
    Json info = inspected.ok() ? Json::parse(inspected->body, nullptr, false) : Json();
    if (info.is_object() && info.contains("State") && info["State"].is_object()) {
      exit.oom_killed = info["State"].value("OOMKilled", false);
    }
  } else if (!state->abort_wait.load()) {
    DockerLog()->warn("{}", std::string(waited.status().message()));
  }
  std::lock_guard lock(state->mu);
  state->armed = true;
  state->exited = true;
  state->exit = exit;
  state->cv.notify_all();
}

class DockerSandbox : public Sandbox {
 public:
  DockerSandbox(DockerClient& client, std::shared_ptr<ContainerState> state,
                std::unique_ptr<StepRunner> steps)
      : client_(client), state_(std::move(state)), steps_(std::move(steps)) {}

  ~DockerSandbox() override {
    Kill();
    steps_->UndoAll();
    std::lock_guard lock(kill_mu_);
    if (killer_.joinable()) killer_.join();
  }

  std::string id() const override { return state_->id.substr(0, 12); }

  absl::Status WriteInput(std::string_view data) override { return state_->attach->Send(data); }

  absl::Status CloseInput() override {
    state_->attach->CloseWrite();
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<OutputChunk>> ReadOutput(absl::Duration timeout) override {
    absl::Time deadline = absl::Now() + timeout;
    while (pending_.empty()) {
      auto received = state_->attach->Recv(deadline - absl::Now());
      if (!received.ok()) return received.status();
      if (!received->has_value()) {
        return absl::OutOfRangeError("read output " + id() + ": ended");
      }
      if ((*received)->empty()) return std::nullopt;
      std::vector<OutputChunk> chunks;
      if (auto status = demuxer_.Feed(**received, &chunks); !status.ok()) return status;
      pending_.insert(pending_.end(), chunks.begin(), chunks.end());
    }
    OutputChunk chunk = std::move(pending_.front());
    pending_.pop_front();
    return chunk;
  }

  // Sends the kill from another thread: the daemon answers only once the
  // container's output is drained, which the caller may be doing.
  void Kill() override {
    {
      std::lock_guard lock(state_->mu);
      if (state_->exited) return;
    }
    std::lock_guard lock(kill_mu_);
    if (killer_.joinable()) return;
    killer_ = std::thread([client = &client_, id = state_->id] {
      auto killed = client->Call("POST", "/containers/" + id + "/kill", "", kRequestTimeout);
      if (!killed.ok() && killed.status().code() != absl::StatusCode::kFailedPrecondition &&
          killed.status().code() != absl::StatusCode::kNotFound) {
        DockerLog()->warn("{}", std::string(killed.status().message()));
      }
    });
  }

  absl::StatusOr<SandboxExit> Wait(absl::Duration timeout) override {
    std::unique_lock lock(state_->mu);
    bool done =
        state_->cv.wait_for(lock, absl::ToChronoNanoseconds(std::min(timeout, absl::Hours(24))),
                            [&] { return state_->exited; });
    if (!done) return absl::DeadlineExceededError("wait " + id() + ": still running");
    return state_->exit;
  }

 private:
  DockerClient& client_;
  std::shared_ptr<ContainerState> state_;
  std::unique_ptr<StepRunner> steps_;
  StreamDemuxer demuxer_;
  std::deque<OutputChunk> pending_;
  std::mutex kill_mu_;
  std::thread killer_;  // guarded by kill_mu_
};

// Creates the container and, when the daemon cannot bind host folders, copies the workspace in.
absl::Status CreateContainer(StepRunner& steps, DockerClient& client, const RunSpec& spec,
                             const Json& config, const DockerOptions& docker,
                             const WorkspaceCopyOptions& copy,
                             std::shared_ptr<ContainerState> state) {
  absl::Status status = steps.Run(
      "create container",
      [&]() -> absl::Status {
        std::string name = "clawdie-" + docker.install_id + "-" + spec.run_id();
        auto created = client.Call("POST", "/containers/create?name=" + UrlEncode(name),
                                   config.dump(), kRequestTimeout);
        if (!created.ok()) return created.status();
        state->id = Json::parse(created->body, nullptr, false).value("Id", "");
        if (state->id.empty()) return absl::InternalError("docker create: no Id in the answer");
        return absl::OkStatus();
      },
      [&client, state] {
        if (!state->removed) RemoveContainer(client, state->id);
      });
  if (!status.ok() || !docker.copy_workspace) return status;
  return steps.Run("copy workspace in",
                   [&] { return CopyWorkspaceIn(client, state->id, spec, copy, &state->copied); });
}

// Starts the thread waiting for the container's exit; the daemon must have registered it
// before the container starts, or a quick exit would be missed.
absl::Status ArmWait(StepRunner& steps, DockerClient& client, const RunSpec& spec,
                     std::shared_ptr<ContainerState> state) {
  absl::Duration wait_timeout = spec.limits().timeout + absl::Minutes(5);
  return steps.Run(
      "arm wait",
      [&]() -> absl::Status {
        state->waiter = std::thread(WaitForExit, std::ref(client), state, wait_timeout);
        std::unique_lock lock(state->mu);
        state->cv.wait_for(lock, absl::ToChronoNanoseconds(kArmTimeout),
                           [&] { return state->armed; });
        if (state->armed && !state->exited) return absl::OkStatus();
        state->abort_wait = true;
        lock.unlock();
        state->waiter.join();
        return absl::UnavailableError("docker wait " + state->id + ": not armed within " +
                                      absl::FormatDuration(kArmTimeout));
      },
      [&client, state] {
        // An unstarted container's wait only ends when the container goes.
        bool exited;
        {
          std::lock_guard lock(state->mu);
          exited = state->exited;
        }
        if (!exited) {
          state->abort_wait = true;
          RemoveContainer(client, state->id);
          state->removed = true;
        }
        if (state->waiter.joinable()) state->waiter.join();
      });
}

// The teardown action that copies the workspace back. It runs first in the teardown, after the
// sandbox was killed or the agent exited, and waits for the container to stop.
std::function<void()> CopyOutOnTeardown(DockerClient& client, const RunSpec& spec,
                                        const WorkspaceCopyOptions& copy,
                                        std::shared_ptr<ContainerState> state) {
  return [&client, spec, copy, state] {
    {
      std::unique_lock lock(state->mu);
      if (!state->cv.wait_for(lock, absl::ToChronoNanoseconds(kStopTimeout),
                              [&] { return state->exited; })) {
        DockerLog()->error(
            "copy workspace out of sandbox {}: container still running after {}; its changes "
            "are lost",
            spec.run_id(), absl::FormatDuration(kStopTimeout));
        return;
      }
    }
    if (auto status = CopyWorkspaceOut(client, state->id, spec, copy, state->copied);
        !status.ok()) {
      DockerLog()->error("copy workspace out of sandbox {}: {}; changes not copied back are lost",
                         spec.run_id(), status.message());
    }
  };
}

}  // namespace

Json BuildContainerConfig(const RunSpec& spec, const SandboxOptions& options,
                          const DockerOptions& docker) {
  AgentPaths paths;
  Json mounts = docker.copy_workspace ? WorkspaceVolume(spec, docker) : HostMounts(spec);
  Json cmd = Json::array({options.agent_command});
  for (const auto& arg : options.agent_args) cmd.push_back(arg);
  const Limits& limits = spec.limits();

  Json host_config = {
      {"Mounts", mounts},
      {"NetworkMode", spec.network() == NetworkPolicy::kNone ? "none" : "bridge"},
      {"ReadonlyRootfs", true},
      {"Tmpfs", {{"/tmp", "rw,nosuid,nodev,size=" + std::to_string(docker.tmp_bytes)}}},
      {"CapDrop", Json::array({"ALL"})},
      {"SecurityOpt", Json::array({"no-new-privileges"})},
      {"Memory", limits.memory_bytes},
      {"MemorySwap", limits.memory_bytes},
      {"NanoCpus", limits.cpu_millis * 1000000},
      {"PidsLimit", limits.pids},
      {"Init", true},
      {"AutoRemove", false},
      {"LogConfig", {{"Type", "none"}, {"Config", Json::object()}}},
  };
  return {
      {"Image", docker.image},
      {"Cmd", cmd},
      {"Env", AgentEnvironment(paths, options)},
      {"User", std::to_string(options.sandbox_uid) + ":" + std::to_string(options.sandbox_gid)},
      {"WorkingDir", paths.workspace},
      {"Hostname", "clawdie"},
      {"AttachStdin", true},
      {"AttachStdout", true},
      {"AttachStderr", true},
      {"OpenStdin", true},
      {"StdinOnce", true},
      {"Tty", false},
      {"NetworkDisabled", spec.network() == NetworkPolicy::kNone},
      {"Labels",
       {{kInstallLabel, docker.install_id},
        {kRunLabel, spec.run_id()},
        {kGroupLabel, spec.group_folder()}}},
      {"HostConfig", host_config},
  };
}

DockerBackend::DockerBackend(SandboxOptions options, DockerOptions docker)
    : options_(std::move(options)), docker_(std::move(docker)), client_(docker_.endpoint) {}

absl::StatusOr<std::string> DockerBackend::Version() {
  if (client_.engine_version().empty()) {
    if (auto status = client_.Negotiate(); !status.ok()) return status;
  }
  return "Docker Engine " + client_.engine_version() + " (API " + client_.api_version() + ")";
}

absl::Status DockerBackend::Init() {
  if (auto status = client_.Negotiate(); !status.ok()) return status;
  DockerLog()->info("sandbox backend docker: engine {} at {}, API {}, image {}, group folders {}",
                    client_.engine_version(), docker_.endpoint.host, client_.api_version(),
                    docker_.image,
                    docker_.copy_workspace ? "copied in and out (remote daemon)" : "bind-mounted");
  return ReapOrphans();
}

absl::StatusOr<std::vector<std::string>> DockerBackend::ListContainers(const std::string& run_id) {
  Json labels = Json::array({std::string(kInstallLabel) + "=" + docker_.install_id});
  if (!run_id.empty()) labels.push_back(std::string(kRunLabel) + "=" + run_id);
  Json filters = {{"label", labels}};
  auto listed = client_.Call("GET", "/containers/json?all=1&filters=" + UrlEncode(filters.dump()),
                             "", kRequestTimeout);
  if (!listed.ok()) return listed.status();
  Json body = Json::parse(listed->body, nullptr, false);
  std::vector<std::string> ids;
  if (!body.is_array()) return ids;
  for (const auto& container : body) {
    if (container.is_object() && container.contains("Id")) ids.push_back(container["Id"]);
  }
  return ids;
}

absl::Status DockerBackend::ReapOrphans() {
  auto ids = ListContainers();
  if (!ids.ok()) return ids.status();
  for (const auto& id : *ids) RemoveContainer(client_, id);
  if (!ids->empty()) {
    DockerLog()->warn("removed {} containers left by an earlier broker of install {}", ids->size(),
                      docker_.install_id);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Sandbox>> DockerBackend::Start(const RunSpec& spec) {
  SandboxOptions options = options_;
  if (docker_.copy_workspace) {
    // A container on another machine cannot reach a socket or folder of this host.
    options.model_proxy = nullptr;
    for (const auto& mount : spec.mounts()) {
      DockerLog()->warn("sandbox {}: extra mount {} skipped: the docker daemon is remote",
                        spec.run_id(), mount.sandbox_path);
    }
  }
  auto steps = std::make_unique<StepRunner>("sandbox " + spec.run_id(), options.step_hook);
  if (auto status = RunCommonSteps(*steps, spec, options); !status.ok()) return status;
  auto state = std::make_shared<ContainerState>();
  DockerClient& client = client_;
  Json config = BuildContainerConfig(spec, options_, docker_);
  if (auto status = CreateContainer(*steps, client, spec, config, docker_, CopyOptions(), state);
      !status.ok()) {
    return status;
  }

  absl::Status status = steps->Run(
      "attach container",
      [&]() -> absl::Status {
        auto attach = client.Attach(state->id);
        if (!attach.ok()) return attach.status();
        state->attach = *std::move(attach);
        return absl::OkStatus();
      },
      [state] { state->attach.reset(); });
  if (!status.ok()) return status;
  if (status = ArmWait(*steps, client, spec, state); !status.ok()) return status;

  status = steps->Run(
      "start container",
      [&]() -> absl::Status {
        auto started =
            client.Call("POST", "/containers/" + state->id + "/start", "", kRequestTimeout);
        return started.ok() ? absl::OkStatus() : started.status();
      },
      docker_.copy_workspace ? CopyOutOnTeardown(client, spec, CopyOptions(), state) : nullptr);
  if (!status.ok()) return status;
  return std::make_unique<DockerSandbox>(client_, state, std::move(steps));
}

WorkspaceCopyOptions DockerBackend::CopyOptions() const {
  WorkspaceCopyOptions copy;
  copy.sandbox_uid = options_.sandbox_uid;
  copy.sandbox_gid = options_.sandbox_gid;
  copy.max_bytes = docker_.copy_limit_bytes;
  return copy;
}

absl::StatusOr<bool> ParseDockerRemote(const std::string& value, const DockerEndpoint& endpoint) {
  if (value.empty() || value == "auto") return endpoint.IsRemote();
  if (value == "yes") return true;
  if (value == "no") return false;
  return absl::InvalidArgumentError("config CLAWDIE_DOCKER_REMOTE: expected auto, yes or no, got " +
                                    value);
}

}  // namespace clawdie::broker
