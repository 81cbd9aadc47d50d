#include "services/broker/agent_protocol.h"

#include "gtest/gtest.h"

namespace clawdie::broker {
namespace {

TEST(AgentProtocolTest, ParsesEveryEventKind) {
  auto output = ParseAgentEvent(R"({"type":"output","text":"Hello <b>"})");
  ASSERT_TRUE(output.ok());
  EXPECT_EQ(output->kind, AgentEvent::Kind::kOutput);
  EXPECT_EQ(output->text, "Hello <b>");

  auto call = ParseAgentEvent(
      R"({"type":"tool_call","id":"c1","name":"schedule_task","input":{"cron":"0 9 * * 1"}})");
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->kind, AgentEvent::Kind::kToolCall);
  EXPECT_EQ(call->tool_id, "c1");
  EXPECT_EQ(call->tool_name, "schedule_task");
  EXPECT_EQ(call->tool_input_json, R"({"cron":"0 9 * * 1"})");

  auto session = ParseAgentEvent(R"({"type":"session","sessionId":"s-42"})");
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->session_id, "s-42");

  auto done = ParseAgentEvent(R"({"type":"done","status":"error","error":"model overloaded"})");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, "error");
  EXPECT_EQ(done->error, "model overloaded");
}

TEST(AgentProtocolTest, RejectsMalformedLines) {
  EXPECT_EQ(ParseAgentEvent("not json").status().message(), "parse agent event: not a JSON object");
  EXPECT_EQ(ParseAgentEvent("[1]").status().message(), "parse agent event: not a JSON object");
  EXPECT_EQ(ParseAgentEvent(R"({"text":"x"})").status().message(), "parse agent event: no type");
  EXPECT_EQ(ParseAgentEvent(R"({"type":"output"})").status().message(),
            "parse agent event: output without text");
  EXPECT_EQ(ParseAgentEvent(R"({"type":"weather"})").status().message(),
            "parse agent event: unknown type weather");
}

TEST(AgentProtocolTest, EncodesInputLines) {
  EXPECT_EQ(EncodeFollowUp("line\nbreak"), "{\"text\":\"line\\nbreak\",\"type\":\"message\"}\n");
  EXPECT_EQ(EncodeToolResult("c1", false, "denied"),
            "{\"content\":\"denied\",\"id\":\"c1\",\"ok\":false,\"type\":\"tool_result\"}\n");
  EXPECT_EQ(EncodeClose(), "{\"type\":\"close\"}\n");
}

}  // namespace
}  // namespace clawdie::broker
