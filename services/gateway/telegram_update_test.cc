// Every case in the shared fixture updates.json, normalised as its note says.
#include "services/gateway/telegram_update.h"

#include <fstream>
#include <map>
#include <sstream>

#include "gtest/gtest.h"

namespace clawdie::gateway {
namespace {

using json = nlohmann::json;
using Kind = TelegramEvent::Kind;

const BotIdentity kBot{8012345678, "andy_home_bot", "Andy"};

json LoadFixture(const std::string& name) {
  std::ifstream in(std::string(CLAWDIE_SHARED_FIXTURES) + "/telegram/" + name);
  std::stringstream buf;
  buf << in.rdbuf();
  return json::parse(buf.str());
}

class TelegramUpdateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const json& c : LoadFixture("updates.json")) {
      (*cases_)[c["case"].get<std::string>()] = c["update"];
    }
  }

  TelegramEvent Normalize(const std::string& name) {
    auto it = cases_->find(name);
    EXPECT_NE(it, cases_->end()) << name;
    absl::StatusOr<TelegramEvent> event = NormalizeTelegramUpdate(it->second, kBot);
    EXPECT_TRUE(event.ok()) << event.status();
    return *event;
  }

  static std::map<std::string, json>* cases_;
};

std::map<std::string, json>* TelegramUpdateTest::cases_ = new std::map<std::string, json>();

TEST_F(TelegramUpdateTest, FixtureHasEveryCaseThisTestCovers) { EXPECT_EQ(cases_->size(), 16u); }

TEST_F(TelegramUpdateTest, PrivateTextBecomesMessage) {
  TelegramEvent e = Normalize("private_text");
  ASSERT_EQ(e.kind, Kind::kMessage);
  EXPECT_EQ(e.update_id, 604118230);
  const InboundMessage& m = e.message;
  EXPECT_EQ(m.chat_key, "tg:7311804522");
  EXPECT_EQ(m.chat_type, "private");
  EXPECT_FALSE(m.is_group);
  EXPECT_EQ(m.chat_name, "Mara");
  EXPECT_EQ(m.platform_message_id, "1187");
  EXPECT_EQ(m.sender_id, "7311804522");
  EXPECT_EQ(m.sender_name, "Mara");
  EXPECT_EQ(m.text, "Remind me to renew the car insurance on Friday at 9");
  EXPECT_EQ(m.time, absl::FromUnixSeconds(1767949200));
  EXPECT_FALSE(m.mentions_bot);
  EXPECT_FALSE(m.reply_to_bot);
  EXPECT_FALSE(m.edited);
  EXPECT_TRUE(m.reply_to_platform_id.empty());
  EXPECT_TRUE(m.attachments.empty());
}

TEST_F(TelegramUpdateTest, GroupTriggerWordIsPlainTextForTheRouter) {
  TelegramEvent e = Normalize("group_trigger_word");
  ASSERT_EQ(e.kind, Kind::kMessage);
  EXPECT_EQ(e.message.chat_key, "tg:-1001876543210");
  EXPECT_EQ(e.message.chat_name, "Family");
  EXPECT_TRUE(e.message.is_group);
  EXPECT_EQ(e.message.text, "@Andy what time is the dentist tomorrow?");
  // "@Andy" is the trigger word, not the bot's username; the router matches triggers.
  EXPECT_FALSE(e.message.mentions_bot);
}

TEST_F(TelegramUpdateTest, GroupChatterIsStoredWithoutMention) {
  TelegramEvent e = Normalize("group_no_trigger");
  ASSERT_EQ(e.kind, Kind::kMessage);
  EXPECT_EQ(e.message.text, "I think it was 14:30");
  EXPECT_FALSE(e.message.mentions_bot);
  EXPECT_FALSE(e.message.reply_to_bot);
}

TEST_F(TelegramUpdateTest, MentionEntityOfBotUsernameCounts) {
  TelegramEvent e = Normalize("group_mention_entity");
  ASSERT_EQ(e.kind, Kind::kMessage);
  EXPECT_TRUE(e.message.mentions_bot);
}

TEST_F(TelegramUpdateTest, ForumTopicGetsOwnKeyAndRootIsNoReply) {
  TelegramEvent e = Normalize("forum_topic_mention");
  ASSERT_EQ(e.kind, Kind::kMessage);
  EXPECT_EQ(e.message.chat_key, "tg:-1002291837465/5210");
  EXPECT_EQ(e.message.chat_name, "Household ops");
  EXPECT_TRUE(e.message.mentions_bot);
  EXPECT_FALSE(e.message.reply_to_bot);
  EXPECT_EQ(e.message.reply_to_platform_id, "");
  EXPECT_EQ(e.message.reply_to_text, "");
}

TEST_F(TelegramUpdateTest, ReplyToBotCountsAndCarriesQuotedText) {
  TelegramEvent e = Normalize("reply_to_bot");
  ASSERT_EQ(e.kind, Kind::kMessage);
  EXPECT_TRUE(e.message.reply_to_bot);
  EXPECT_FALSE(e.message.mentions_bot);
  EXPECT_EQ(e.message.reply_to_platform_id, "883");
  EXPECT_EQ(e.message.reply_to_text, "The dentist is at 14:30.");
  EXPECT_EQ(e.message.reply_to_sender_name, "Andy");
  EXPECT_EQ(e.message.text, "thanks, and who drives?");
}

