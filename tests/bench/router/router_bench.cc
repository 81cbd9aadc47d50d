// router_bench: 100 registered groups and a burst of 1,000 messages through the real
// clawdie-router and clawdie-store over Unix sockets. Prints ingest calls per second and the
// time from Ingest returning to (a) RunAgent being opened for a group's first messages and
// (b) later messages reaching the live run as follow-ups. The broker is a gRPC server in
// this process that only records when streams and inputs arrive (no sandbox is started), so
// the figures are the router's own latency.
//
// Usage: router_bench [groups] [messages] [client threads] [store data dir]
// Defaults: 100 groups, 1,000 messages, 16 client threads. The store's data directory
// defaults to the temporary directory; pointing it at a tmpfs (/dev/shm/...) takes the disk's
// fsync out of the figures to show the router's own cost.
//
// Besides the latencies it prints the load average before the burst and the CPU time the
// store, the router and this process (clients, broker and gateway) used from the start of the
// burst until every message reached the broker, so a figure taken while other work shares the
// machine can be read for what it is.
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <regex>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "clawdie/v1/broker.grpc.pb.h"
#include "clawdie/v1/gateway.grpc.pb.h"
#include "clawdie/v1/router.grpc.pb.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "tests/testing/testing.h"

namespace clawdie {
namespace {

using Clock = std::chrono::steady_clock;

// Finds every "tok-<n>-" marker in a prompt or follow-up.
std::vector<int> Tokens(const std::string& text) {
  static const std::regex kToken("tok-([0-9]+)-");
  std::vector<int> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kToken);
       it != std::sregex_iterator(); ++it) {
    out.push_back(std::stoi((*it)[1]));
  }
  return out;
}

// Records when each message token first reached the broker, and over which path.
class RecordingBroker final : public v1::Broker::Service {
 public:
  grpc::Status RunAgent(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::RunAgentResponse, v1::RunAgentRequest>* stream) override {
    v1::RunAgentRequest request;
    if (!stream->Read(&request)) return grpc::Status::OK;
    Record(request.spec().start_json(), /*opened=*/true);
    v1::RunAgentResponse started;
    started.mutable_started()->set_backend("bench");
    stream->Write(started);
    while (stream->Read(&request)) {
      if (request.input().kind_case() == v1::AgentInput::kMessage) {
        Record(request.input().message(), /*opened=*/false);
      }
      if (request.input().close()) break;
    }
    return grpc::Status::OK;
  }

  struct Arrival {
    Clock::time_point at;
    bool opened;  // in the prompt of a new RunAgent (else a follow-up)
  };

  std::map<int, Arrival> arrivals() {
    std::lock_guard<std::mutex> lock(mu_);
    return arrivals_;
  }

  size_t opened_runs() {
    std::lock_guard<std::mutex> lock(mu_);
    return opened_runs_;
  }

 private:
  void Record(const std::string& text, bool opened) {
    Clock::time_point now = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    if (opened) ++opened_runs_;
    for (int token : Tokens(text)) arrivals_.emplace(token, Arrival{now, opened});
  }

  std::mutex mu_;
  std::map<int, Arrival> arrivals_;
  size_t opened_runs_ = 0;
};

