#include "container/sse_parser.h"

#include <filesystem>
#include <fstream>
#include <vector>

#include "container/stream_assembler.h"
#include "gtest/gtest.h"

namespace clawdie::agent {
namespace {

namespace fs = std::filesystem;

std::string ReadWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<SseEvent> ParseInPieces(const std::string& text, std::vector<size_t> cuts) {
  std::vector<SseEvent> events;
  SseParser parser([&](const SseEvent& event) { events.push_back(event); });
  size_t start = 0;
  cuts.push_back(text.size());
  for (size_t cut : cuts) {
    parser.Feed(std::string_view(text).substr(start, cut - start));
    start = cut;
  }
  parser.Finish();
  return events;
}

std::vector<fs::path> StreamFixtures() {
  std::vector<fs::path> files;
  for (const fs::path& dir : {fs::path(CLAWDIE_SHARED_FIXTURES) / "anthropic",
                              fs::path(CLAWDIE_TEST_FIXTURES) / "openai"}) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".sse") files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(SseParserTest, ParsesEventNamesAndData) {
  std::vector<SseEvent> events = ParseInPieces(
      "event: ping\ndata: {\"type\":\"ping\"}\n\n: comment\ndata: a\ndata: b\n\n", {});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], (SseEvent{"ping", "{\"type\":\"ping\"}"}));
  EXPECT_EQ(events[1], (SseEvent{"", "a\nb"}));
}

TEST(SseParserTest, AcceptsCrLfAndCrLineBreaks) {
  std::vector<SseEvent> crlf =
      ParseInPieces("event: x\r\ndata: 1\r\n\r\nevent: y\rdata: 2\r\r", {});
  ASSERT_EQ(crlf.size(), 2u);
  EXPECT_EQ(crlf[0], (SseEvent{"x", "1"}));
  EXPECT_EQ(crlf[1], (SseEvent{"y", "2"}));
}

TEST(SseParserTest, CrLfSplitAcrossReadsIsOneLineBreak) {
  std::string text = "data: 1\r\n\r\ndata: 2\r\n\r\n";
  EXPECT_EQ(ParseInPieces(text, {8}), ParseInPieces(text, {}));
  EXPECT_EQ(ParseInPieces(text, {8}).size(), 2u);
}

TEST(SseParserTest, EventWithoutFinalBlankLineIsDispatchedAtFinish) {
  std::vector<SseEvent> events = ParseInPieces("data: [DONE]", {});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "[DONE]");
}

// Every fixture, split into two reads at every byte boundary (which includes every UTF-8
// sequence and every line break), gives exactly the events of the whole stream.
TEST(SseParserTest, EverySplitPointOfEveryFixtureGivesTheSameEvents) {
  std::vector<fs::path> fixtures = StreamFixtures();
  ASSERT_GE(fixtures.size(), 8u);
  for (const fs::path& fixture : fixtures) {
    std::string text = ReadWhole(fixture);
    std::vector<SseEvent> whole = ParseInPieces(text, {});
    ASSERT_GE(whole.size(), 2u) << fixture;
    for (size_t cut = 1; cut < text.size(); ++cut) {
      ASSERT_EQ(ParseInPieces(text, {cut}), whole) << fixture << " split at " << cut;
    }
  }
}

// One byte per read, and three-way splits at a stride, for good measure.
TEST(SseParserTest, ByteByByteAndThreeWaySplitsGiveTheSameEvents) {
  for (const fs::path& fixture : StreamFixtures()) {
    std::string text = ReadWhole(fixture);
    std::vector<SseEvent> whole = ParseInPieces(text, {});
    std::vector<size_t> every_byte;
    for (size_t i = 1; i < text.size(); ++i) every_byte.push_back(i);
    EXPECT_EQ(ParseInPieces(text, every_byte), whole) << fixture;
    for (size_t a = 1; a < text.size(); a += 13) {
      for (size_t b = a + 1; b < text.size(); b += 17) {
        ASSERT_EQ(ParseInPieces(text, {a, b}), whole) << fixture << " split at " << a << "," << b;
      }
    }
  }
}

// The assembled message does not depend on the split either.
TEST(SseParserTest, AssembledTurnIsTheSameForEverySplit) {
  std::string text = ReadWhole(fs::path(CLAWDIE_SHARED_FIXTURES) / "anthropic/tool_use_bash.sse");
  auto assemble = [&](size_t cut) {
    AnthropicStreamAssembler assembler(TextSink{});
    SseParser parser([&](const SseEvent& event) { assembler.OnEvent(event); });
    parser.Feed(std::string_view(text).substr(0, cut));
    parser.Feed(std::string_view(text).substr(cut));
    parser.Finish();
    EXPECT_TRUE(assembler.complete());
    return assembler.TakeTurn().content;
  };
  nlohmann::json whole = assemble(text.size());
  for (size_t cut = 0; cut < text.size(); ++cut) ASSERT_EQ(assemble(cut), whole) << cut;
}

}  // namespace
}  // namespace clawdie::agent
