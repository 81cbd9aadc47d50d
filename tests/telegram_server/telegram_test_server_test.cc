// The Bot API stand-in itself: long poll with offset, 409 for a second poller, scripted
// answers, request records and the markup check.
#include "tests/telegram_server/telegram_test_server.h"

#include <thread>

#include "gtest/gtest.h"
#include "httplib.h"

namespace clawdie::testing {
namespace {

using json = nlohmann::json;

json Post(int port, const std::string& path, const json& body, int* status = nullptr) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  auto res = client.Post(path.c_str(), body.dump(), "application/json");
  if (!res) return json();
  if (status != nullptr) *status = res->status;
  return json::parse(res->body, nullptr, false);
}

class TelegramTestServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()); }
  TelegramTestServer server_{"123:secret"};
};

TEST_F(TelegramTestServerTest, WrongTokenIsUnauthorized) {
  int status = 0;
  json reply = Post(server_.port(), "/botwrong/getMe", json::object(), &status);
  EXPECT_EQ(status, 401);
  EXPECT_EQ(reply["description"], "Unauthorized");
}

TEST_F(TelegramTestServerTest, OffsetConfirmsEarlierUpdates) {
  server_.EnqueueUpdate({{"update_id", 10}, {"message", {{"text", "a"}}}});
  server_.EnqueueUpdate({{"update_id", 11}, {"message", {{"text", "b"}}}});
  json first = Post(server_.port(), "/bot123:secret/getUpdates", {{"offset", 0}});
  ASSERT_EQ(first["result"].size(), 2u);
  json second = Post(server_.port(), "/bot123:secret/getUpdates", {{"offset", 11}});
  ASSERT_EQ(second["result"].size(), 1u);
  EXPECT_EQ(second["result"][0]["update_id"], 11);
  EXPECT_EQ(server_.pending_updates(), 1u);
}

TEST_F(TelegramTestServerTest, LongPollReturnsWhenUpdateArrives) {
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server_.EnqueueUpdate({{"message", {{"text", "late"}}}});
  });
  json reply = Post(server_.port(), "/bot123:secret/getUpdates", {{"timeout", 10}});
  later.join();
  ASSERT_EQ(reply["result"].size(), 1u);
  EXPECT_EQ(reply["result"][0]["message"]["text"], "late");
}

TEST_F(TelegramTestServerTest, EmptyLongPollTimesOut) {
  absl::Time start = absl::Now();
  json reply = Post(server_.port(), "/bot123:secret/getUpdates", {{"timeout", 1}});
  EXPECT_EQ(reply["result"], json::array());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(900));
}

TEST_F(TelegramTestServerTest, SecondPollerTerminatesFirstWith409) {
  int status = 0;
  std::thread first([&] {
    Post(server_.port(), "/bot123:secret/getUpdates", {{"timeout", 5}}, &status);
  });
  ASSERT_TRUE(server_.WaitForRequests("getUpdates", 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Post(server_.port(), "/bot123:secret/getUpdates", {{"timeout", 0}});
  first.join();
  EXPECT_EQ(status, 409);
}

TEST_F(TelegramTestServerTest, ScriptedReplyForOneChatOnly) {
  server_.Script("sendMessage",
                 {{"ok", false},
                  {"error_code", 429},
                  {"description", "Too Many Requests: retry after 3"},
                  {"parameters", {{"retry_after", 3}}}},
                 42);
  int status = 0;
  Post(server_.port(), "/bot123:secret/sendMessage", {{"chat_id", 7}, {"text", "hi"}}, &status);
  EXPECT_EQ(status, 200);
  json limited = Post(server_.port(), "/bot123:secret/sendMessage",
                      {{"chat_id", 42}, {"text", "hi"}}, &status);
  EXPECT_EQ(status, 429);
  EXPECT_EQ(limited["parameters"]["retry_after"], 3);
  Post(server_.port(), "/bot123:secret/sendMessage", {{"chat_id", 42}, {"text", "hi"}}, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(server_.Requests("sendMessage").size(), 3u);
}

TEST_F(TelegramTestServerTest, ScriptAfterSkippedCallsFailsOnlyTheLaterOne) {
  // Through the control API, as a test in another process would script it.
  Post(server_.port(), "/control/script",
       {{"method", "sendMessage"},
        {"reply", {{"ok", false}, {"error_code", 502}, {"description", "Bad Gateway"}}},
        {"skip", 1}});
  std::vector<int> statuses;
  for (int i = 0; i < 3; ++i) {
    int status = 0;
    Post(server_.port(), "/bot123:secret/sendMessage", {{"chat_id", 7}, {"text", "hi"}}, &status);
    statuses.push_back(status);
  }
  EXPECT_EQ(statuses, (std::vector<int>{200, 502, 200}));
}

TEST_F(TelegramTestServerTest, ControlApiEnqueuesAndLists) {
  json added =
      Post(server_.port(), "/control/updates", json::array({{{"message", json::object()}}}));
  ASSERT_EQ(added["update_ids"].size(), 1u);
  Post(server_.port(), "/bot123:secret/sendMessage", {{"chat_id", 1}, {"text", "x"}});
  httplib::Client client("127.0.0.1", server_.port());
  auto res = client.Get("/control/requests?method=sendMessage");
  ASSERT_TRUE(res);
  json listed = json::parse(res->body);
  ASSERT_EQ(listed["requests"].size(), 1u);
  EXPECT_EQ(listed["requests"][0]["params"]["text"], "x");
}

TEST(CheckTelegramHtmlTest, AcceptsValidAndRejectsBadMarkup) {
  EXPECT_EQ(CheckTelegramHtml("<b>x</b> &amp; <a href=\"u\">l</a>"), "");
  EXPECT_NE(CheckTelegramHtml("<addr@host>"), "");
  EXPECT_NE(CheckTelegramHtml("<b>x"), "");
  EXPECT_NE(CheckTelegramHtml("a & b"), "");
  EXPECT_NE(CheckTelegramHtml("<b><i>x</b></i>"), "");
}

}  // namespace
}  // namespace clawdie::testing
