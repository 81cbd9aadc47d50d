#include "container/agent.h"

#include <chrono>

#include "common/logging.h"
#include "container/json_util.h"
#include "container/system_prompt.h"

namespace clawdie::agent {
namespace {

using Clock = std::chrono::steady_clock;

nlohmann::json TextBlock(const std::string& text) { return {{"type", "text"}, {"text", text}}; }

std::string Abbreviate(const std::string& text, size_t limit) {
  return text.size() <= limit ? text : text.substr(0, limit) + "…";
}

// A plain-text rendering of messages for the summarising model call.
std::string RenderTranscript(const nlohmann::json& messages) {
  std::string out;
  for (const nlohmann::json& message : messages) {
    std::string role = StringField(message, "role");
    const nlohmann::json& content = Field(message, "content");
    if (content.is_string()) out += role + ": " + content.get<std::string>() + "\n";
    if (!content.is_array()) continue;
    for (const nlohmann::json& block : content) {
      std::string type = StringField(block, "type");
      if (type == "text") {
        out += role + ": " + StringField(block, "text") + "\n";
      } else if (type == "tool_use") {
        out += "[tool " + StringField(block, "name") + " " +
               Abbreviate(DumpJson(Field(block, "input")), 400) + "]\n";
      } else if (type == "tool_result") {
        const nlohmann::json& result = Field(block, "content");
        out += "[result " +
               Abbreviate(result.is_string() ? result.get<std::string>() : DumpJson(result), 400) +
               "]\n";
      }
    }
  }
  return out;
}

}  // namespace

std::string MissingModelMessage(const std::string& provider) {
  if (provider == "openai") {
    return "CLAWDIE_MODEL_BASE_URL is not set, so the assistant has no model to talk to: the "
           "sandbox has neither CLAWDIE_MODEL_SOCKET nor CLAWDIE_MODEL_BASE_URL. The operator "
           "should set CLAWDIE_MODEL_BASE_URL to the OpenAI-compatible server.";
  }
  return "ANTHROPIC_API_KEY is not set on the broker, so the assistant has no model to talk to: "
         "the sandbox has neither CLAWDIE_MODEL_SOCKET nor CLAWDIE_MODEL_BASE_URL. The operator "
         "should set ANTHROPIC_API_KEY (or CLAWDIE_MODEL_BASE_URL for a local model server).";
}

Agent::Agent(AgentConfig config, int in_fd, int out_fd)
    : config_(std::move(config)),
      reader_(in_fd),
      writer_(out_fd),
      chunker_([this](const std::string& text) { EmitOutput(text); }) {}

void Agent::EmitOutput(const std::string& text) {
  // A retried model call usually streams the same text again: skip what was already sent.
  if (replaying_ && replayed_ < call_outputs_.size() && call_outputs_[replayed_] == text) {
    ++replayed_;
    GetLogger("agent")->debug("output of the retried call matches an earlier event; not resent");
    return;
  }
  replaying_ = false;
  call_outputs_.push_back(text);
  GetLogger("agent")->debug("output event, {} bytes", text.size());
  (void)writer_.Output(text);
}

void Agent::RestartOutput() {
  chunker_.Discard();
  replaying_ = true;
  replayed_ = 0;
}

int Agent::Run() {
  std::optional<std::string> line = reader_.ReadLine();
  if (!line)
    return Finish(absl::InvalidArgumentError("start object: stdin closed before the start object"));
  if (absl::Status status = Start(*line); !status.ok()) return Finish(status);

  absl::Status status;
  {
    StdinPump pump(&reader_, &queue_);
    IpcWatcher ipc(config_.ipc_dir, config_.ipc_poll_interval, &queue_);
    std::optional<nlohmann::json> content = nlohmann::json::array({TextBlock(start_.prompt)});
    while (content) {
      status = RunTurn(*std::move(content));
      if (!status.ok()) break;
      content = WaitForNextTurn();
    }
  }
  return Finish(status);
}

absl::Status Agent::Start(const std::string& line) {
  absl::StatusOr<StartRequest> start = ParseStartRequest(line);
  if (!start.ok()) return start.status();
  start_ = *std::move(start);

  std::string provider = start_.model.provider.empty() ? config_.provider : start_.model.provider;
  model_ = !start_.model.name.empty() ? start_.model.name
           : !config_.model.empty()   ? config_.model
                                      : DefaultModel(provider);
  max_tokens_ = start_.model.max_tokens > 0 ? start_.model.max_tokens : config_.max_tokens;
  if (config_.model_socket.empty() && config_.model_base_url.empty()) {
    return absl::FailedPreconditionError(MissingModelMessage(provider));
  }
  absl::StatusOr<std::unique_ptr<ModelEngine>> engine = MakeEngine(provider);
  if (!engine.ok()) return engine.status();
  engine_ = *std::move(engine);
  std::string key = provider == "openai" ? config_.openai_api_key : config_.anthropic_api_key;
  client_ = std::make_unique<ModelClient>(
      engine_.get(), HttpTarget{config_.model_socket, config_.model_base_url}, key, config_.retry);

  bool continued = false;
  session_ = Session::OpenOrCreate(config_.conversations_dir, start_.session_id, &continued);
  (void)writer_.Session(session_->id());

  builtin_tools_ = std::make_unique<BuiltinTools>(
      config_.workspace,
      BuiltinToolLimits{config_.bash_timeout, config_.bash_max_timeout, config_.tool_output_cap});
  tools_ = BuiltinToolSpecs();
  for (ToolSpec& spec : ClawdieToolSpecs(start_.is_main)) tools_.push_back(std::move(spec));
  system_prompt_ = BuildSystemPrompt(config_, start_, absl::Now());
  GetLogger("agent")->info("run started: group {} chat {}, session {} ({}), {} model {}{}",
                           start_.group_folder, start_.chat_jid, session_->id(),
                           continued ? "continued" : "new", provider, model_,
                           start_.is_scheduled_task ? ", scheduled task" : "");
  return absl::OkStatus();
}

absl::Status Agent::RunTurn(nlohmann::json user_content) {
  auto log = GetLogger("agent");
  if (absl::Status s = session_->Append({{"role", "user"}, {"content", std::move(user_content)}});
      !s.ok()) {
    log->error("{}", std::string(s.message()));
  }
  for (int round = 0; round < config_.max_tool_rounds; ++round) {
    if (absl::Status s = MaybeCompact(); !s.ok()) log->error("{}", std::string(s.message()));
    absl::StatusOr<ModelTurn> turn = CallModel();
    if (!turn.ok()) return turn.status();
    chunker_.Flush();
    if (!turn->content.empty()) {
      if (absl::Status s = session_->Append({{"role", "assistant"}, {"content", turn->content}});
          !s.ok()) {
        log->error("{}", std::string(s.message()));
      }
    }
    if (turn->stop_reason == "max_tokens")
      log->warn("model answer cut at max_tokens {}", max_tokens_);
    if (turn->stop_reason != "tool_use") return absl::OkStatus();

    nlohmann::json results = RunTools(*turn);
    if (results.empty()) return absl::OkStatus();
    TakeQueuedInput();
    for (const std::string& text : followups_) results.push_back(TextBlock(text));
    followups_.clear();
    if (absl::Status s = session_->Append({{"role", "user"}, {"content", std::move(results)}});
        !s.ok()) {
      log->error("{}", std::string(s.message()));
    }
  }
  return absl::ResourceExhaustedError("tool loop: stopped after " +
                                      std::to_string(config_.max_tool_rounds) +
                                      " model calls in one turn");
}

absl::StatusOr<ModelTurn> Agent::CallModel() {
  ModelRequest request{model_, max_tokens_, system_prompt_, session_->RequestMessages(), tools_};
  TextSink sink{[this](std::string_view delta) { chunker_.Append(delta); },
                [this] { chunker_.Flush(); }, [this] { RestartOutput(); }};
  call_outputs_.clear();
  replaying_ = false;
  auto started = Clock::now();
  absl::StatusOr<ModelTurn> turn = client_->Complete(request, sink);
  if (turn.ok()) {
    GetLogger("agent")->debug(
        "model answered in {} ms: stop {}, {} in / {} out tokens",
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count(),
        turn->stop_reason, turn->input_tokens, turn->output_tokens);
  }
  return turn;
}

absl::Status Agent::MaybeCompact() {
  size_t tokens = session_->estimated_tokens() + system_prompt_.size() / 4;
  if (tokens <= config_.context_token_budget) return absl::OkStatus();
  size_t cut = ChooseCompactionCut(session_->messages(), config_.context_token_budget / 2);
  auto log = GetLogger("agent");
  if (cut == 0) {
    log->warn("context ~{} tokens is over the budget of {}, but no older turn can be cut", tokens,
              config_.context_token_budget);
    return absl::OkStatus();
  }
  nlohmann::json old = nlohmann::json::array();
  for (size_t i = 0; i < cut; ++i) old.push_back(session_->messages()[i]);
  std::string summary = config_.summarize_old_turns ? Summarize(old) : "";
  if (summary.empty()) {
    summary = session_->summary();
    log->info("context ~{} tokens is over the budget of {}: dropped the {} oldest messages", tokens,
              config_.context_token_budget, cut);
  } else {
    log->info("context ~{} tokens is over the budget of {}: summarised the {} oldest messages",
              tokens, config_.context_token_budget, cut);
  }
  return session_->Compact(cut, summary);
}

std::string Agent::Summarize(const nlohmann::json& old_messages) {
  std::string text =
      "Summarise the conversation below for your own memory, in at most 300 words. Keep facts "
      "about the people, decisions, promises, open tasks, names, dates and file paths.\n\n";
  if (!session_->summary().empty())
    text += "Summary of what came before:\n" + session_->summary() + "\n\n";
  text += "Conversation:\n" + RenderTranscript(old_messages);
  ModelRequest request{model_,
                       2048,
                       "You write concise, factual conversation summaries.",
                       nlohmann::json::array({{{"role", "user"}, {"content", {TextBlock(text)}}}}),
                       {}};
  absl::StatusOr<ModelTurn> turn = client_->Complete(request, TextSink{});
  if (!turn.ok()) {
    GetLogger("agent")->warn("summarise older turns: {}; dropping them instead",
                             std::string(turn.status().message()));
    return "";
  }
  std::string summary;
  for (const nlohmann::json& block : turn->content) summary += StringField(block, "text");
  return summary;
}

nlohmann::json Agent::RunTools(const ModelTurn& turn) {
  auto log = GetLogger("agent");
  nlohmann::json results = nlohmann::json::array();
  for (const nlohmann::json& block : turn.content) {
    if (StringField(block, "type") != "tool_use") continue;
    std::string id = StringField(block, "id");
    std::string name = StringField(block, "name");
    const nlohmann::json& input = Field(block, "input");
    auto started = Clock::now();

    std::optional<ToolOutcome> outcome = builtin_tools_->Run(name, input);
    if (!outcome && name == "register_group" && !start_.is_main) {
      outcome = ToolOutcome{"register_group is only available in the main group", true};
    } else if (!outcome && IsClawdieTool(name)) {
      outcome = CallClawdieTool(id, name, input);
    } else if (!outcome) {
      outcome = ToolOutcome{"unknown tool \"" + name + "\"", true};
    }
    log->debug(
        "tool {} {} took {} ms{}", name, id,
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count(),
        outcome->is_error ? " (error)" : "");
    nlohmann::json result = {
        {"type", "tool_result"}, {"tool_use_id", id}, {"content", outcome->content}};
    if (outcome->is_error) result["is_error"] = true;
    results.push_back(std::move(result));
  }
  return results;
}

ToolOutcome Agent::CallClawdieTool(const std::string& id, const std::string& name,
                                   const nlohmann::json& input) {
  TakeQueuedInput();
  const ToolOutcome closed{name + ": unavailable because stdin is closed (one-shot run)", true};
  if (input_ended_) return closed;
  (void)writer_.ToolCall(id, name, input);
  auto deadline = Clock::now() + config_.tool_result_timeout;
  while (Clock::now() < deadline) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    std::optional<InputEvent> event =
        queue_.Pop(std::min(remaining, std::chrono::milliseconds(1000)));
    if (!event) continue;
    if (event->kind == InputEvent::Kind::kToolResult && event->id == id) {
      const nlohmann::json& content = event->content;
      return {content.is_string() ? content.get<std::string>() : DumpJson(content), !event->ok};
    }
    // Follow-up messages and close are kept for later while we wait.
    HandleInput(*std::move(event));
    if (input_ended_) return closed;
  }
  return {name + ": no tool_result within " + std::to_string(config_.tool_result_timeout.count()) +
              " s",
          true};
}

