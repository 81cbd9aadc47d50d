// Benchmark of clawdie-agent's own overhead (issue #4): runs the real agent binary against the
// test model server on a Unix socket for a 20-turn conversation in which every turn is a
// clawdie tool call (tool_call -> tool_result) followed by a text answer, and prints
//   - time from the last SSE byte of an answer to the agent's `output` event on stdout,
//   - time from writing a `tool_result` line to the agent's next model request arriving,
//   - the agent's peak RSS.
// Targets: under 1 ms per turn of overhead, under 20 MiB RSS.
//
// Usage: clawdie_agent_bench [--agent PATH] [--fixtures DIR] [--turns N]
//   --agent     default: container/clawdie-agent in the build directory holding this binary
//   --fixtures  default: ../shared/fixtures beside the repository holding this binary
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/model_server/model_server.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

// The build directory is normally inside the repository (build-*/tests/bench/agent/...), so
// the repository root and the shared fixtures beside it are found by walking up.
fs::path FindUp(const fs::path& start, const fs::path& marker) {
  for (fs::path dir = start; !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
    if (fs::exists(dir / marker)) return dir;
  }
  return {};
}

struct Agent {
  pid_t pid = -1;
  int in = -1;
  int out = -1;
  std::string pending;
};

Agent Spawn(const std::string& binary, const fs::path& root, const std::string& socket) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) {
    perror("pipe");
    exit(1);
  }
  std::vector<std::string> env = {"CLAWDIE_MODEL_SOCKET=" + socket,
                                  "NANOCLAW_WORKSPACE=" + (root / "group").string(),
                                  "NANOCLAW_CONVERSATIONS_DIR=" + (root / "conversations").string(),
                                  "NANOCLAW_GLOBAL_MD=" + (root / "global/CLAUDE.md").string(),
                                  "NANOCLAW_IPC_DIR=" + (root / "ipc").string(),
                                  "LOG_LEVEL=warn"};
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    close(in[1]);
    close(out[0]);
    execle(binary.c_str(), binary.c_str(), static_cast<char*>(nullptr), envp.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  return {pid, in[1], out[0], ""};
}

void Send(Agent& agent, const json& line) {
  std::string text = line.dump() + "\n";
  if (write(agent.in, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    perror("write agent stdin");
    exit(1);
  }
}

// Reads the next event line and the time it was read.
std::pair<json, Clock::time_point> Next(Agent& agent) {
  while (true) {
    size_t newline = agent.pending.find('\n');
    if (newline != std::string::npos) {
      auto now = Clock::now();
      json event = json::parse(agent.pending.substr(0, newline));
      agent.pending.erase(0, newline + 1);
      return {event, now};
    }
    pollfd pfd{agent.out, POLLIN, 0};
    char buffer[65536];
    if (poll(&pfd, 1, 30000) <= 0) {
      fprintf(stderr, "agent stopped answering\n");
      exit(1);
    }
    ssize_t n = read(agent.out, buffer, sizeof(buffer));
    if (n <= 0) {
      fprintf(stderr, "agent closed stdout early\n");
      exit(1);
    }
    agent.pending.append(buffer, static_cast<size_t>(n));
  }
}

json Expect(Agent& agent, const std::string& type, Clock::time_point* when = nullptr) {
  while (true) {
    auto [event, at] = Next(agent);
    if (event["type"] == type) {
      if (when != nullptr) *when = at;
      return event;
    }
    if (event["type"] == "done") {
      fprintf(stderr, "agent finished early: %s\n", event.dump().c_str());
      exit(1);
    }
  }
}

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

void Report(const char* what, std::vector<double> values) {
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  printf("%-44s median %8.1f us  mean %8.1f us  p95 %8.1f us  max %8.1f us  (n=%zu)\n", what,
         values[values.size() / 2], sum / values.size(),
         values[std::min(values.size() - 1, values.size() * 95 / 100)], values.back(),
         values.size());
}

}  // namespace

