// The send path against the test Bot API server on loopback, on simulated time.
#include "services/gateway/telegram_sender.h"

#include <thread>

#include "gtest/gtest.h"
#include "services/gateway/telegram_html.h"
#include "services/gateway/utf8.h"
#include "tests/telegram_server/telegram_test_server.h"

namespace clawdie::gateway {
namespace {

using json = nlohmann::json;
using clawdie::testing::TelegramTestServer;

const json& Responses() {
  static const json* responses = new json(*clawdie::testing::LoadJsonFile(
      std::string(CLAWDIE_SHARED_FIXTURES) + "/telegram/responses.json"));
  return *responses;
}

class TelegramSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok());
    client_ = std::make_unique<TelegramClient>(server_.base_url(), "42:test-token");
    state_ = *TelegramState::Open("");
    sender_ = std::make_unique<TelegramSender>(client_.get(), state_.get(), &clock_,
                                               TelegramSenderOptions(), &stop_);
  }
  void TearDown() override { stop_.Notify(); }

  std::vector<json> Sent() {
    std::vector<json> out;
    for (const auto& r : server_.Requests("sendMessage")) out.push_back(r.params);
    return out;
  }

  TelegramTestServer server_{"42:test-token"};
  FakeClock clock_{absl::FromUnixSeconds(1767949200), /*auto_advance=*/true};
  Wakeup stop_;
  std::unique_ptr<TelegramClient> client_;
  std::unique_ptr<TelegramState> state_;
  std::unique_ptr<TelegramSender> sender_;
};

TEST_F(TelegramSenderTest, SendsRenderedHtmlAndReturnsMessageId) {
  absl::StatusOr<std::vector<std::string>> ids =
      sender_->Send("tg:7311804522", "**Done.** see `x<y`", "1187");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, std::vector<std::string>{"2001"});
  std::vector<json> sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["chat_id"], 7311804522);
  EXPECT_EQ(sent[0]["parse_mode"], "HTML");
  EXPECT_EQ(sent[0]["text"], "<b>Done.</b> see <code>x&lt;y</code>");
  EXPECT_EQ(sent[0]["reply_parameters"]["message_id"], 1187);
}

TEST_F(TelegramSenderTest, LongReplyIsChunkedInOrderAndNeverTooLong) {
  std::string text;
  for (int i = 0; i < 600; ++i) text += "Paragraph " + std::to_string(i) + " 🎉 with words.\n\n";
  absl::StatusOr<std::vector<std::string>> ids = sender_->Send("tg:7311804522", text, "1187");
  ASSERT_TRUE(ids.ok()) << ids.status();
  std::vector<Chunk> chunks = SplitMessage(text);
  ASSERT_GT(chunks.size(), 3u);
  ASSERT_EQ(ids->size(), chunks.size());
  std::vector<json> sent = Sent();
  ASSERT_EQ(sent.size(), chunks.size());  // no "message is too long" and no retries
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(sent[i]["text"], RenderChunkHtml(chunks[i])) << i;
    EXPECT_EQ(sent[i].contains("reply_parameters"), i == 0) << i;
  }
  // Paced at one message per second in the chat.
  EXPECT_EQ(clock_.total_slept(), absl::Seconds(chunks.size() - 1));
}

TEST_F(TelegramSenderTest, ParseErrorFallsBackToPlainTextOnce) {
  server_.Script("sendMessage", Responses()["cant_parse_entities"]);
  absl::StatusOr<std::vector<std::string>> ids = sender_->Send("tg:7311804522", "*hi* there");
  ASSERT_TRUE(ids.ok()) << ids.status();
  std::vector<json> sent = Sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0]["parse_mode"], "HTML");
  EXPECT_FALSE(sent[1].contains("parse_mode"));
  EXPECT_EQ(sent[1]["text"], "*hi* there");
}

TEST_F(TelegramSenderTest, PlainTextRejectedTooIsAPermanentError) {
  server_.Script("sendMessage", Responses()["cant_parse_entities"], std::nullopt, 2);
  absl::StatusOr<std::vector<std::string>> ids = sender_->Send("tg:7311804522", "*hi*");
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Sent().size(), 2u);
}

TEST_F(TelegramSenderTest, RetriesServerErrorsWithBackoff) {
  server_.Script("sendMessage", Responses()["server_error"], std::nullopt, 2);
  absl::StatusOr<std::vector<std::string>> ids = sender_->Send("tg:7311804522", "hello");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(Sent().size(), 3u);
  EXPECT_EQ(clock_.total_slept(), absl::Seconds(3));  // 1 s, then 2 s
}

TEST_F(TelegramSenderTest, GivesUpAfterRepeatedServerErrors) {
  server_.Script("sendMessage", Responses()["server_error"], std::nullopt, 10);
  absl::StatusOr<std::vector<std::string>> ids = sender_->Send("tg:7311804522", "hello");
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Sent().size(), 5u);
}

