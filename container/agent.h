// The agent loop (DESIGN.md §6 and §8): reads the start object, opens or continues the
// session, talks to the model, runs built-in tools here and turns clawdie tools into
// `tool_call` events, takes follow-up messages from stdin and the IPC directory between model
// calls, and ends with a `done` event.
//
// Thread-safety: Run is called once, from one thread. The agent starts a stdin reader thread
// and an IPC watcher thread and joins them before Run returns.
#ifndef CLAWDIE_CONTAINER_AGENT_H_
#define CLAWDIE_CONTAINER_AGENT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "container/agent_config.h"
#include "container/input_sources.h"
#include "container/model_client.h"
#include "container/output_chunker.h"
#include "container/protocol.h"
#include "container/session.h"
#include "container/start_request.h"
#include "container/tools.h"

namespace clawdie::agent {

class Agent {
 public:
  // Reads from `in_fd` and writes events to `out_fd`; neither is owned.
  Agent(AgentConfig config, int in_fd, int out_fd);

  // Runs to the end and writes the `done` event. Returns the process exit code: 0 when the run
  // ended with status success, 1 otherwise.
  int Run();

 private:
  absl::Status Start(const std::string& line);
  absl::Status CheckModelConfigured() const;
  absl::Status RunTurn(nlohmann::json user_content);
  absl::StatusOr<ModelTurn> CallModel();
  absl::Status MaybeCompact();
  std::string Summarize(const nlohmann::json& old_messages);
  nlohmann::json RunTools(const ModelTurn& turn);
  ToolOutcome CallClawdieTool(const std::string& id, const std::string& name,
                              const nlohmann::json& input);
  void TakeQueuedInput();
  void HandleInput(InputEvent event);
  std::optional<nlohmann::json> WaitForNextTurn();
  int Finish(const absl::Status& status);
  void EmitOutput(const std::string& text);
  void RestartOutput();

  AgentConfig config_;
  LineReader reader_;
  EventWriter writer_;
  InputQueue queue_;
  StartRequest start_;
  std::unique_ptr<ModelEngine> engine_;
  std::unique_ptr<ModelClient> client_;
  std::optional<Session> session_;
  std::unique_ptr<BuiltinTools> builtin_tools_;
  std::vector<ToolSpec> tools_;
  std::string system_prompt_;
  std::string model_;
  int max_tokens_ = 0;
  OutputChunker chunker_;
  std::vector<std::string> call_outputs_;  // output events of the current model call
  bool replaying_ = false;                 // a retried attempt may repeat call_outputs_
  size_t replayed_ = 0;                    // how many of them it repeated so far
  std::vector<std::string> followups_;     // messages waiting for the next model call
  bool closed_ = false;                    // {"type":"close"} seen
  bool input_ended_ = false;               // stdin reached its end
};

// The user-facing text for a run that cannot reach a model, naming the missing setting.
std::string MissingModelMessage(const std::string& provider);

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_AGENT_H_