TEST_F(TelegramUpdateTest, ChatIdCommandForThisBotIsAnsweredByGateway) {
  TelegramEvent e = Normalize("chatid_command_in_group");
  ASSERT_EQ(e.kind, Kind::kCommand);
  EXPECT_EQ(e.command, "chatid");
  EXPECT_EQ(e.chat_key, "tg:-1001876543210");
  EXPECT_EQ(e.target.chat_id, -1001876543210);
  EXPECT_EQ(e.message_id, 885);
  EXPECT_EQ(ChatIdReply(e), "Chat key: tg:-1001876543210\nType: supergroup\nTitle: Family");
}

TEST_F(TelegramUpdateTest, CommandForOtherBotIsPlainContext) {
  TelegramEvent e = Normalize("command_for_other_bot");
  ASSERT_EQ(e.kind, Kind::kMessage);
  EXPECT_EQ(e.message.text, "/start@other_weather_bot");
  EXPECT_FALSE(e.message.mentions_bot);
}

TEST_F(TelegramUpdateTest, EditIsStoredAsNewMarkedMessage) {
  TelegramEvent e = Normalize("edited_message");
  ASSERT_EQ(e.kind, Kind::kMessage);
  EXPECT_TRUE(e.message.edited);
  EXPECT_EQ(e.message.chat_key, "tg:7311804522");
  EXPECT_EQ(e.message.platform_message_id, "1187.edit.1767949243");
  EXPECT_EQ(e.message.text, "Remind me to renew the car insurance on Friday at 10");
}

TEST_F(TelegramUpdateTest, PhotoBecomesPlaceholderWithCaptionAndLargestSize) {
  TelegramEvent e = Normalize("photo_caption");
  ASSERT_EQ(e.kind, Kind::kMessage);
  EXPECT_EQ(e.message.text, "[Photo] Receipt from the garage, please file it under car costs");
  ASSERT_EQ(e.message.attachments.size(), 1u);
  EXPECT_EQ(e.message.attachments[0],
            (InboundAttachment{"photo", "", "", "AgACAgQAAxkBAAIEpmXa-x1280", 188405}));
}

TEST_F(TelegramUpdateTest, VoiceBecomesPlaceholder) {
  TelegramEvent e = Normalize("voice");
  ASSERT_EQ(e.kind, Kind::kMessage);
  EXPECT_EQ(e.message.text, "[Voice message]");
  ASSERT_EQ(e.message.attachments.size(), 1u);
  EXPECT_EQ(e.message.attachments[0],
            (InboundAttachment{"voice", "", "audio/ogg", "AwACAgQAAxkBAAIEp2Xa-voice", 23010}));
}

TEST_F(TelegramUpdateTest, UnicodeSurvivesByteExact) {
  TelegramEvent e = Normalize("unicode_text");
  ASSERT_EQ(e.kind, Kind::kMessage);
  EXPECT_EQ(e.message.text,
            "Plan för lördag 🎉👨‍👩‍👧 — café, naïve, שלום, 東京");
}

TEST_F(TelegramUpdateTest, DuplicateDeliveryNormalisesIdentically) {
  TelegramEvent first = Normalize("private_text");
  TelegramEvent again = Normalize("duplicate_delivery");
  EXPECT_EQ(again.update_id, first.update_id);
  EXPECT_EQ(again.message.chat_key, first.message.chat_key);
  EXPECT_EQ(again.message.platform_message_id, first.message.platform_message_id);
}

TEST_F(TelegramUpdateTest, MigrationMovesChatKey) {
  TelegramEvent e = Normalize("migrate_to_supergroup");
  ASSERT_EQ(e.kind, Kind::kMigration);
  EXPECT_EQ(e.chat_key, "tg:-4012345678");
  EXPECT_EQ(e.migrate_to_key, "tg:-1001876543210");
  EXPECT_EQ(e.migrate_to_chat_id, -1001876543210);
}

TEST_F(TelegramUpdateTest, KickedBotMarksChatBlocked) {
  TelegramEvent e = Normalize("my_chat_member_blocked");
  ASSERT_EQ(e.kind, Kind::kMembership);
  EXPECT_EQ(e.chat_key, "tg:7311804522");
  EXPECT_TRUE(e.blocked);
}

TEST_F(TelegramUpdateTest, ChannelPostIsIngestedWithChannelAsSender) {
  TelegramEvent e = Normalize("channel_post");
  ASSERT_EQ(e.kind, Kind::kMessage);
  EXPECT_EQ(e.message.chat_key, "tg:-1003000000001");
  EXPECT_EQ(e.message.chat_type, "channel");
  EXPECT_TRUE(e.message.is_group);
  EXPECT_EQ(e.message.sender_id, "-1003000000001");
  EXPECT_EQ(e.message.sender_name, "News");
  EXPECT_EQ(e.message.text, "Weekly update");
}