class QuietGateway final : public v1::Gateway::Service {
  grpc::Status Send(grpc::ServerContext*, const v1::SendRequest*,
                    v1::SendResponse* response) override {
    response->add_platform_message_ids("x");
    return grpc::Status::OK;
  }
  grpc::Status SetTyping(grpc::ServerContext*, const v1::SetTypingRequest*,
                         v1::SetTypingResponse*) override {
    return grpc::Status::OK;
  }
};

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * (values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

// User plus system CPU time of a live child process, in milliseconds; -1 if unreadable.
double ChildCpuMs(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  // After "pid (comm)" come state, ppid, ...; utime and stime are fields 14 and 15.
  std::vector<std::string> fields = absl::StrSplit(stat.substr(paren + 2), ' ');
  if (fields.size() < 13) return -1;
  double ticks = std::stod(fields[11]) + std::stod(fields[12]);
  return ticks * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double OwnCpuMs() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

bool Register(v1::Router::Stub* router, int group) {
  v1::RegisterGroupRequest request;
  request.mutable_group()->set_chat_jid("local:g" + std::to_string(group));
  request.mutable_group()->set_name("group " + std::to_string(group));
  request.mutable_group()->set_folder("g" + std::to_string(group));
  request.set_requires_trigger(false);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::Group response;
  grpc::Status status = router->RegisterGroup(&context, request, &response);
  if (!status.ok())
    std::fprintf(stderr, "register g%d: %s\n", group, status.error_message().c_str());
  return status.ok();
}

int Run(int groups, int messages, int threads, std::string data_dir) {
  std::string dir = testing::MakeTempDir("cwb");
  if (data_dir.empty()) data_dir = dir + "/data";
  auto target = [&](const std::string& name) { return "unix:" + dir + "/" + name + ".sock"; };

  RecordingBroker broker;
  QuietGateway gateway;
  grpc::ServerBuilder builder;
  // One thread per open RunAgent stream plus the gateway's calls: keep them instead of letting
  // the sync server end and start threads as calls come and go.
  builder.SetSyncServerOption(grpc::ServerBuilder::MAX_POLLERS, groups + 16);
  builder.AddListeningPort(target("broker"), grpc::InsecureServerCredentials());
  builder.AddListeningPort(target("gateway"), grpc::InsecureServerCredentials());
  builder.RegisterService(&broker);
  builder.RegisterService(&gateway);
  std::unique_ptr<grpc::Server> servers = builder.BuildAndStart();

  auto store = testing::ChildProcess::Start({testing::BinaryPath("services/store/clawdie-store"),
                                             "--listen", target("store"), "--data-dir", data_dir},
                                            dir + "/store.log");
  if (!store.ok() || !testing::WaitServing(target("store"), "", absl::Seconds(20))) {
    std::fprintf(stderr, "router_bench: clawdie-store did not start\n");
    return 1;
  }
  std::map<std::string, std::string> env = {{"CLAWDIE_STORE_ADDR", target("store")},
                                            {"CLAWDIE_BROKER_ADDR", target("broker")},
                                            {"CLAWDIE_GATEWAY_ADDR", target("gateway")},
                                            {"CLAWDIE_RUN_DIR", dir},
                                            {"MAX_CONCURRENT_AGENTS", std::to_string(groups)},
                                            {"LOG_LEVEL", "warn"},
                                            {"TZ", "UTC"}};
  auto router_process = testing::ChildProcess::Start(
      {testing::BinaryPath("services/router/clawdie-router"), "--listen", target("router")},
      dir + "/router.log", env);
  if (!router_process.ok() || !testing::WaitServing(target("router"), "", absl::Seconds(20))) {
    std::fprintf(stderr, "router_bench: clawdie-router did not start\n");
    return 1;
  }
  auto router = v1::Router::NewStub(testing::Connect(target("router")));
  for (int g = 0; g < groups; ++g) {
    if (!Register(router.get(), g)) return 1;
  }

  // The burst: messages round-robin over the groups from several client threads.
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  double store_cpu_before = ChildCpuMs(store->pid());
  double router_cpu_before = ChildCpuMs(router_process->pid());
  double own_cpu_before = OwnCpuMs();
  std::vector<Clock::time_point> returned(messages);
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  Clock::time_point start = Clock::now();
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&] {
      auto stub = v1::Router::NewStub(testing::Connect(target("router")));
      for (int i = next++; i < messages; i = next++) {
        v1::IngestRequest request;
        std::string chat = "local:g" + std::to_string(i % groups);
        request.mutable_message()->set_chat_jid(chat);
        request.mutable_message()->set_platform_message_id(std::to_string(i));
        request.mutable_message()->set_sender_name("bench");
        request.mutable_message()->set_text("tok-" + std::to_string(i) + "- hello");
        request.mutable_message()->mutable_time()->set_seconds(1767949200);
        request.mutable_chat()->set_jid(chat);
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
        v1::IngestResponse response;
        if (!stub->Ingest(&context, request, &response).ok()) ++failures;
        returned[i] = Clock::now();
      }
    });
  }
  for (std::thread& client : clients) client.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  // Wait until every message reached the broker (or 20 s passed).
  Clock::time_point wait_until = Clock::now() + std::chrono::seconds(20);
  while (broker.arrivals().size() < static_cast<size_t>(messages) && Clock::now() < wait_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  double store_cpu = ChildCpuMs(store->pid()) - store_cpu_before;
  double router_cpu = ChildCpuMs(router_process->pid()) - router_cpu_before;
  double own_cpu = OwnCpuMs() - own_cpu_before;

  std::vector<double> open_ms;
  std::vector<double> follow_up_ms;
  std::map<int, RecordingBroker::Arrival> arrivals = broker.arrivals();
  for (const auto& [token, arrival] : arrivals) {
    double ms = std::chrono::duration<double, std::milli>(arrival.at - returned[token]).count();
    (arrival.opened ? open_ms : follow_up_ms).push_back(std::max(0.0, ms));
  }

  std::printf(
      "router_bench: %d groups, %d messages, %d client threads, MAX_CONCURRENT_AGENTS=%d, "
      "store data %s\n",
      groups, messages, threads, groups, data_dir.c_str());
  std::printf("  ingest: %.0f calls/s (%.3f s for the burst, %d failed)\n", messages / seconds,
              seconds, failures.load());
  std::printf(
      "  RunAgent opened: %zu runs; Ingest return -> RunAgent open over %zu messages: "
      "p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      broker.opened_runs(), open_ms.size(), Percentile(open_ms, 0.5), Percentile(open_ms, 0.99),
      Percentile(open_ms, 1.0));
  std::printf(
      "  follow-ups piped into live runs: %zu messages: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      follow_up_ms.size(), Percentile(follow_up_ms, 0.5), Percentile(follow_up_ms, 0.99),
      Percentile(follow_up_ms, 1.0));
  std::printf("  messages that never reached the broker: %zu\n", messages - arrivals.size());
  std::printf(
      "  CPU from the burst until every message arrived: store %.0f ms, router %.0f ms, "
      "bench clients+broker+gateway %.0f ms (%.0f us per message in all); "
      "load average before %.2f %.2f %.2f\n",
      store_cpu, router_cpu, own_cpu, (store_cpu + router_cpu + own_cpu) * 1000.0 / messages,
      load[0], load[1], load[2]);

  router_process->Signal(SIGTERM);
  router_process->Wait(absl::Seconds(10)).IgnoreError();
  store->Signal(SIGTERM);
  store->Wait(absl::Seconds(10)).IgnoreError();
  servers->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return arrivals.size() == static_cast<size_t>(messages) && failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace clawdie

int main(int argc, char** argv) {
  int groups = argc > 1 ? std::atoi(argv[1]) : 100;
  int messages = argc > 2 ? std::atoi(argv[2]) : 1000;
  int threads = argc > 3 ? std::atoi(argv[3]) : 16;
  std::string data_dir = argc > 4 ? argv[4] : "";
  return clawdie::Run(groups, messages, threads, data_dir);
}
