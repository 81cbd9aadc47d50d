#include "services/router/trigger.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace clawdie::router {
namespace {

std::string ReadFixture(const std::string& relative) {
  const std::string path = std::string(CLAWDIE_SHARED_FIXTURES) + "/" + relative;
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Returns the case names of the Telegram fixture updates whose text or caption
// starts with `trigger`.
std::set<std::string> FixtureCasesMatching(const std::string& trigger) {
  const nlohmann::json cases =
      nlohmann::json::parse(ReadFixture("telegram/updates.json"), nullptr, false);
  EXPECT_FALSE(cases.is_discarded());
  EXPECT_EQ(cases.size(), 16u);
  std::set<std::string> matching;
  for (const nlohmann::json& c : cases) {
    for (const char* kind : {"message", "edited_message", "channel_post"}) {
      const nlohmann::json& update = c.at("update");
      if (!update.contains(kind)) continue;
      const nlohmann::json& message = update.at(kind);
      const std::string text = message.value("text", message.value("caption", ""));
      if (MatchesTrigger(text, trigger)) matching.insert(c.at("case").get<std::string>());
    }
  }
  return matching;
}

TEST(MatchesTriggerTest, MatchesAtTheStartIgnoringCase) {
  for (const std::string text :
       {"@Andy hi", "@andy hi", "@ANDY, hi", "@Andy", "@Andy: hi", "@Andy!", "@Andy?",
        "@Andy's turn", "@Andy.", "@Andy\thi", "@Andy\nhi", "@Andy-ish", "@Andy(hi)"}) {
    EXPECT_TRUE(MatchesTrigger(text, "@Andy")) << text;
  }
}

TEST(MatchesTriggerTest, IgnoresSurroundingWhitespaceOfTextAndTrigger) {
  EXPECT_TRUE(MatchesTrigger("   @Andy what?", "@Andy"));
  EXPECT_TRUE(MatchesTrigger("\n\t@Andy what?", "@Andy"));
  EXPECT_TRUE(MatchesTrigger("\u00a0\u3000@Andy what?", "@Andy"));  // no-break, ideographic
  EXPECT_TRUE(MatchesTrigger("@Andy hi", "  @Andy "));
}

TEST(MatchesTriggerTest, RequiresAWordBoundaryAfterTheTrigger) {
  for (const std::string text :
       {"@Andyx", "@Andy_bot", "@Andy2", "@Andyé", "@Andyש", "@Andy東京", "@Andy\u0301 hi"}) {
    EXPECT_FALSE(MatchesTrigger(text, "@Andy")) << text;
  }
  for (const std::string text : {"@Andy\u00a0hi", "@Andy\u2014hi", "@Andy…", "@Andy🎉",
                                 "@Andy\u3001hi", "@Andy\u201chi\u201d"}) {
    EXPECT_TRUE(MatchesTrigger(text, "@Andy")) << text;
  }
}

TEST(MatchesTriggerTest, OnlyMatchesAtTheStart) {
  EXPECT_FALSE(MatchesTrigger("hi @Andy", "@Andy"));
  EXPECT_FALSE(MatchesTrigger("Andy hi", "@Andy"));
  EXPECT_FALSE(MatchesTrigger("@And", "@Andy"));
  EXPECT_FALSE(MatchesTrigger("", "@Andy"));
  EXPECT_FALSE(MatchesTrigger("   ", "@Andy"));
}

TEST(MatchesTriggerTest, EmptyTriggerMatchesNothing) {
  EXPECT_FALSE(MatchesTrigger("@Andy hi", ""));
  EXPECT_FALSE(MatchesTrigger("@Andy hi", "  "));
  EXPECT_FALSE(MatchesTrigger("", ""));
}

TEST(MatchesTriggerTest, TreatsRegexMetacharactersLiterally) {
  EXPECT_TRUE(MatchesTrigger("a.b hi", "a.b"));
  EXPECT_FALSE(MatchesTrigger("axb hi", "a.b"));
  EXPECT_TRUE(MatchesTrigger("(bot)+ go", "(bot)+"));
  EXPECT_FALSE(MatchesTrigger("botbot go", "(bot)+"));
  EXPECT_FALSE(MatchesTrigger("bot go", "(bot)+"));
  EXPECT_TRUE(MatchesTrigger("\\d go", "\\d"));
  EXPECT_FALSE(MatchesTrigger("5 go", "\\d"));
  EXPECT_TRUE(MatchesTrigger("[x] go", "[x]"));
  EXPECT_FALSE(MatchesTrigger("x go", "[x]"));
  EXPECT_TRUE(MatchesTrigger("* go", "*"));
  EXPECT_FALSE(MatchesTrigger("anything", ".*"));
  EXPECT_TRUE(MatchesTrigger("^Andy$ go", "^Andy$"));
  EXPECT_FALSE(MatchesTrigger("Andy go", "^Andy$"));
}

TEST(MatchesTriggerTest, TriggerEndingInPunctuationNeedsNoBoundary) {
  EXPECT_TRUE(MatchesTrigger("Hey Andy!what", "Hey Andy!"));
  EXPECT_TRUE(MatchesTrigger("hey andy: what", "Hey Andy:"));
  EXPECT_FALSE(MatchesTrigger("Hey Andy what", "Hey Andy!"));
}

TEST(MatchesTriggerTest, FoldsCaseOutsideAscii) {
  EXPECT_TRUE(MatchesTrigger("@åsa hej", "@Åsa"));
  EXPECT_TRUE(MatchesTrigger("@ÅSA hej", "@åsa"));
  EXPECT_TRUE(MatchesTrigger("@маша привет", "@Маша"));
  EXPECT_TRUE(MatchesTrigger("@ΣΟΦΊΑ γεια", "@Σοφία"));
  EXPECT_TRUE(MatchesTrigger("@ŁUKASZ cześć", "@łukasz"));
  EXPECT_TRUE(MatchesTrigger("@ＡＮＤＹ hi", "@ａｎｄｙ"));
  EXPECT_FALSE(MatchesTrigger("@Ásа hej", "@Åsa"));  // different letters
}

TEST(MatchesTriggerTest, ComparesInvalidUtf8ByteForByte) {
  EXPECT_TRUE(MatchesTrigger("@Andy \xff\xfe", "@Andy"));
  EXPECT_FALSE(MatchesTrigger("\xff@Andy", "@Andy"));
  EXPECT_TRUE(MatchesTrigger("\xc3 go", "\xc3"));
  EXPECT_FALSE(MatchesTrigger("\xc4 go", "\xc3"));
  EXPECT_FALSE(MatchesTrigger("@Andy\xc3", "@Andy"));  // a cut-off letter continues the word
}

TEST(MatchesTriggerTest, TelegramFixtureTextsTriggerOnlyWhereTheyStartWithTheTrigger) {
  EXPECT_EQ(FixtureCasesMatching("@Andy"), (std::set<std::string>{"group_trigger_word"}));
  // Bot mentions anywhere are the gateway's "mentioned" flag, not a trigger match.
  EXPECT_EQ(FixtureCasesMatching("@andy_home_bot"), (std::set<std::string>{"forum_topic_mention"}));
  EXPECT_EQ(FixtureCasesMatching("remind me"),
            (std::set<std::string>{"private_text", "edited_message", "duplicate_delivery"}));
  EXPECT_EQ(FixtureCasesMatching("plan"), (std::set<std::string>{"unicode_text"}));
}

TEST(StripInternalTest, RemovesTheInternalBlockOfARealStream) {
  // Concatenate the text deltas of the fixture stream, as the router receives them.
  std::string output;
  std::istringstream stream(ReadFixture("anthropic/internal_and_text.sse"));
  std::string line;
  while (std::getline(stream, line)) {
    if (line.rfind("data: ", 0) != 0) continue;
    const nlohmann::json event = nlohmann::json::parse(line.substr(6), nullptr, false);
    ASSERT_FALSE(event.is_discarded()) << line;
    if (event.value("type", "") != "content_block_delta") continue;
    if (event.at("delta").value("type", "") == "text_delta") {
      output += event.at("delta").at("text").get<std::string>();
    }
  }
  ASSERT_EQ(output,
            "<internal>checked the calendar file first</internal>Nothing is planned for Sunday.");
  EXPECT_EQ(StripInternal(output), "Nothing is planned for Sunday.");
}

TEST(StripInternalTest, RemovesEveryBlockAcrossLines) {
  EXPECT_EQ(StripInternal("<internal>plan:\n1. look\n2. answer\n</internal>\n\nHello!\n"
                          "<internal>done</internal>"),
            "Hello!");
  EXPECT_EQ(StripInternal("A <internal>x</internal>B<internal>y</internal> C"), "A B C");
}

TEST(StripInternalTest, UnclosedBlockHidesTheRest) {
  EXPECT_EQ(StripInternal("Visible.\n<internal>thinking about\nthe rest"), "Visible.");
  EXPECT_EQ(StripInternal("<internal>never closed"), "");
}

TEST(StripInternalTest, HandlesNestingStrayClosersAndTagCase) {
  EXPECT_EQ(StripInternal("a<internal>1<internal>2</internal>3</internal>b"), "ab");
  EXPECT_EQ(StripInternal("a</internal>b"), "ab");
  EXPECT_EQ(StripInternal("a<INTERNAL>x</Internal>b"), "ab");
}

TEST(StripInternalTest, KeepsOtherTextAsIsButTrimmed) {
  EXPECT_EQ(StripInternal("  Plan för lördag 🎉 <b>bold</b> <internalx>  \n"),
            "Plan för lördag 🎉 <b>bold</b> <internalx>");
  EXPECT_EQ(StripInternal("<internal>only notes</internal>\n  "), "");
  EXPECT_EQ(StripInternal(""), "");
}

TEST(FitReplyTest, KeepsShortRepliesAndCutsLongOnesAtACharacterWithANote) {
  EXPECT_EQ(FitReply("short", 1024), "short");
  std::string exact(1024, 'a');
  EXPECT_EQ(FitReply(exact, 1024), exact);

  std::string cyrillic;
  for (int i = 0; i < 2000; ++i) cyrillic += "ж";  // two bytes each
  std::string cut = FitReply(cyrillic, 1001);
  EXPECT_LE(cut.size(), 1001u);
  std::string note = "\n\n[The reply was cut here: it was 4000 bytes, over the limit of 1001.]";
  ASSERT_GT(cut.size(), note.size());
  EXPECT_EQ(cut.substr(cut.size() - note.size()), note);
  std::string kept = cut.substr(0, cut.size() - note.size());
  EXPECT_EQ(kept.size() % 2, 0u);  // whole characters only
  EXPECT_EQ(cyrillic.compare(0, kept.size(), kept), 0);
  EXPECT_GE(kept.size(), 1001u - note.size() - 1);
}

}  // namespace
}  // namespace clawdie::router
