// e2e_bench [messages] [sandbox]: the whole system (real store, broker, router and gateway,
// the test Telegram and model servers on loopback) measured from outside.
//
// Prints:
//   - idle memory of the four services, summed, after they settled and before any message:
//     RSS, PSS (shared library pages divided among the processes that map them) and anonymous;
//   - for `messages` Telegram updates (default 200, each to its own registered chat so every
//     message starts a new sandbox; the model answers instantly):
//       update → agent running: until the agent's first request reaches the model server, an
//         upper bound of "sandbox started" (it also holds the agent's start-up and request);
//       update → sendMessage: until the reply reaches the Bot API server.
// Targets (issue 7): idle RSS under 60 MiB together; update → sandbox start p50 under 50 ms
// with bwrap (the default sandbox here).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/e2e/e2e_system.h"

namespace clawdie::e2e {
namespace {

constexpr int64_t kFirstChat = 6200000001;

// One field ("Rss:", "Pss:", "Anonymous:") of /proc/<pid>/smaps_rollup in KiB (Linux).
long SmapsKib(pid_t pid, const std::string& field) {
  std::ifstream rollup("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string line;
  while (std::getline(rollup, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(field.size()));
  }
  return -1;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

nlohmann::json Update(int64_t update_id, int64_t chat) {
  return {{"update_id", update_id},
          {"message",
           {{"message_id", 10},
            {"from", {{"id", chat}, {"is_bot", false}, {"first_name", "Bench"}}},
            {"chat", {{"id", chat}, {"type", "private"}, {"first_name", "Bench"}}},
            {"date", absl::ToUnixSeconds(absl::Now())},
            {"text", "what time is it?"}}}};
}

int Main(int argc, char** argv) {
  int messages = argc > 1 ? std::atoi(argv[1]) : 200;
  SystemOptions options;
  options.sandbox = argc > 2 ? argv[2] : "bwrap";
  options.model_script.fixed_text = "It is time.";
  options.config["IDLE_TIMEOUT"] = "1s";
  options.config["LOG_LEVEL"] = "warn";
  System system(options);
  if (absl::Status started = system.Start(); !started.ok()) {
    std::fprintf(stderr, "e2e_bench: %s\n", std::string(started.message()).c_str());
    return 1;
  }
  absl::SleepFor(absl::Seconds(3));
  // RSS counts the shared libraries (gRPC, protobuf, Abseil, OpenSSL) once per process; PSS
  // shares each page among the processes mapping it, so the PSS sum is what the four occupy.
  long rss = 0, pss = 0, anon = 0;
  std::printf("idle memory (KiB, RSS/PSS/anonymous):");
  for (const std::string& service : System::ServiceNames()) {
    pid_t pid = system.Pid(service);
    long r = SmapsKib(pid, "Rss:"), p = SmapsKib(pid, "Pss:"), a = SmapsKib(pid, "Anonymous:");
    std::printf(" %s %ld/%ld/%ld", service.c_str(), r, p, a);
    rss += r;
    pss += p;
    anon += a;
  }
  std::printf(
      "\nidle memory of the four services: RSS %.1f MiB, PSS %.1f MiB, anonymous %.1f MiB "
      "(target < 60 MiB)\n",
      rss / 1024.0, pss / 1024.0, anon / 1024.0);

  for (int i = 0; i < messages; ++i) {
    if (!system
             .RegisterGroup(absl::StrCat("tg:", kFirstChat + i), absl::StrCat("bench", i), false,
                            false)
             .ok()) {
      std::fprintf(stderr, "e2e_bench: registering chat %d failed\n", i);
      return 1;
    }
  }

  std::vector<double> to_agent, to_reply;
  for (int i = 0; i < messages; ++i) {
    size_t model_before = system.model().Requests().size();
    size_t sent_before = system.SentMessages().size();
    auto steady_start = std::chrono::steady_clock::now();
    absl::Time start = absl::Now();
    system.DeliverUpdate(Update(500000 + i, kFirstChat + i));
    if (!system.WaitForSent(sent_before + 1, absl::Seconds(30))) {
      std::fprintf(stderr, "e2e_bench: no reply to message %d within 30 s\n", i);
      return 1;
    }
    auto requests = system.model().Requests();
    auto sent = system.telegram().Requests("sendMessage");
    if (requests.size() <= model_before || sent.size() <= sent_before) {
      std::fprintf(stderr, "e2e_bench: message %d: no model request recorded\n", i);
      return 1;
    }
    to_agent.push_back(
        std::chrono::duration<double, std::milli>(requests[model_before].first_byte - steady_start)
            .count());
    to_reply.push_back(absl::ToDoubleMilliseconds(sent[sent_before].time - start));
  }
  std::printf("%d messages, sandbox %s, each to its own chat (a new sandbox per message)\n",
              messages, options.sandbox.c_str());
  std::printf(
      "update -> agent running (first model request): p50 %.1f ms, p95 %.1f ms, "
      "p99 %.1f ms (target p50 < 50 ms)\n",
      Percentile(to_agent, 0.5), Percentile(to_agent, 0.95), Percentile(to_agent, 0.99));
  std::printf("update -> sendMessage: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms\n",
              Percentile(to_reply, 0.5), Percentile(to_reply, 0.95), Percentile(to_reply, 0.99));
  return 0;
}

}  // namespace
}  // namespace clawdie::e2e

int main(int argc, char** argv) { return clawdie::e2e::Main(argc, argv); }
