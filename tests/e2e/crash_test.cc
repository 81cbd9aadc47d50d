// Crash test through every real binary: 100 messages flow through 10 Telegram chats while
// each service in turn is killed with SIGKILL and started again. Afterwards every inbound
// message is stored once, every message was answered exactly once, and no reply went out
// twice — except one the gateway announced it was sending again because it was killed while
// Telegram had it (no platform offers an idempotent send).
//
// Each message carries a token "m<chat>-<n>" and the test model server answers "ack" followed
// by the tokens of the turn it was given, so every sendMessage names the messages it answers.
#include <algorithm>
#include <cstdio>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "gtest/gtest.h"
#include "tests/e2e/e2e_system.h"

namespace clawdie::e2e {
namespace {

constexpr int kChats = 10;
constexpr int kMessagesPerChat = 10;
constexpr int64_t kFirstChatId = 5100000001;

std::string Token(int chat, int n) { return absl::StrCat("m", chat, "-", n); }

nlohmann::json Update(int64_t update_id, int chat, int n) {
  int64_t chat_id = kFirstChatId + chat;
  return {
      {"update_id", update_id},
      {"message",
       {{"message_id", 100 + n},
        {"from", {{"id", chat_id}, {"is_bot", false}, {"first_name", absl::StrCat("User", chat)}}},
        {"chat", {{"id", chat_id}, {"type", "private"}, {"first_name", "User"}}},
        {"date", absl::ToUnixSeconds(absl::Now())},
        {"text", absl::StrCat("note ", Token(chat, n), " please")}}}};
}

using Sent = std::vector<std::pair<int64_t, std::string>>;

// The replies sent, less one copy of each reply the gateway said it sent again because it was
// killed while the platform had it (docs/gateway.md, "Partial delivery"): Telegram has no
// idempotent send, so that one repeat is the documented cost of never losing a reply. Any
// other repeat stays in the list and fails the test.
Sent SentLessAnnouncedRepeats(const System& system, std::vector<std::string>* announced) {
  Sent sent = system.SentMessages();
  static const std::regex resent(
      "outbox ([0-9]+) to tg:([0-9]+): chunk [0-9]+ may have reached the chat before the "
      "gateway stopped");
  std::string log = system.Log("gateway");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), resent); it != std::sregex_iterator();
       ++it) {
    auto rows = system.Query(absl::StrCat("SELECT text FROM outbox WHERE id = ", (*it)[1].str()));
    if (rows.size() != 1) continue;
    std::pair<int64_t, std::string> reply{std::stoll((*it)[2].str()), rows[0]["text"]};
    if (std::count(sent.begin(), sent.end(), reply) < 2) continue;  // it had not arrived
    sent.erase(std::find(sent.begin(), sent.end(), reply));
    if (announced != nullptr) announced->push_back(reply.second);
  }
  return sent;
}

// Every token named in `sent`, with how often it was answered.
std::map<std::string, int> AnsweredTokens(const Sent& sent, std::vector<std::string>* bare) {
  static const std::regex token("m[0-9]+-[0-9]+");
  std::map<std::string, int> answered;
  for (const auto& [chat, text] : sent) {
    bool any = false;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), token);
         it != std::sregex_iterator(); ++it) {
      ++answered[it->str()];
      any = true;
    }
    if (!any && bare != nullptr) bare->push_back(absl::StrCat(chat, ": ", text));
  }
  return answered;
}

TEST(CrashTest, KillingEachServiceLosesAndDuplicatesNothing) {
  SystemOptions options;
  options.model_script.ack_pattern = "m[0-9]+-[0-9]+";
  options.config["MAX_CONCURRENT_AGENTS"] = "10";
  System system(options);
  absl::Status started = system.Start();
  ASSERT_TRUE(started.ok()) << started;
  for (int c = 0; c < kChats; ++c) {
    ASSERT_TRUE(system
                    .RegisterGroup(absl::StrCat("tg:", kFirstChatId + c), absl::StrCat("chat", c),
                                   false, false)
                    .ok());
  }

  // Each chat sends its next message once the previous one was answered, so messages keep
  // flowing through all ten chats; after every 20 messages sent, the next service is killed.
  const std::vector<std::string> victims = {"store", "broker", "router", "gateway"};
  size_t next_victim = 0;
  std::vector<int> sent(kChats, 0);
  int64_t update_id = 900000;
  int total_sent = 0;
  absl::Time deadline = absl::Now() + absl::Seconds(400);
  while (absl::Now() < deadline) {
    std::map<std::string, int> answered = AnsweredTokens(system.SentMessages(), nullptr);
    bool all_done = true;
    for (int c = 0; c < kChats; ++c) {
      if (sent[c] > 0 && answered.count(Token(c, sent[c] - 1)) == 0) {
        all_done = false;
        continue;
      }
      if (sent[c] == kMessagesPerChat) continue;
      all_done = false;
      system.DeliverUpdate(Update(++update_id, c, sent[c]++));
      ++total_sent;
      if (total_sent % 20 == 0 && next_victim < victims.size()) {
        const std::string& victim = victims[next_victim++];
        absl::Status restarted = system.Restart(victim);
        ASSERT_TRUE(restarted.ok()) << "restarting " << victim << ": " << restarted;
      }
    }
    if (all_done) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(next_victim, victims.size()) << "not every service was killed";

  // Let retries and late duplicates (if any) arrive before counting.
  absl::SleepFor(absl::Seconds(3));
  std::vector<std::string> announced;
  Sent sent_replies = SentLessAnnouncedRepeats(system, &announced);
  EXPECT_LE(announced.size(), static_cast<size_t>(kChats))
      << "more replies in doubt than one per chat at the gateway's kill";
  for (const std::string& text : announced) {
    std::printf("accepted one announced repeat after the gateway's kill: %s\n", text.c_str());
  }
  std::vector<std::string> bare;
  std::map<std::string, int> answered = AnsweredTokens(sent_replies, &bare);
  for (int c = 0; c < kChats; ++c) {
    for (int n = 0; n < kMessagesPerChat; ++n) {
      const std::string token = Token(c, n);
      EXPECT_EQ(answered[token], n < sent[c] ? 1 : 0) << token << " answered that many times";
      auto stored = system.Query(
          absl::StrCat("SELECT count(*) AS n FROM messages WHERE chat_jid = 'tg:", kFirstChatId + c,
                       "' AND platform_id = '", 100 + n, "' AND from_bot = 0 AND is_own = 0"));
      ASSERT_EQ(stored.size(), 1u);
      EXPECT_EQ(stored[0]["n"], "1") << token << " stored that many times";
    }
  }
  EXPECT_EQ(total_sent, kChats * kMessagesPerChat)
      << "the flow stalled; the services' logs are in " << system.dir();
  EXPECT_TRUE(bare.empty()) << "replies that answer no message, e.g. " << bare.front();

  // No reply text went out twice to the same chat.
  std::set<std::pair<int64_t, std::string>> distinct;
  for (const auto& reply : sent_replies) {
    EXPECT_TRUE(distinct.insert(reply).second)
        << "sent twice to " << reply.first << ": " << reply.second;
  }
  auto inbound = system.Query(absl::StrCat(
      "SELECT count(*) AS n FROM messages WHERE chat_jid LIKE 'tg:51%' AND from_bot = 0 AND "
      "is_own = 0"));
  ASSERT_EQ(inbound.size(), 1u);
  EXPECT_EQ(inbound[0]["n"], std::to_string(kChats * kMessagesPerChat));
}

}  // namespace
}  // namespace clawdie::e2e
