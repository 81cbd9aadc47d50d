// Tests of the stdin/stdout protocol pieces: start object, input lines, event lines, output
// chunking and configuration from the environment.
#include "container/protocol.h"

#include <unistd.h>

#include <fstream>
#include <map>

#include "container/agent_config.h"
#include "container/output_chunker.h"
#include "container/start_request.h"
#include "gtest/gtest.h"

namespace clawdie::agent {
namespace {

using nlohmann::json;

TEST(StartRequestTest, ParsesEveryField) {
  absl::StatusOr<StartRequest> start = ParseStartRequest(
      R"({"prompt":"hi","groupFolder":"family","chatJid":"tg:-1","isMain":true,"sessionId":"s1",
          "isScheduledTask":true,"assistantName":"Bo","timezone":"Europe/Berlin",
          "model":{"provider":"openai","name":"qwen","maxTokens":100}})");
  ASSERT_TRUE(start.ok()) << start.status();
  EXPECT_EQ(start->prompt, "hi");
  EXPECT_EQ(start->group_folder, "family");
  EXPECT_EQ(start->chat_jid, "tg:-1");
  EXPECT_TRUE(start->is_main);
  EXPECT_EQ(start->session_id, "s1");
  EXPECT_TRUE(start->is_scheduled_task);
  EXPECT_EQ(start->assistant_name, "Bo");
  EXPECT_EQ(start->timezone, "Europe/Berlin");
  EXPECT_EQ(start->model.provider, "openai");
  EXPECT_EQ(start->model.name, "qwen");
  EXPECT_EQ(start->model.max_tokens, 100);
}

TEST(StartRequestTest, ModelMayBeAPlainNameAndOptionalFieldsMayBeNull) {
  absl::StatusOr<StartRequest> start = ParseStartRequest(
      R"({"prompt":"hi","groupFolder":"g","chatJid":"c","sessionId":null,"model":"claude-x"})");
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(start->model.name, "claude-x");
  EXPECT_EQ(start->session_id, "");
  EXPECT_FALSE(start->is_main);
}

TEST(StartRequestTest, ErrorsNameTheField) {
  auto error = [](const char* line) {
    return std::string(ParseStartRequest(line).status().message());
  };
  EXPECT_EQ(error(R"({"groupFolder":"g","chatJid":"c"})"),
            "start object: field \"prompt\" is missing");
  EXPECT_EQ(error(R"({"prompt":"p","groupFolder":"g","chatJid":"c","isMain":"yes"})"),
            "start object: field \"isMain\" must be true or false");
  EXPECT_EQ(error(R"({"prompt":"p","groupFolder":"g","chatJid":"c","model":{"provider":"x"}})"),
            "start object: field \"model.provider\" must be \"anthropic\" or \"openai\"");
  EXPECT_EQ(error("[1]"), "start object: not a JSON object");
  EXPECT_EQ(error("{").rfind("parse start object: ", 0), 0u);
}

TEST(InputLineTest, ParsesTheThreeKinds) {
  absl::StatusOr<InputEvent> message = ParseInputLine(R"({"type":"message","text":"hey"})");
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->kind, InputEvent::Kind::kMessage);
  EXPECT_EQ(message->text, "hey");
  absl::StatusOr<InputEvent> result =
      ParseInputLine(R"({"type":"tool_result","id":"t","ok":false,"content":{"a":1}})");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->id, "t");
  EXPECT_FALSE(result->ok);
  EXPECT_EQ(result->content, json({{"a", 1}}));
  EXPECT_EQ(ParseInputLine(R"({"type":"close"})")->kind, InputEvent::Kind::kClose);
  EXPECT_EQ(ParseInputLine(R"({"type":"bogus"})").status().message(),
            "input line: unknown type \"bogus\"");
  EXPECT_FALSE(ParseInputLine(R"({"type":"message"})").ok());
}

