#include "services/router/policy.h"

#include <fstream>
#include <map>
#include <sstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace clawdie::router {
namespace {

clawdie::v1::Group FamilyGroup() {
  clawdie::v1::Group group;
  group.set_folder("family");
  group.set_chat_jid("tg:-1001876543210");
  group.set_requires_trigger(true);
  return group;  // no trigger of its own: "@Andy"
}

// The parts of a Telegram message the gateway hands the router, as its normaliser fills them
// for the bot @andy_home_bot.
clawdie::v1::Message FromTelegram(const nlohmann::json& message) {
  clawdie::v1::Message out;
  std::string text = message.value("text", message.value("caption", std::string()));
  out.set_text(text);
  for (const nlohmann::json& entity : message.value("entities", nlohmann::json::array())) {
    if (entity.value("type", "") != "mention") continue;
    std::string mention = text.substr(entity.value("offset", 0), entity.value("length", 0));
    if (mention == "@andy_home_bot") out.set_mentions_bot(true);
  }
  if (message.contains("reply_to_message")) {
    const nlohmann::json& from =
        message["reply_to_message"].value("from", nlohmann::json::object());
    out.set_reply_to_bot(from.value("username", "") == "andy_home_bot");
  }
  return out;
}

TEST(MessageTriggersTest, TelegramFixtureGroupMessagesTriggerAsTheirNotesSay) {
  std::ifstream in(std::string(CLAWDIE_SHARED_FIXTURES) + "/telegram/updates.json");
  ASSERT_TRUE(in) << "fixture telegram/updates.json missing";
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json cases = nlohmann::json::parse(text.str(), nullptr, false);
  ASSERT_TRUE(cases.is_array());

  const std::map<std::string, bool> expected = {
      {"group_trigger_word", true},  {"group_no_trigger", false}, {"group_mention_entity", true},
      {"forum_topic_mention", true}, {"reply_to_bot", true},      {"command_for_other_bot", false},
  };
  int checked = 0;
  for (const nlohmann::json& item : cases) {
    auto it = expected.find(item.value("case", ""));
    if (it == expected.end()) continue;
    clawdie::v1::Message message = FromTelegram(item["update"]["message"]);
    EXPECT_EQ(MessageTriggers(FamilyGroup(), message, "Andy"), it->second) << it->first;
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

TEST(MessageTriggersTest, PrivateChatsWithoutTriggerAndMainAlwaysTrigger) {
  clawdie::v1::Message message;
  message.set_text("Remind me to renew the car insurance on Friday at 9");
  clawdie::v1::Group private_chat = FamilyGroup();
  private_chat.set_requires_trigger(false);
  EXPECT_TRUE(MessageTriggers(private_chat, message, "Andy"));
  clawdie::v1::Group main = FamilyGroup();
  main.set_is_main(true);
  EXPECT_TRUE(MessageTriggers(main, message, "Andy"));
  EXPECT_FALSE(MessageTriggers(FamilyGroup(), message, "Andy"));
}

TEST(MessageTriggersTest, OwnMessagesNeverTriggerEvenInMain) {
  clawdie::v1::Message own;
  own.set_text("@Andy here is your reminder");
  own.set_is_own(true);
  clawdie::v1::Group main = FamilyGroup();
  main.set_is_main(true);
  EXPECT_FALSE(MessageTriggers(main, own, "Andy"));
  EXPECT_FALSE(MessageTriggers(FamilyGroup(), own, "Andy"));
}

TEST(MessageTriggersTest, UsesTheGroupsOwnTriggerWithItsMetacharactersLiteral) {
  clawdie::v1::Group group = FamilyGroup();
  group.set_trigger("Hey (bot)?");
  clawdie::v1::Message message;
  message.set_text("  hey (BOT)? dinner");
  EXPECT_TRUE(MessageTriggers(group, message, "Andy"));
  message.set_text("Hey bot dinner");
  EXPECT_FALSE(MessageTriggers(group, message, "Andy"));
  message.set_text("@Andy dinner");
  EXPECT_FALSE(MessageTriggers(group, message, "Andy"));
}

TEST(IsUnknownSessionErrorTest, RecognisesLostSessionsOnly) {
  EXPECT_TRUE(IsUnknownSessionError("No conversation found with session ID: 20260101T00Z-ab"));
  EXPECT_TRUE(IsUnknownSessionError("unknown session 123"));
  EXPECT_TRUE(IsUnknownSessionError("Session not found"));
  EXPECT_FALSE(IsUnknownSessionError("model overloaded (529)"));
  EXPECT_FALSE(IsUnknownSessionError("session file written"));
  EXPECT_FALSE(IsUnknownSessionError(""));
}

TEST(RunRetryDelayTest, BacksOffFiveTimesThenGivesUp) {
  std::vector<absl::Duration> delays = DefaultRunRetryDelays();
  EXPECT_EQ(RunRetryDelay(delays, 1), absl::Seconds(5));
  EXPECT_EQ(RunRetryDelay(delays, 2), absl::Seconds(10));
  EXPECT_EQ(RunRetryDelay(delays, 3), absl::Seconds(20));
  EXPECT_EQ(RunRetryDelay(delays, 4), absl::Seconds(40));
  EXPECT_EQ(RunRetryDelay(delays, 5), absl::Seconds(80));
  EXPECT_EQ(RunRetryDelay(delays, 6), std::nullopt);
}

TEST(DeliveryPolicyTest, ClassifiesGatewayErrorsAndBacksOffToFiveMinutes) {
  EXPECT_TRUE(IsPermanentDeliveryError(absl::FailedPreconditionError("bot was blocked")));
  EXPECT_TRUE(IsPermanentDeliveryError(absl::InvalidArgumentError("bad chat key")));
  EXPECT_FALSE(IsPermanentDeliveryError(absl::UnavailableError("telegram 502")));
  EXPECT_FALSE(IsPermanentDeliveryError(absl::ResourceExhaustedError("retry_after 3")));
  EXPECT_FALSE(IsPermanentDeliveryError(absl::DeadlineExceededError("slow")));
  EXPECT_EQ(DeliveryRetryDelay(1), absl::Seconds(5));
  EXPECT_EQ(DeliveryRetryDelay(3), absl::Seconds(20));
  EXPECT_EQ(DeliveryRetryDelay(7), absl::Minutes(5));
  EXPECT_EQ(DeliveryRetryDelay(20), absl::Minutes(5));
}

}  // namespace
}  // namespace clawdie::router