TEST_F(TelegramSenderTest, NetworkErrorIsUnavailable) {
  server_.Stop();
  absl::StatusOr<std::vector<std::string>> ids = sender_->Send("tg:7311804522", "hello");
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kUnavailable);
  // The token never shows in the error text.
  EXPECT_EQ(std::string(ids.status().message()).find("test-token"), std::string::npos);
}

TEST_F(TelegramSenderTest, BlockedChatFailsAndIsNotTriedAgain) {
  server_.Script("sendMessage", Responses()["blocked_by_user"]);
  EXPECT_EQ(sender_->Send("tg:7311804522", "hello").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sender_->Send("tg:7311804522", "again").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Sent().size(), 1u);
  EXPECT_TRUE(state_->IsBlocked("tg:7311804522"));
}

TEST_F(TelegramSenderTest, MigratedGroupIsFollowed) {
  server_.Script("sendMessage", Responses()["migrated"]);
  absl::StatusOr<std::vector<std::string>> ids = sender_->Send("tg:-4012345678", "hello");
  ASSERT_TRUE(ids.ok()) << ids.status();
  std::vector<json> sent = Sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1]["chat_id"], -1001876543210);
  EXPECT_EQ(state_->Resolve("tg:-4012345678"), "tg:-1001876543210");
}

TEST_F(TelegramSenderTest, TopicGetsThreadIdExceptGeneral) {
  ASSERT_TRUE(sender_->Send("tg:-1002291837465/5210", "in topic").ok());
  ASSERT_TRUE(sender_->Send("tg:-1002291837465/1", "in general").ok());
  std::vector<json> sent = Sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0]["message_thread_id"], 5210);
  EXPECT_FALSE(sent[1].contains("message_thread_id"));
}

TEST_F(TelegramSenderTest, RejectsBadChatKey) {
  EXPECT_EQ(sender_->Send("wa:123", "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sender_->Send("tg:1", "").status().code(), absl::StatusCode::kInvalidArgument);
}

// A long 429 pause is not waited out inside Send: it fails at once, as does the next send to
// that chat, so no caller (or shutdown) hangs behind it; other chats keep going.
TEST(TelegramSenderRateLimitTest, ALongPauseFailsTheSendAtOnceForTheOutboxToRetry) {
  TelegramTestServer server("42:test-token");
  ASSERT_TRUE(server.Start().ok());
  TelegramClient client(server.base_url(), "42:test-token");
  std::unique_ptr<TelegramState> state = *TelegramState::Open("");
  FakeClock clock;
  TelegramSender sender(&client, state.get(), &clock, TelegramSenderOptions());
  server.Script("sendMessage",
                {{"ok", false},
                 {"error_code", 429},
                 {"description", "Too Many Requests: retry after 99999999999"},
                 {"parameters", {{"retry_after", 99999999999}}}},
                333);

  absl::StatusOr<std::vector<std::string>> first = sender.Send("tg:333", "hello");
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(first.status().message().find("Telegram paused this chat for another 24h (429)"),
            std::string::npos)
      << first.status();
  EXPECT_EQ(sender.Send("tg:333", "again").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(server.Requests("sendMessage").size(), 1u);
  EXPECT_TRUE(sender.Send("tg:444", "other chat").ok());

  clock.Advance(absl::Hours(24));
  EXPECT_TRUE(sender.Send("tg:333", "later").ok());
}

// 429 for one chat holds that chat for retry_after while another chat's reply goes out.
TEST(TelegramSenderRateLimitTest, RetryAfterDelaysOnlyThatChat) {
  TelegramTestServer server("42:test-token");
  ASSERT_TRUE(server.Start().ok());
  TelegramClient client(server.base_url(), "42:test-token");
  std::unique_ptr<TelegramState> state = *TelegramState::Open("");
  FakeClock clock;  // time moves only when the test says so
  TelegramSender sender(&client, state.get(), &clock, TelegramSenderOptions());
  server.Script("sendMessage", Responses()["too_many_requests"], 111);

  absl::StatusOr<std::vector<std::string>> limited;
  std::thread chat_a([&] { limited = sender.Send("tg:111", "to A"); });
  ASSERT_TRUE(clock.AwaitSleepers(1));  // A waits out retry_after
  absl::Time t0 = clock.Now();

  absl::StatusOr<std::vector<std::string>> other = sender.Send("tg:222", "to B");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(clock.Now(), t0);  // B went out without waiting
  EXPECT_EQ(server.Requests("sendMessage").size(), 2u);

  clock.Advance(absl::Seconds(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(server.Requests("sendMessage").size(), 2u);  // still paused at 2 s of 3
  clock.Advance(absl::Seconds(1));
  chat_a.join();
  ASSERT_TRUE(limited.ok()) << limited.status();
  std::vector<testing::BotApiRequest> sent = server.Requests("sendMessage");
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].params["chat_id"], 111);
  EXPECT_EQ(sent[1].params["chat_id"], 222);
  EXPECT_EQ(sent[2].params["chat_id"], 111);
}

}  // namespace
}  // namespace clawdie::gateway
