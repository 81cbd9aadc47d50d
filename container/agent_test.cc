// End-to-end tests of the agent loop: the real Agent on pipes, talking HTTP over a Unix socket
// to the test model server that replays the Messages API fixtures.
#include "container/agent.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "container/http_stream.h"
#include "gtest/gtest.h"
#include "tests/model_server/model_server.h"

namespace clawdie::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::ModelServer;
using testing::ModelServerScript;

const fs::path kShared = CLAWDIE_SHARED_FIXTURES;
const fs::path kOwn = CLAWDIE_TEST_FIXTURES;

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A temporary sandbox layout, a model server on a Unix socket in it, and an agent on pipes.
class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CurlGlobalInit();
    char pattern[] = "/tmp/cat-XXXXXX";
    root_ = mkdtemp(pattern);
    config_.workspace = root_ / "group";
    config_.conversations_dir = root_ / "conversations";
    config_.global_md = root_ / "global" / "CLAUDE.md";
    config_.extra_dir = root_ / "extra";
    config_.ipc_dir = root_ / "ipc";
    config_.model_socket = (root_ / "m.sock").string();
    config_.retry.base_backoff = std::chrono::milliseconds(10);
    config_.ipc_poll_interval = std::chrono::milliseconds(20);
    fs::create_directories(config_.workspace);
  }

  void TearDown() override {
    if (in_fd_ >= 0) close(in_fd_);
    if (agent_thread_.joinable()) agent_thread_.join();
    if (out_fd_ >= 0) close(out_fd_);
    if (server_) server_->Stop();
    fs::remove_all(root_);
  }

  void StartServer(const json& script, const fs::path& fixtures = kShared) {
    absl::StatusOr<ModelServerScript> parsed = testing::ParseScript(script, fixtures);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    auto server = ModelServer::Start("unix:" + config_.model_socket, *std::move(parsed));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void StartAgent(const json& start) {
    int in[2], out[2];
    ASSERT_EQ(pipe(in), 0);
    ASSERT_EQ(pipe(out), 0);
    in_fd_ = in[1];
    out_fd_ = out[0];
    agent_thread_ = std::thread([this, config = config_, in_read = in[0], out_write = out[1]] {
      Agent agent(config, in_read, out_write);
      exit_code_ = agent.Run();
      close(in_read);
      close(out_write);
    });
    Send(start);
  }

  void Send(const json& line) { SendRaw(line.dump() + "\n"); }
  void SendRaw(const std::string& text) {
    ASSERT_EQ(write(in_fd_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void CloseInput() {
    close(in_fd_);
    in_fd_ = -1;
  }

  // The next event line, or a null json after 20 s.
  json NextEvent() {
    while (true) {
      size_t newline = pending_.find('\n');
      if (newline != std::string::npos) {
        std::string line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        return json::parse(line);
      }
      pollfd pfd{out_fd_, POLLIN, 0};
      if (poll(&pfd, 1, 20000) <= 0) return json();
      char buffer[4096];
      ssize_t n = read(out_fd_, buffer, sizeof(buffer));
      if (n <= 0) return json();
      pending_.append(buffer, static_cast<size_t>(n));
    }
  }

  // Events up to and including `done`.
  std::vector<json> EventsUntilDone() {
    std::vector<json> events;
    for (json event = NextEvent(); !event.is_null(); event = NextEvent()) {
      events.push_back(event);
      if (event["type"] == "done") break;
    }
    return events;
  }

  static json Start(const std::string& prompt, const std::string& session_id = "") {
    json start = {{"prompt", prompt},           {"groupFolder", "family"},
                  {"chatJid", "tg:-100123"},    {"isMain", false},
                  {"isScheduledTask", false},   {"assistantName", "Andy"},
                  {"timezone", "Europe/Berlin"}};
    if (!session_id.empty()) start["sessionId"] = session_id;
    return start;
  }

  json RequestBody(size_t index) {
    std::vector<testing::RecordedRequest> requests = server_->Requests();
    if (index >= requests.size()) return json();
    return json::parse(requests[index].body);
  }

  static std::vector<std::string> Types(const std::vector<json>& events) {
    std::vector<std::string> types;
    for (const json& event : events) types.push_back(event["type"]);
    return types;
  }

  fs::path root_;
  AgentConfig config_;
  std::unique_ptr<ModelServer> server_;
  std::thread agent_thread_;
  int in_fd_ = -1;
  int out_fd_ = -1;
  int exit_code_ = -1;
  std::string pending_;
};

TEST_F(AgentTest, TextReplyIsOneOutputEventBetweenSessionAndDone) {
  WriteFile(config_.workspace / "CLAUDE.md", "Mara prefers short answers.");
  StartServer({{"responses", {{{"file", "anthropic/text_reply.sse"}}}}});
  StartAgent(Start("When is my dentist appointment?"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  ASSERT_EQ(Types(events), (std::vector<std::string>{"session", "output", "done"}));
  EXPECT_EQ(events[1]["text"],
            "Your dentist appointment is tomorrow at 14:30. Jonas is driving 🚗.");
  EXPECT_EQ(events[2]["status"], "success");
  json body = RequestBody(0);
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["model"], "claude-sonnet-4-5");
  EXPECT_EQ(
      body["messages"],
      json::parse(
          R"([{"role":"user","content":[{"type":"text","text":"When is my dentist appointment?"}]}])"));
  EXPECT_NE(body["system"].get<std::string>().find("Mara prefers short answers."),
            std::string::npos);
  EXPECT_NE(body["system"].get<std::string>().find("You are Andy"), std::string::npos);
  std::vector<std::string> tools;
  for (const json& tool : body["tools"]) tools.push_back(tool["name"]);
  EXPECT_EQ(tools,
            (std::vector<std::string>{"bash", "read_file", "write_file", "edit_file", "list_files",
                                      "grep", "send_message", "schedule_task", "list_tasks",
                                      "pause_task", "resume_task", "cancel_task"}));
  std::vector<testing::RecordedRequest> requests = server_->Requests();
  EXPECT_EQ(requests[0].headers["anthropic-version"], "2023-06-01");
  EXPECT_EQ(requests[0].headers.count("x-api-key"), 0u);
}

TEST_F(AgentTest, BashToolRunsLsInWorkspaceAndSendsRealOutputBack) {
  WriteFile(config_.workspace / "CLAUDE.md", "memory");
  WriteFile(config_.workspace / "notes.txt", "buy milk");
  json replace = {{"/workspace/group", config_.workspace.string()}};
  StartServer({{"responses",
                {{{"file", "anthropic/tool_use_bash.sse"}, {"replace", replace}},
                 {{"file", "anthropic/after_tool_result.sse"}}}}});
  StartAgent(Start("What files do I have?"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  ASSERT_EQ(Types(events), (std::vector<std::string>{"session", "output", "output", "done"}));
  EXPECT_EQ(events[1]["text"], "Let me look at the files.");
  EXPECT_EQ(events[2]["text"], "There are two files: CLAUDE.md and notes.txt.");
  json messages = RequestBody(1)["messages"];
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[1]["content"][1]["input"],
            json({{"command", "ls -1 " + config_.workspace.string()}}));
  EXPECT_EQ(messages[2], json({{"role", "user"},
                               {"content",
                                {{{"type", "tool_result"},
                                  {"tool_use_id", "toolu_01BashLs9x"},
                                  {"content", "CLAUDE.md\nnotes.txt\n[exit code 0]\n"}}}}}));
}

TEST_F(AgentTest, ScheduleTaskBecomesToolCallAndFollowUpWaitsForNextRequest) {
  StartServer({{"responses",
                {{{"file", "anthropic/schedule_task_tool.sse"}},
                 {{"file", "anthropic/internal_and_text.sse"}}}}});
  StartAgent(Start("Remind Mara about the car insurance on 11 December"));

  json session = NextEvent();
  json call = NextEvent();
  ASSERT_EQ(call["type"], "tool_call");
  EXPECT_EQ(call["id"], "toolu_01SchedA1");
  EXPECT_EQ(call["name"], "schedule_task");
  EXPECT_EQ(call["input"], json::parse(R"({"prompt": "Remind Mara to renew the car insurance",
      "schedule_type": "once", "schedule_value": "2026-12-11T09:00:00", "context_mode": "isolated"})"));
  // A follow-up that arrives while the tool call is open is kept for the next model call.
  Send({{"type", "message"}, {"text", "and water the plants"}});
  Send({{"type", "tool_result"},
        {"id", "toolu_01SchedA1"},
        {"ok", true},
        {"content", "task 7 scheduled"}});
  json output = NextEvent();
  Send({{"type", "close"}});
  std::vector<json> rest = EventsUntilDone();

  EXPECT_EQ(session["type"], "session");
  EXPECT_EQ(output["text"],
            "<internal>checked the calendar file first</internal>Nothing is planned for Sunday.");
  ASSERT_EQ(Types(rest), (std::vector<std::string>{"done"}));
  EXPECT_EQ(rest[0]["status"], "success");
  json messages = RequestBody(1)["messages"];
  EXPECT_EQ(messages.back(), json({{"role", "user"},
                                   {"content",
                                    {{{"type", "tool_result"},
                                      {"tool_use_id", "toolu_01SchedA1"},
                                      {"content", "task 7 scheduled"}},
                                     {{"type", "text"}, {"text", "and water the plants"}}}}}));
  EXPECT_EQ(server_->Requests().size(), 2u);
}

TEST_F(AgentTest, FailedToolResultIsMarkedAsErrorForTheModel) {
  StartServer(
      {{"responses",
        {{{"file", "anthropic/schedule_task_tool.sse"}}, {{"file", "anthropic/text_reply.sse"}}}}});
  StartAgent(Start("remind me"));
  NextEvent();
  NextEvent();
  Send({{"type", "tool_result"},
        {"id", "toolu_01SchedA1"},
        {"ok", false},
        {"content", {{"error", "bad time"}}}});
  NextEvent();
  CloseInput();
  EventsUntilDone();

  json result = RequestBody(1)["messages"][2]["content"][0];
  EXPECT_EQ(result, json({{"type", "tool_result"},
                          {"tool_use_id", "toolu_01SchedA1"},
                          {"content", R"({"error":"bad time"})"},
                          {"is_error", true}}));
}

TEST_F(AgentTest, OverloadedStreamIsRetriedThenSucceeds) {
  StartServer(
      {{"responses",
        {{{"file", "anthropic/error_overloaded.sse"}}, {{"file", "anthropic/text_reply.sse"}}}}});
  StartAgent(Start("hello"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  ASSERT_EQ(Types(events), (std::vector<std::string>{"session", "output", "done"}));
  EXPECT_EQ(events[2]["status"], "success");
  EXPECT_EQ(server_->Requests().size(), 2u);
  EXPECT_EQ(RequestBody(0), RequestBody(1));
}

TEST_F(AgentTest, RateLimitIsRetriedAfterRetryAfterSeconds) {
  StartServer({{"responses",
                {{{"file", "anthropic/http_errors.json#rate_limited"}},
                 {{"file", "anthropic/text_reply.sse"}}}}});
  StartAgent(Start("hello"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  ASSERT_EQ(events.back()["status"], "success");
  std::vector<testing::RecordedRequest> requests = server_->Requests();
  ASSERT_EQ(requests.size(), 2u);
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(requests[1].received -
                                                                      requests[0].answered);
  EXPECT_GE(waited.count(), 1950);  // retry-after: 2
  EXPECT_LT(waited.count(), 4000);
}

TEST_F(AgentTest, UnauthorizedEndsRunTellingWhichKeyToCheck) {
  StartServer({{"responses", {{{"file", "anthropic/http_errors.json#unauthorized"}}}}});
  StartAgent(Start("hello"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  ASSERT_EQ(Types(events), (std::vector<std::string>{"session", "output", "done"}));
  EXPECT_EQ(events[1]["text"],
            "The model provider refused the assistant's credentials (model request anthropic: HTTP "
            "401 authentication_error: invalid x-api-key; check ANTHROPIC_API_KEY).");
  EXPECT_EQ(events[2]["status"], "error");
  EXPECT_EQ(server_->Requests().size(), 1u);
}

TEST_F(AgentTest, Http529IsRetriedWithBackoff) {
  StartServer({{"responses",
                {{{"file", "anthropic/http_errors.json#overloaded"}},
                 {{"file", "anthropic/http_errors.json#overloaded"}},
                 {{"file", "anthropic/text_reply.sse"}}}}});
  StartAgent(Start("hello"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  EXPECT_EQ(events.back()["status"], "success");
  EXPECT_EQ(server_->Requests().size(), 3u);
}

TEST_F(AgentTest, BadRequestEndsRunWithoutRetryOrOutput) {
  StartServer({{"responses", {{{"file", "anthropic/http_errors.json#bad_request"}}}}});
  StartAgent(Start("hello"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  ASSERT_EQ(Types(events), (std::vector<std::string>{"session", "done"}));
  EXPECT_EQ(events[1]["error"],
            "model request anthropic: HTTP 400 invalid_request_error: messages: roles must "
            "alternate between \"user\" and \"assistant\"");
}

TEST_F(AgentTest, StreamCutMidAnswerIsRetriedOnceWithoutDuplicateText) {
  StartServer({{"responses",
                {{{"file", "anthropic/text_reply.sse"}, {"cut_after", 700}},
                 {{"file", "anthropic/text_reply.sse"}}}}});
  StartAgent(Start("hello"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  ASSERT_EQ(Types(events), (std::vector<std::string>{"session", "output", "done"}));
  EXPECT_EQ(events[1]["text"],
            "Your dentist appointment is tomorrow at 14:30. Jonas is driving 🚗.");
}

TEST_F(AgentTest, TextSentBeforeACutIsNotSentAgainByTheRetry) {
  // Cut right after the first (text) block, before the tool_use block starts.
  std::ifstream in(kShared / "anthropic/tool_use_bash.sse", std::ios::binary);
  std::string fixture(std::istreambuf_iterator<char>(in), {});
  size_t cut = fixture.find("event: content_block_start", fixture.find("\"index\":0}"));
  ASSERT_NE(cut, std::string::npos);
  json replace = {{"/workspace/group", config_.workspace.string()}};
  StartServer({{"responses",
                {{{"file", "anthropic/tool_use_bash.sse"}, {"cut_after", cut}},
                 {{"file", "anthropic/tool_use_bash.sse"}, {"replace", replace}},
                 {{"file", "anthropic/after_tool_result.sse"}}}}});
  StartAgent(Start("What files do I have?"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  ASSERT_EQ(Types(events), (std::vector<std::string>{"session", "output", "output", "done"}));
  EXPECT_EQ(events[1]["text"], "Let me look at the files.");
  EXPECT_EQ(events[2]["text"], "There are two files: CLAUDE.md and notes.txt.");
  EXPECT_EQ(server_->Requests().size(), 3u);
}

TEST_F(AgentTest, StreamCutTwiceEndsRunWithError) {
  StartServer({{"responses",
                {{{"file", "anthropic/text_reply.sse"}, {"cut_after", 700}},
                 {{"file", "anthropic/text_reply.sse"}, {"cut_after", 700}}}}});
  StartAgent(Start("hello"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  EXPECT_EQ(events.back()["status"], "error");
  EXPECT_EQ(server_->Requests().size(), 2u);
}

TEST_F(AgentTest, ResumedSessionSendsEarlierTurns) {
  StartServer(
      {{"responses",
        {{{"file", "anthropic/text_reply.sse"}}, {{"file", "anthropic/internal_and_text.sse"}}}}});
  StartAgent(Start("When is my dentist appointment?"));
  CloseInput();
  std::string session_id = EventsUntilDone()[0]["sessionId"];
  agent_thread_.join();
  close(out_fd_);
  pending_.clear();

  StartAgent(Start("And on Sunday?", session_id));
  CloseInput();
  std::vector<json> events = EventsUntilDone();

  EXPECT_EQ(events[0]["sessionId"], session_id);
  EXPECT_EQ(events.back()["status"], "success");
  EXPECT_EQ(RequestBody(1)["messages"], json::parse(R"([
    {"role":"user","content":[{"type":"text","text":"When is my dentist appointment?"}]},
    {"role":"assistant","content":[{"type":"text","text":"Your dentist appointment is tomorrow at 14:30. Jonas is driving 🚗."}]},
    {"role":"user","content":[{"type":"text","text":"And on Sunday?"}]}])"));
}

TEST_F(AgentTest, UnknownSessionIdStartsAFreshSession) {
  StartServer({{"responses", {{{"file", "anthropic/text_reply.sse"}}}}});
  StartAgent(Start("hello", "20200101T000000Z-0000000000000000"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  EXPECT_NE(events[0]["sessionId"], "20200101T000000Z-0000000000000000");
  EXPECT_TRUE(IsValidSessionId(events[0]["sessionId"]));
  EXPECT_EQ(events.back()["status"], "success");
  EXPECT_EQ(RequestBody(0)["messages"].size(), 1u);
}

TEST_F(AgentTest, InvalidStartObjectEndsWithErrorNamingTheField) {
  StartAgent({{"prompt", "hi"}, {"groupFolder", "family"}, {"chatJid", 12}});
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  ASSERT_EQ(Types(events), (std::vector<std::string>{"done"}));
  EXPECT_EQ(events[0]["error"], "start object: field \"chatJid\" must be a string");
  agent_thread_.join();
  EXPECT_EQ(exit_code_, 1);
}

TEST_F(AgentTest, MissingModelSettingIsToldToTheChat) {
  config_.model_socket.clear();
  StartAgent(Start("hello"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  ASSERT_EQ(Types(events), (std::vector<std::string>{"output", "done"}));
  EXPECT_EQ(
      events[0]["text"].get<std::string>().rfind("ANTHROPIC_API_KEY is not set on the broker", 0),
      0u);
  EXPECT_EQ(events[1]["status"], "error");
  EXPECT_EQ(events[1]["error"], events[0]["text"]);
}

TEST_F(AgentTest, FollowUpFromIpcFileStartsNextTurnAndMalformedFileIsMovedAside) {
  StartServer(
      {{"responses",
        {{{"file", "anthropic/text_reply.sse"}}, {{"file", "anthropic/internal_and_text.sse"}}}}});
  StartAgent(Start("first"));
  NextEvent();
  NextEvent();

  WriteFile(config_.ipc_dir / "0001-bad.json", "{not json");
  WriteFile(config_.ipc_dir / "0002.tmp", R"({"type":"message","text":"ignored until renamed"})");
  fs::rename(config_.ipc_dir / "0002.tmp", config_.ipc_dir / "0002.json");
  json output = NextEvent();
  Send({{"type", "close"}});
  std::vector<json> rest = EventsUntilDone();

  EXPECT_EQ(output["type"], "output");
  EXPECT_EQ(rest.back()["status"], "success");
  EXPECT_EQ(RequestBody(1)["messages"].back()["content"][0]["text"], "ignored until renamed");
  EXPECT_TRUE(fs::exists(config_.ipc_dir / "errors" / "0001-bad.json"));
  EXPECT_FALSE(fs::exists(config_.ipc_dir / "0002.json"));
}

TEST_F(AgentTest, MalformedStdinLineIsSkipped) {
  StartServer(
      {{"responses",
        {{{"file", "anthropic/text_reply.sse"}}, {{"file", "anthropic/internal_and_text.sse"}}}}});
  StartAgent(Start("first"));
  NextEvent();
  NextEvent();
  SendRaw("this is not json\n");
  Send({{"type", "message"}, {"text", "second"}});
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  ASSERT_EQ(Types(events), (std::vector<std::string>{"output", "done"}));
  EXPECT_EQ(events[1]["status"], "success");
  EXPECT_EQ(RequestBody(1)["messages"].back()["content"][0]["text"], "second");
}

TEST_F(AgentTest, ClawdieToolInOneShotRunGetsErrorResultInsteadOfHanging) {
  StartServer(
      {{"responses",
        {{{"file", "anthropic/schedule_task_tool.sse"}}, {{"file", "anthropic/text_reply.sse"}}}}});
  StartAgent(Start("remind me"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();
  // Whether the tool_call is written depends on whether the agent saw the end of stdin first;
  // either way the model gets the same error result.
  std::vector<std::string> types = Types(events);
  std::erase(types, "tool_call");

  ASSERT_EQ(types, (std::vector<std::string>{"session", "output", "done"}));
  json result = RequestBody(1)["messages"][2]["content"][0];
  EXPECT_EQ(result["is_error"], true);
  EXPECT_EQ(result["content"], "schedule_task: unavailable because stdin is closed (one-shot run)");
}

TEST_F(AgentTest, OpenAiStreamWithOneToolCall) {
  config_.provider = "openai";
  WriteFile(config_.workspace / "CLAUDE.md", "memory");
  WriteFile(config_.workspace / "notes.txt", "buy milk");
  json replace = {{"/workspace/group", config_.workspace.string()}};
  StartServer({{"responses",
                {{{"file", "openai/tool_call_bash.sse"}, {"replace", replace}},
                 {{"file", "openai/text_after_tool.sse"}}}}},
              kOwn);
  StartAgent(Start("What files do I have?"));
  CloseInput();

  std::vector<json> events = EventsUntilDone();

  ASSERT_EQ(Types(events), (std::vector<std::string>{"session", "output", "output", "done"}));
  EXPECT_EQ(events[1]["text"], "Checking the folder.");
  EXPECT_EQ(events[2]["text"], "The folder holds CLAUDE.md and notes.txt.");
  std::vector<testing::RecordedRequest> requests = server_->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/v1/chat/completions");
  json first = RequestBody(0);
  EXPECT_EQ(first["model"], "llama3.1");
  EXPECT_EQ(first["messages"][0]["role"], "system");
  EXPECT_EQ(first["tools"][0]["function"]["name"], "bash");
  json messages = RequestBody(1)["messages"];
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(
      messages[2]["tool_calls"][0],
      json({{"id", "call_ls_01"},
            {"type", "function"},
            {"function",
             {{"name", "bash"},
              {"arguments", json({{"command", "ls -1 " + config_.workspace.string()}}).dump()}}}}));
  EXPECT_EQ(messages[3], json({{"role", "tool"},
                               {"tool_call_id", "call_ls_01"},
                               {"content", "CLAUDE.md\nnotes.txt\n[exit code 0]\n"}}));
}

TEST_F(AgentTest, OverBudgetContextIsSummarisedKeepingTheNewestTurn) {
  config_.context_token_budget = 60;
  StartServer({{"responses", {{{"file", "anthropic/text_reply.sse"}}}},
               {"fixed_text", "Mara has a dentist appointment tomorrow."}});
  // A first run fills the session; the system prompt alone is over this tiny budget, so the
  // second run must cut everything before its own turn.
  StartAgent(Start("When is my dentist appointment?"));
  CloseInput();
  std::string session_id = EventsUntilDone()[0]["sessionId"];
  agent_thread_.join();
  close(out_fd_);
  pending_.clear();

  StartAgent(Start("And Jonas?", session_id));
  CloseInput();
  std::vector<json> events = EventsUntilDone();

  EXPECT_EQ(events.back()["status"], "success");
  std::vector<testing::RecordedRequest> requests = server_->Requests();
  ASSERT_EQ(requests.size(), 3u);
  json summary_request = RequestBody(1);
  EXPECT_FALSE(summary_request.contains("tools"));
  EXPECT_NE(summary_request["messages"][0]["content"][0]["text"].get<std::string>().find(
                "Jonas is driving"),
            std::string::npos);
  EXPECT_EQ(RequestBody(2)["messages"], json::parse(R"([{"role":"user","content":[
    {"type":"text","text":"[Summary of the earlier part of this conversation]\nMara has a dentist appointment tomorrow."},
    {"type":"text","text":"And Jonas?"}]}])"));
}

}  // namespace
}  // namespace clawdie::agent