void Agent::TakeQueuedInput() {
  while (std::optional<InputEvent> event = queue_.TryPop()) HandleInput(*std::move(event));
}

void Agent::HandleInput(InputEvent event) {
  switch (event.kind) {
    case InputEvent::Kind::kMessage:
      followups_.push_back(std::move(event.text));
      break;
    case InputEvent::Kind::kClose:
      closed_ = true;
      break;
    case InputEvent::Kind::kEndOfInput:
      input_ended_ = true;
      break;
    case InputEvent::Kind::kToolResult:
      GetLogger("agent")->warn("tool_result {}: no tool call is waiting for it; ignored", event.id);
      break;
  }
}

std::optional<nlohmann::json> Agent::WaitForNextTurn() {
  while (true) {
    TakeQueuedInput();
    if (!followups_.empty()) {
      nlohmann::json content = nlohmann::json::array();
      for (const std::string& text : followups_) content.push_back(TextBlock(text));
      followups_.clear();
      return content;
    }
    if (closed_ || input_ended_) return std::nullopt;
    if (std::optional<InputEvent> event = queue_.Pop(std::chrono::milliseconds(1000))) {
      HandleInput(*std::move(event));
    }
  }
}

int Agent::Finish(const absl::Status& status) {
  auto log = GetLogger("agent");
  if (status.ok()) {
    (void)writer_.Done("success", "");
    log->info("run finished: {} model requests", client_ ? client_->requests_sent() : 0);
    return 0;
  }
  // Settings an operator must fix are told to the chat too; retrying would not help.
  if (status.code() == absl::StatusCode::kFailedPrecondition) {
    (void)writer_.Output(std::string(status.message()));
  } else if (status.code() == absl::StatusCode::kPermissionDenied) {
    (void)writer_.Output("The model provider refused the assistant's credentials (" +
                         std::string(status.message()) + ").");
  }
  (void)writer_.Done("error", std::string(status.message()));
  log->error("run failed: {}", std::string(status.message()));
  return 1;
}

}  // namespace clawdie::agent
