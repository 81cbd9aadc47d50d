// Helpers shared by the broker's tests: temporary folders, the stand-in
// agent's path, building specs and running a sandbox to its end.
//
// Thread-safety: test-only helpers, used from the test's thread.
#ifndef CLAWDIE_SERVICES_BROKER_BROKER_TEST_UTIL_H_
#define CLAWDIE_SERVICES_BROKER_BROKER_TEST_UTIL_H_

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/broker/agent_run.h"
#include "services/broker/run_spec.h"
#include "services/broker/sandbox.h"

// Fails (under CI) or skips the current test when `reason` is not empty.
#define CLAWDIE_REQUIRE_AVAILABLE(reason)                         \
  do {                                                            \
    std::string clawdie_reason = (reason);                        \
    if (!clawdie_reason.empty()) {                                \
      if (std::getenv("CI") != nullptr) FAIL() << clawdie_reason; \
      GTEST_SKIP() << clawdie_reason;                             \
    }                                                             \
  } while (false)

namespace clawdie::broker::testing {

// A folder under /tmp, world-searchable (the sandbox user must reach group
// folders inside it), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/clb-XXXXXX";
    char* made = ::mkdtemp(pattern);
    EXPECT_NE(made, nullptr);
    path_ = made != nullptr ? made : "/tmp";
    ::chmod(path_.c_str(), 0755);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes `text` to `path`, replacing what was there.
inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::trunc);
  file << text;
}

// The whole file at `path` ("" when it cannot be read).
inline std::string ReadText(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

inline std::string StandinPath() {
  return std::string(CLAWDIE_BINARY_DIR) + "/tests/agent_standin/clawdie-agent-standin";
}

inline std::string StartJson(const std::string& prompt) {
  return nlohmann::json{{"prompt", prompt},
                        {"chatJid", "local:test"},
                        {"isScheduledTask", false},
                        {"assistantName", "Andy"},
                        {"timezone", "UTC"}}
      .dump();
}

// Host layout inside `root`: groups/ and state/.
inline HostLayout MakeLayout(const std::string& root) {
  std::filesystem::create_directories(root + "/groups");
  std::filesystem::create_directories(root + "/state");
  ::chmod((root + "/groups").c_str(), 0755);
  ::chmod((root + "/state").c_str(), 0755);
  return HostLayout{root + "/groups", root + "/state"};
}

inline Limits TestLimits() {
  Limits limits = DefaultLimits();
  limits.timeout = absl::Seconds(20);
  limits.idle_timeout = absl::Seconds(20);
  limits.memory_bytes = 512 << 20;
  limits.pids = 64;
  return limits;
}

inline RunSpec MakeSpec(const HostLayout& layout, const std::string& run_id,
                        const std::string& prompt, const Limits& limits = TestLimits(),
                        bool is_main = false, std::vector<MountRequest> mounts = {},
                        const MountAllowlist& allowlist = MountAllowlist()) {
  RunRequest request;
  request.run_id = run_id;
  request.group_folder = "team";
  request.is_main = is_main;
  request.start_json = StartJson(prompt);
  request.limits = limits;
  request.extra_mounts = std::move(mounts);
  auto spec = ValidateRunSpec(request, layout, allowlist, DefaultLimits(), "test-model");
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *std::move(spec);
}

// What a finished run produced.
struct RunOutcome {
  std::vector<AgentEvent> events;
  RunExit exit;
  std::string sandbox_id;

  // The texts of the output events, in order.
  std::vector<std::string> Outputs() const {
    std::vector<std::string> texts;
    for (const auto& event : events) {
      if (event.kind == AgentEvent::Kind::kOutput) texts.push_back(event.text);
    }
    return texts;
  }
  bool HasDone(const std::string& status) const {
    for (const auto& event : events) {
      if (event.kind == AgentEvent::Kind::kDone && event.status == status) return true;
    }
    return false;
  }
};

// Starts `spec` on `backend`, sends `inputs` (raw lines) and closes stdin
// when `close_input`, then supervises to the end.
inline absl::StatusOr<RunOutcome> RunToEnd(SandboxBackend& backend, const RunSpec& spec,
                                           const std::vector<std::string>& inputs = {},
                                           bool close_input = true) {
  AgentRun run(spec, backend);
  if (auto status = run.Start(); !status.ok()) return status;
  for (const auto& line : inputs) {
    if (auto status = run.SendFollowUp(line); !status.ok()) return status;
  }
  if (close_input) run.CloseInput().IgnoreError();
  RunOutcome outcome;
  outcome.sandbox_id = run.sandbox_id();
  outcome.exit = run.Supervise([&](const AgentEvent& event) { outcome.events.push_back(event); });
  return outcome;
}

}  // namespace clawdie::broker::testing

#endif  // CLAWDIE_SERVICES_BROKER_BROKER_TEST_UTIL_H_
