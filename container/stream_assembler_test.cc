#include "container/stream_assembler.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace clawdie::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Assembled {
  ModelTurn turn;
  bool complete = false;
  std::optional<StreamError> error;
  std::vector<std::string> deltas;
  int block_ends = 0;
};

template <typename Assembler>
Assembled Assemble(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text(std::istreambuf_iterator<char>(in), {});
  Assembled out;
  Assembler assembler(TextSink{[&](std::string_view d) { out.deltas.emplace_back(d); },
                               [&] { ++out.block_ends; }, nullptr});
  SseParser parser([&](const SseEvent& event) { assembler.OnEvent(event); });
  parser.Feed(text);
  parser.Finish();
  out.complete = assembler.complete();
  out.error = assembler.error();
  out.turn = assembler.TakeTurn();
  return out;
}

const fs::path kAnthropic = fs::path(CLAWDIE_SHARED_FIXTURES) / "anthropic";
const fs::path kOpenAi = fs::path(CLAWDIE_TEST_FIXTURES) / "openai";

TEST(AnthropicStreamAssemblerTest, TextReplyJoinsDeltasAndIgnoresPing) {
  Assembled out = Assemble<AnthropicStreamAssembler>(kAnthropic / "text_reply.sse");
  EXPECT_TRUE(out.complete);
  EXPECT_FALSE(out.error);
  EXPECT_EQ(
      out.turn.content,
      json::parse(
          R"([{"type":"text","text":"Your dentist appointment is tomorrow at 14:30. Jonas is driving 🚗."}])"));
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
  EXPECT_EQ(out.turn.message_id, "msg_01TextReply7a1");
  EXPECT_EQ(out.turn.input_tokens, 412);
  EXPECT_EQ(out.turn.output_tokens, 19);
  EXPECT_EQ(out.deltas.size(), 3u);
  EXPECT_EQ(out.block_ends, 1);
}

TEST(AnthropicStreamAssemblerTest, ToolUseInputArrivesInPieces) {
  Assembled out = Assemble<AnthropicStreamAssembler>(kAnthropic / "tool_use_bash.sse");
  EXPECT_EQ(out.turn.stop_reason, "tool_use");
  ASSERT_EQ(out.turn.content.size(), 2u);
  EXPECT_EQ(out.turn.content[1], json::parse(R"({"type":"tool_use","id":"toolu_01BashLs9x",
      "name":"bash","input":{"command":"ls -1 /workspace/group"}})"));
}

TEST(AnthropicStreamAssemblerTest, ErrorEventIsReported) {
  Assembled out = Assemble<AnthropicStreamAssembler>(kAnthropic / "error_overloaded.sse");
  EXPECT_FALSE(out.complete);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->type, "overloaded_error");
  EXPECT_EQ(out.error->message, "Overloaded");
}

TEST(AnthropicStreamAssemblerTest, MalformedDataIsAParseError) {
  AnthropicStreamAssembler assembler(TextSink{});
  assembler.OnEvent({"message_start", "{not json"});
  ASSERT_TRUE(assembler.error());
  EXPECT_EQ(assembler.error()->type, "stream_parse_error");
}

TEST(OpenAiStreamAssemblerTest, ToolCallArgumentsArriveInPieces) {
  Assembled out = Assemble<OpenAiStreamAssembler>(kOpenAi / "tool_call_bash.sse");
  EXPECT_TRUE(out.complete);
  EXPECT_EQ(out.turn.stop_reason, "tool_use");
  EXPECT_EQ(out.turn.content, json::parse(R"([{"type":"text","text":"Checking the folder."},
      {"type":"tool_use","id":"call_ls_01","name":"bash","input":{"command":"ls -1 /workspace/group"}}])"));
  EXPECT_EQ(out.block_ends, 1);
}

TEST(OpenAiStreamAssemblerTest, StopFinishReasonIsEndTurn) {
  Assembled out = Assemble<OpenAiStreamAssembler>(kOpenAi / "text_after_tool.sse");
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
  EXPECT_EQ(out.turn.content[0]["text"], "The folder holds CLAUDE.md and notes.txt.");
}

TEST(OpenAiStreamAssemblerTest, ErrorObjectIsReported) {
  OpenAiStreamAssembler assembler(TextSink{});
  assembler.OnEvent({"", R"({"error":{"message":"model not found","type":"not_found_error"}})"});
  ASSERT_TRUE(assembler.error());
  EXPECT_EQ(assembler.error()->message, "model not found");
}

}  // namespace
}  // namespace clawdie::agent