TEST(EventWriterTest, WritesOneLinePerEventWithTypeFirst) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  EventWriter writer(fds[1]);
  ASSERT_TRUE(writer.Output("a\nb").ok());
  ASSERT_TRUE(writer.ToolCall("t1", "list_tasks", json::object()).ok());
  ASSERT_TRUE(writer.Session("s1").ok());
  ASSERT_TRUE(writer.Done("error", "boom").ok());
  close(fds[1]);
  std::string text;
  char buffer[1024];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;) text.append(buffer, n);
  close(fds[0]);
  EXPECT_EQ(text,
            "{\"type\":\"output\",\"text\":\"a\\nb\"}\n"
            "{\"type\":\"tool_call\",\"id\":\"t1\",\"name\":\"list_tasks\",\"input\":{}}\n"
            "{\"type\":\"session\",\"sessionId\":\"s1\"}\n"
            "{\"type\":\"done\",\"status\":\"error\",\"error\":\"boom\"}\n");
}

TEST(OutputChunkerTest, EmitsAtBlockEndTrimmedAndSkipsWhitespace) {
  std::vector<std::string> emitted;
  OutputChunker chunker([&](const std::string& text) { emitted.push_back(text); });
  chunker.Append("Hello ");
  chunker.Append("world.\n");
  chunker.Flush();
  chunker.Append("  \n");
  chunker.Flush();
  EXPECT_EQ(emitted, (std::vector<std::string>{"Hello world."}));
}

TEST(OutputChunkerTest, LongTextIsCutAtParagraphsButNotInsideInternalOrCode) {
  std::vector<std::string> emitted;
  OutputChunker chunker([&](const std::string& text) { emitted.push_back(text); }, 20);
  chunker.Append("First paragraph here.\n\n<internal>a\n\nb</internal> tail");
  chunker.Append("\n\n```\ncode\n\nmore\n");
  EXPECT_EQ(emitted, (std::vector<std::string>{"First paragraph here.",
                                               "<internal>a\n\nb</internal> tail"}));
  chunker.Append("```\n");
  chunker.Flush();
  EXPECT_EQ(emitted.back(), "```\ncode\n\nmore\n```");
}

TEST(AgentConfigTest, ReadsPathsAndLimitsFromEnvironment) {
  std::map<std::string, std::string> env = {{"NANOCLAW_WORKSPACE", "/w"},
                                            {"NANOCLAW_IPC_DIR", "/i"},
                                            {"CLAWDIE_MODEL_PROVIDER", "openai"},
                                            {"CLAWDIE_MODEL_SOCKET", "/s.sock"},
                                            {"CLAWDIE_BASH_TIMEOUT", "9"}};
  auto getenv = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  absl::StatusOr<AgentConfig> config = LoadAgentConfig(getenv);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->workspace, "/w");
  EXPECT_EQ(config->conversations_dir, "/w/conversations");
  EXPECT_EQ(config->global_md, "/workspace/global/CLAUDE.md");
  EXPECT_EQ(config->ipc_dir, "/i");
  EXPECT_EQ(config->provider, "openai");
  EXPECT_EQ(config->model_socket, "/s.sock");
  EXPECT_EQ(config->bash_timeout, std::chrono::seconds(9));

  env["CLAWDIE_BASH_TIMEOUT"] = "soon";
  EXPECT_EQ(LoadAgentConfig(getenv).status().message(),
            "environment CLAWDIE_BASH_TIMEOUT=\"soon\": expected a positive integer");
}

TEST(AgentConfigTest, ConfigFileAcceptsCommentsQuotesAndExport) {
  char path[] = "/tmp/cac-XXXXXX";
  int fd = mkstemp(path);
  std::string text = "# comment\nexport CLAWDIE_MODEL=\"qwen 7b\"\n\nCLAWDIE_MODEL_SOCKET='/s'\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  auto values = ReadConfigFile(path);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (std::map<std::string, std::string>{{"CLAWDIE_MODEL", "qwen 7b"},
                                                         {"CLAWDIE_MODEL_SOCKET", "/s"}}));
  std::ofstream(path) << "just words\n";
  EXPECT_EQ(ReadConfigFile(path).status().message(),
            "config " + std::string(path) + " line 1: expected KEY=VALUE");
  unlink(path);
}

}  // namespace
}  // namespace clawdie::agent
