#include "container/session.h"

#include <unistd.h>

#include <fstream>

#include "gtest/gtest.h"

namespace clawdie::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json User(const std::string& text) {
  return {{"role", "user"}, {"content", {{{"type", "text"}, {"text", text}}}}};
}
json Assistant(const std::string& text) {
  return {{"role", "assistant"}, {"content", {{{"type", "text"}, {"text", text}}}}};
}
json ToolUse(const std::string& id) {
  return {{"role", "assistant"},
          {"content",
           {{{"type", "tool_use"}, {"id", id}, {"name", "bash"}, {"input", json::object()}}}}};
}
json ToolResult(const std::string& id) {
  return {{"role", "user"},
          {"content", {{{"type", "tool_result"}, {"tool_use_id", id}, {"content", "ok"}}}}};
}

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/cst-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SessionTest, AppendedMessagesAreReadBackByAnotherOpen) {
  bool continued = true;
  Session first = Session::OpenOrCreate(dir_, "", &continued);
  EXPECT_FALSE(continued);
  ASSERT_TRUE(first.Append(User("hi")).ok());
  ASSERT_TRUE(first.Append(Assistant("hello")).ok());

  Session second = Session::OpenOrCreate(dir_, first.id(), &continued);

  EXPECT_TRUE(continued);
  EXPECT_EQ(second.messages(), json::array({User("hi"), Assistant("hello")}));
  EXPECT_EQ(second.path(), dir_ / (first.id() + ".jsonl"));
}

TEST_F(SessionTest, InvalidOrUnknownIdStartsFresh) {
  bool continued = true;
  Session traversal = Session::OpenOrCreate(dir_, "../etc/passwd", &continued);
  EXPECT_FALSE(continued);
  EXPECT_NE(traversal.id(), "../etc/passwd");
  Session unknown = Session::OpenOrCreate(dir_, "never-seen", &continued);
  EXPECT_FALSE(continued);
  EXPECT_TRUE(IsValidSessionId(unknown.id()));
}

TEST_F(SessionTest, TornLastLineIsSkipped) {
  std::ofstream(dir_ / "s1.jsonl")
      << json({{"type", "message"}, {"message", User("hi")}}).dump() << "\n{\"type\":\"mess";
  bool continued = false;
  Session session = Session::OpenOrCreate(dir_, "s1", &continued);
  EXPECT_TRUE(continued);
  EXPECT_EQ(session.messages(), json::array({User("hi")}));
}

TEST_F(SessionTest, RequestMessagesMergeSameRoleAndAnswerDanglingToolUse) {
  bool continued = false;
  Session session = Session::OpenOrCreate(dir_, "", &continued);
  // A crash after the tool_use was recorded, then a new user message.
  ASSERT_TRUE(session.Append(User("list")).ok());
  ASSERT_TRUE(session.Append(ToolUse("t1")).ok());
  ASSERT_TRUE(session.Append(User("again")).ok());
  ASSERT_TRUE(session.Append(User("please")).ok());

  EXPECT_EQ(session.RequestMessages(), json::parse(R"([
    {"role":"user","content":[{"type":"text","text":"list"}]},
    {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"bash","input":{}}]},
    {"role":"user","content":[
      {"type":"tool_result","tool_use_id":"t1","is_error":true,
       "content":"interrupted: the agent stopped before this tool finished"},
      {"type":"text","text":"again"},{"type":"text","text":"please"}]}])"));
}

TEST_F(SessionTest, CompactionCutKeepsToolPairsTogether) {
  json messages = json::array({User("a"), Assistant("b"), User("c"), ToolUse("t"), ToolResult("t"),
                               Assistant("d"), User("e"), Assistant("f")});
  // Only indices 2 and 6 start a turn; with room for everything after 2 the cut is there.
  size_t all_but_first = 0;
  for (size_t i = 2; i < messages.size(); ++i) all_but_first += EstimateTokens(messages[i]);
  EXPECT_EQ(ChooseCompactionCut(messages, all_but_first), 2u);
  EXPECT_EQ(ChooseCompactionCut(messages, all_but_first - 1), 6u);
  EXPECT_EQ(ChooseCompactionCut(messages, 1), 6u);  // the newest turn is always kept
  EXPECT_EQ(ChooseCompactionCut(json::array({User("only")}), 1), 0u);
}

TEST_F(SessionTest, CompactRewritesFileWithSummary) {
  bool continued = false;
  Session session = Session::OpenOrCreate(dir_, "", &continued);
  for (const json& m : {User("a"), Assistant("b"), User("c")}) ASSERT_TRUE(session.Append(m).ok());
  ASSERT_TRUE(session.Compact(2, "talked about a").ok());

  Session reopened = Session::OpenOrCreate(dir_, session.id(), &continued);
  EXPECT_EQ(reopened.summary(), "talked about a");
  EXPECT_EQ(reopened.messages(), json::array({User("c")}));
  EXPECT_EQ(reopened.RequestMessages()[0]["content"][0]["text"],
            "[Summary of the earlier part of this conversation]\ntalked about a");
}

}  // namespace
}  // namespace clawdie::agent
