// broker_spawn_bench: how much the broker adds to starting a sandbox. In one
// run it prints median and p95 wall time of
//   - a raw bwrap run of the agent stand-in (same command line the broker builds)
//   - the same through Broker.RunAgent over a Unix socket (bwrap backend)
//   - a raw Docker API create / start / wait / remove of the stand-in image
//   - the same through Broker.RunAgent (docker backend)
// Targets (issue #3): overhead <= 10 ms over raw bwrap, <= 1.15x raw Docker.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "common/grpc_server.h"
#include "common/logging.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "nlohmann/json.hpp"
#include "services/broker/broker_service.h"
#include "services/broker/bwrap_backend.h"
#include "services/broker/docker_backend.h"
#include "services/broker/process_launcher.h"

namespace {

using namespace clawdie::broker;
using Clock = std::chrono::steady_clock;

constexpr char kImage[] = "clawdie-standin:test";

struct Figures {
  double median_ms = 0;
  double p95_ms = 0;
};

Figures Measure(int runs, const std::function<bool()>& once) {
  once();  // warm-up
  std::vector<double> samples;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    if (!once()) {
      std::fprintf(stderr, "broker_spawn_bench: a run failed\n");
      std::exit(1);
    }
    samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(samples.begin(), samples.end());
  size_t p95 = std::min(samples.size() - 1, static_cast<size_t>(samples.size() * 0.95));
  return {samples[samples.size() / 2], samples[p95]};
}

std::string StartJson() { return nlohmann::json{{"prompt", "bench"}}.dump(); }

// Runs a prepared command line with the start line on stdin and waits.
bool RawRun(const LaunchOptions& launch) {
  auto process = DefaultProcessLauncher().Launch(launch);
  if (!process.ok()) return false;
  std::string line = StartJson() + "\n";
  if (::write(process->stdin_fd.get(), line.data(), line.size()) < 0) return false;
  process->stdin_fd.Reset();
  char buffer[4096];
  while (::read(process->stdout_fd.get(), buffer, sizeof(buffer)) > 0) {
  }
  int status = 0;
  ::waitpid(process->pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// One RunAgent call over the broker socket; true if it ended with exit code 0.
bool BrokerRun(clawdie::v1::Broker::Stub& stub, int n) {
  grpc::ClientContext context;
  auto stream = stub.RunAgent(&context);
  clawdie::v1::RunAgentRequest request;
  request.mutable_spec()->set_run_id("bench-" + std::to_string(n));
  request.mutable_spec()->set_group_folder("bench");
  request.mutable_spec()->set_start_json(StartJson());
  stream->Write(request);
  stream->WritesDone();
  clawdie::v1::RunAgentResponse response;
  bool ok = false;
  while (stream->Read(&response)) {
    if (response.has_exit()) ok = response.exit().code() == 0;
  }
  return stream->Finish().ok() && ok;
}

// A broker service on a Unix socket for `backend`.
struct BrokerUnderTest {
  BrokerUnderTest(SandboxBackend& backend, const HostLayout& layout, const std::string& socket)
      : service(backend, allowlist, Settings(layout)), server(Options(socket)) {
    server.AddService(&service, "clawdie.v1.Broker");
    if (!server.Start().ok()) std::exit(1);
    stub = clawdie::v1::Broker::NewStub(
        grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  }
  ~BrokerUnderTest() { server.Shutdown(); }
  static BrokerSettings Settings(const HostLayout& layout) {
    BrokerSettings settings;
    settings.layout = layout;
    settings.default_model = "bench";
    return settings;
  }
  static clawdie::ServerOptions Options(const std::string& socket) {
    clawdie::ServerOptions options;
    options.name = "broker-bench";
    options.listen = "unix:" + socket;
    return options;
  }
  MountAllowlist allowlist;
  BrokerService service;
  clawdie::GrpcServer server;
  std::unique_ptr<clawdie::v1::Broker::Stub> stub;
};

// The broker's own container body, without stdin: the stand-in reads EOF and exits.
bool RawDockerRun(DockerClient& client, nlohmann::json config) {
  config["OpenStdin"] = false;
  config["StdinOnce"] = false;
  config["AttachStdin"] = false;
  config["Labels"] = nlohmann::json::object();
  auto created = client.Call("POST", "/containers/create", config.dump());
  if (!created.ok()) return false;
  std::string id = nlohmann::json::parse(created->body)["Id"];
  bool ok = client.Call("POST", "/containers/" + id + "/start").ok() &&
            client.Call("POST", "/containers/" + id + "/wait").ok();
  return client.Call("DELETE", "/containers/" + id + "?force=1").ok() && ok;
}

void Print(const char* name, const Figures& figures) {
  std::printf("%-34s median %8.2f ms   p95 %8.2f ms\n", name, figures.median_ms, figures.p95_ms);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"broker_spawn_bench: sandbox start cost, raw vs through the broker"};
  int runs = 30;
  int docker_runs = 15;
  std::string standin =
      std::string(CLAWDIE_BINARY_DIR) + "/tests/agent_standin/clawdie-agent-standin";
  app.add_option("--runs", runs, "bwrap runs per variant");
  app.add_option("--docker-runs", docker_runs, "docker runs per variant (0 skips docker)");
  app.add_option("--standin", standin, "path of clawdie-agent-standin");
  CLI11_PARSE(app, argc, argv);
  clawdie::InitLogging({"warn"}).IgnoreError();
  IgnoreSigpipe();

  char pattern[] = "/tmp/clbench-XXXXXX";
  std::string root = ::mkdtemp(pattern);
  ::chmod(root.c_str(), 0755);             // the sandbox user reaches the group folders below it
  ::mkdir((root + "/run").c_str(), 0750);  // the broker's socket is for this process only
  HostLayout layout{root + "/groups", root + "/state"};
  std::filesystem::create_directories(layout.groups_dir);
  std::filesystem::create_directories(layout.state_dir);
  SandboxOptions options;
  options.agent_command = standin;

  // Raw bwrap: the broker's own command line, with the run folder made once.
  BwrapBackend bwrap(options, BwrapOptions());
  RunRequest request;
  request.run_id = "raw";
  request.group_folder = "bench";
  request.start_json = StartJson();
  auto spec = ValidateRunSpec(request, layout, MountAllowlist(), DefaultLimits(), "bench");
  StepRunner prepare("bench");
  if (!spec.ok() || !RunCommonSteps(prepare, *spec, options).ok()) return 1;
  LaunchOptions raw;
  raw.argv = BuildBwrapArgs(*spec, options, BwrapOptions());
  raw.env = AgentEnvironment(AgentPaths(), options);
  if (::geteuid() == 0) {
    raw.uid = options.sandbox_uid;
    raw.gid = options.sandbox_gid;
  }
  Figures raw_bwrap = Measure(runs, [&] { return RawRun(raw); });
  int n = 0;
  Figures broker_bwrap;
  {
    BrokerUnderTest broker(bwrap, layout, root + "/run/b.sock");
    broker_bwrap = Measure(runs, [&] { return BrokerRun(*broker.stub, n++); });
  }
  Print("raw bwrap", raw_bwrap);
  Print("Broker.RunAgent (bwrap)", broker_bwrap);
  std::printf("%-34s median %+8.2f ms (target <= 10 ms)\n", "broker overhead over bwrap",
              broker_bwrap.median_ms - raw_bwrap.median_ms);

  if (docker_runs > 0) {
    DockerOptions docker;
    docker.endpoint = *MakeDockerEndpoint("unix:///var/run/docker.sock", false, "");
    docker.image = kImage;
    docker.install_id = "bench" + std::to_string(::getpid());
    DockerBackend backend(SandboxOptions{.agent_command = "/usr/local/bin/clawdie-agent"}, docker);
    if (!backend.Init().ok()) {
      std::printf("docker: no daemon, skipped\n");
    } else {
      SandboxOptions in_image{.agent_command = "/usr/local/bin/clawdie-agent"};
      nlohmann::json config = BuildContainerConfig(*spec, in_image, docker);
      Figures raw_docker =
          Measure(docker_runs, [&] { return RawDockerRun(backend.client(), config); });
      BrokerUnderTest broker(backend, layout, root + "/run/d.sock");
      Figures broker_docker = Measure(docker_runs, [&] { return BrokerRun(*broker.stub, n++); });
      Print("raw Docker API create/start/wait/rm", raw_docker);
      Print("Broker.RunAgent (docker)", broker_docker);
      std::printf("%-34s median x%.3f (target <= 1.15)\n", "broker / raw docker",
                  broker_docker.median_ms / raw_docker.median_ms);
    }
  }
  prepare.UndoAll();
  std::filesystem::remove_all(root);
  return 0;
}