int main(int argc, char** argv) {
  fs::path exe_dir = fs::read_symlink("/proc/self/exe").parent_path();
  fs::path build_dir = FindUp(exe_dir, "container/clawdie-agent");
  fs::path repo = FindUp(exe_dir, "container/agent.h");
  std::string binary = (build_dir / "container" / "clawdie-agent").string();
  fs::path fixtures = repo.empty() ? fs::path() : repo.parent_path() / "shared" / "fixtures";
  int turns = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--agent") binary = argv[i + 1];
    if (flag == "--fixtures") fixtures = argv[i + 1];
    if (flag == "--turns") turns = std::stoi(argv[i + 1]);
  }
  char pattern[] = "/tmp/cab-XXXXXX";
  fs::path root = mkdtemp(pattern);
  fs::create_directories(root / "group");

  clawdie::testing::ModelServerScript script;
  json entries = json::array();
  for (int i = 0; i < turns; ++i) {
    entries.push_back({{"file", "anthropic/schedule_task_tool.sse"}});
    entries.push_back({{"file", "anthropic/after_tool_result.sse"}});
  }
  auto parsed = clawdie::testing::ParseScript({{"responses", entries}}, fixtures);
  if (!parsed.ok()) {
    fprintf(stderr, "%s\n", std::string(parsed.status().message()).c_str());
    return 1;
  }
  std::string socket = (root / "m.sock").string();
  auto server = clawdie::testing::ModelServer::Start("unix:" + socket, *std::move(parsed));
  if (!server.ok()) {
    fprintf(stderr, "%s\n", std::string(server.status().message()).c_str());
    return 1;
  }

  Agent agent = Spawn(binary, root, socket);
  std::vector<double> sse_to_output, result_to_request;
  Send(agent, {{"prompt", "turn 0"},
               {"groupFolder", "bench"},
               {"chatJid", "local:bench"},
               {"assistantName", "Andy"},
               {"timezone", "UTC"}});
  for (int turn = 0; turn < turns; ++turn) {
    if (turn > 0) Send(agent, {{"type", "message"}, {"text", "turn " + std::to_string(turn)}});
    json call = Expect(agent, "tool_call");
    size_t before = (*server)->Requests().size();
    auto sent = Clock::now();
    Send(
        agent,
        {{"type", "tool_result"}, {"id", call["id"]}, {"ok", true}, {"content", "task scheduled"}});
    Clock::time_point output_at;
    Expect(agent, "output", &output_at);
    // The server marks a request answered once its last byte is written, which can be after
    // the output event.
    if (!(*server)->WaitForRequests(before + 1, std::chrono::seconds(10))) {
      fprintf(stderr, "model server saw no request for turn %d\n", turn);
      return 1;
    }
    std::vector<clawdie::testing::RecordedRequest> requests = (*server)->Requests();
    for (int i = 0; i < 1000 && requests[before].answered == Clock::time_point(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      requests = (*server)->Requests();
    }
    result_to_request.push_back(Micros(requests[before].first_byte - sent));
    sse_to_output.push_back(Micros(output_at - requests[before].answered));
  }
  Send(agent, {{"type", "close"}});
  json done = Expect(agent, "done");
  int status = 0;
  rusage usage{};
  wait4(agent.pid, &status, 0, &usage);
  (*server)->Stop();
  fs::remove_all(root);

  printf("clawdie-agent benchmark: %d turns, each a tool_call round trip and a text answer\n",
         turns);
  Report("last SSE byte -> output event", sse_to_output);
  Report("tool_result line -> next request first byte", result_to_request);
  // ru_maxrss is in KiB on Linux and FreeBSD.
  printf("%-44s %.1f MiB\n", "peak RSS", usage.ru_maxrss / 1024.0);
  printf("targets: overhead < 1000 us per turn, RSS < 20 MiB; run status %s\n",
         done["status"].get<std::string>().c_str());
  return done["status"] == "success" ? 0 : 1;
}