TEST(TelegramUpdateExtraTest, PingWithoutSuffixIsAnswered) {
  json update = json::parse(R"({"update_id":1,"message":{"message_id":5,"date":1,
    "from":{"id":2,"first_name":"A"},"chat":{"id":2,"type":"private","first_name":"A"},
    "text":"/ping","entities":[{"type":"bot_command","offset":0,"length":5}]}})");
  absl::StatusOr<TelegramEvent> e = NormalizeTelegramUpdate(update, kBot);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->kind, Kind::kCommand);
  EXPECT_EQ(e->command, "ping");
}

TEST(TelegramUpdateExtraTest, MentionOffsetsCountUtf16Units) {
  // "🎉 @ANDY_home_bot": the emoji takes two UTF-16 units, so the mention starts at 3.
  json update = json::parse(R"({"update_id":1,"message":{"message_id":5,"date":1,
    "from":{"id":2,"first_name":"A"},"chat":{"id":-5,"type":"group","title":"G"},
    "text":"🎉 @ANDY_home_bot","entities":[{"type":"mention","offset":3,"length":14}]}})");
  absl::StatusOr<TelegramEvent> e = NormalizeTelegramUpdate(update, kBot);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->message.mentions_bot);
}

TEST(TelegramUpdateExtraTest, RejectsUpdateWithoutId) {
  EXPECT_EQ(NormalizeTelegramUpdate(json::parse(R"({"message":{}})"), kBot).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A private text update with `chat` and the fields after "text" replaced.
json Update(const std::string& chat, const std::string& rest) {
  return json::parse(R"({"update_id":1,"message":{"message_id":5,"date":1767949200,
    "from":{"id":2,"first_name":"A"},"chat":)" +
                     chat + R"(,"text":)" + rest + "}}");
}

TEST(TelegramUpdateExtraTest, EmptyOrBareCommandEntityIsPlainText) {
  for (const std::string& rest :
       {R"("/","entities":[{"type":"bot_command","offset":0,"length":0}])",
        R"("/","entities":[{"type":"bot_command","offset":0,"length":1}])",
        R"("x","entities":[{"type":"bot_command","offset":0,"length":1}])",
        R"(7,"entities":[{"type":"bot_command","offset":0,"length":3}])"}) {
    absl::StatusOr<TelegramEvent> e =
        NormalizeTelegramUpdate(Update(R"({"id":2,"type":"private"})", rest), kBot);
    ASSERT_TRUE(e.ok()) << rest << ": " << e.status();
    EXPECT_NE(e->kind, Kind::kCommand) << rest;
  }
}

TEST(TelegramUpdateExtraTest, ChatWithoutAValidIdIsIgnoredNotFiledUnderZero) {
  for (const std::string& chat :
       {R"({"id":"2","type":"private"})", R"({"id":18446744073709551615,"type":"private"})",
        R"({"id":2.5,"type":"private"})", R"({"type":"private"})"}) {
    absl::StatusOr<TelegramEvent> e = NormalizeTelegramUpdate(Update(chat, R"("hi")"), kBot);
    ASSERT_TRUE(e.ok()) << chat;
    EXPECT_EQ(e->kind, Kind::kIgnored) << chat;
    EXPECT_EQ(e->reason, "message whose chat has no valid id") << chat;
  }
}

TEST(TelegramUpdateExtraTest, ImplausibleDateBecomesTheTimeOfReceipt) {
  json update = Update(R"({"id":2,"type":"private"})", R"("hi")");
  update["message"]["date"] = -99999999999999;
  absl::Time before = absl::Now();
  absl::StatusOr<TelegramEvent> e = NormalizeTelegramUpdate(update, kBot);
  ASSERT_TRUE(e.ok());
  EXPECT_GE(e->message.time, before);
  EXPECT_LE(e->message.time, absl::Now());
}

TEST(PlatformTimeTest, KeepsPlausibleTimesOnly) {
  absl::Time now = absl::FromUnixSeconds(1767949200);
  EXPECT_EQ(PlatformTimeOrNow(1767940000, now), absl::FromUnixSeconds(1767940000));
  EXPECT_EQ(PlatformTimeOrNow(1767949200 + 3600, now), absl::FromUnixSeconds(1767952800));
  EXPECT_EQ(PlatformTimeOrNow(0, now), now);
  EXPECT_EQ(PlatformTimeOrNow(-99999999999, now), now);
  EXPECT_EQ(PlatformTimeOrNow(99999999999, now), now);
}

TEST(TelegramChatKeyTest, RoundTripsTopicKeys) {
  EXPECT_EQ(TelegramChatKey(-100, 5210), "tg:-100/5210");
  absl::StatusOr<TelegramTarget> t = ParseTelegramChatKey("tg:-1002291837465/5210");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->chat_id, -1002291837465);
  EXPECT_EQ(t->thread_id, 5210);
  EXPECT_FALSE(ParseTelegramChatKey("wa:123").ok());
  EXPECT_FALSE(ParseTelegramChatKey("tg:12x").ok());
  EXPECT_FALSE(ParseTelegramChatKey("tg:12/").ok());
}

}  // namespace
}  // namespace clawdie::gateway
