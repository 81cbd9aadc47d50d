// Chunker: boundaries in order of preference, code blocks, UTF-16 counting, and a property
// test over random texts (chunks within the limit, concatenation equals the input).
#include "services/gateway/chunker.h"

#include <random>

#include "gtest/gtest.h"
#include "services/gateway/markdown_blocks.h"
#include "services/gateway/utf8.h"

namespace clawdie::gateway {
namespace {

std::string Join(const std::vector<Chunk>& chunks) {
  std::string all;
  for (const Chunk& c : chunks) all += c.text;
  return all;
}

std::vector<std::string> Texts(const std::vector<Chunk>& chunks) {
  std::vector<std::string> out;
  for (const Chunk& c : chunks) out.push_back(c.text);
  return out;
}

TEST(ChunkerTest, ShortTextIsOneChunkAndEmptyIsNone) {
  EXPECT_EQ(Texts(SplitMessage("hello", 10)), std::vector<std::string>{"hello"});
  EXPECT_TRUE(SplitMessage("", 10).empty());
}

TEST(ChunkerTest, PrefersParagraphBreak) {
  EXPECT_EQ(Texts(SplitMessage("aaaa bbbb\n\ncc dd\nee", 16)),
            (std::vector<std::string>{"aaaa bbbb\n\n", "cc dd\nee"}));
}

TEST(ChunkerTest, FallsBackToLineThenSpaceThenHardCut) {
  EXPECT_EQ(Texts(SplitMessage("aaaa bbbb\ncccc dddd", 12)),
            (std::vector<std::string>{"aaaa bbbb\n", "cccc dddd"}));
  EXPECT_EQ(Texts(SplitMessage("aaaa bbbb cccc", 12)),
            (std::vector<std::string>{"aaaa bbbb ", "cccc"}));
  EXPECT_EQ(Texts(SplitMessage("abcdefghijkl", 5)),
            (std::vector<std::string>{"abcde", "fghij", "kl"}));
}

TEST(ChunkerTest, CountsUtf16UnitsAndNeverSplitsASequence) {
  // Each 🎉 is 4 bytes and 2 UTF-16 units; 3 fit in a limit of 7 units.
  std::string party = "🎉🎉🎉🎉🎉";
  std::vector<Chunk> chunks = SplitMessage(party, 7);
  EXPECT_EQ(Texts(chunks), (std::vector<std::string>{"🎉🎉🎉", "🎉🎉"}));
  // "é" is 2 bytes but one unit.
  EXPECT_EQ(Texts(SplitMessage("éééé", 3)), (std::vector<std::string>{"ééé", "é"}));
}

TEST(ChunkerTest, KeepsZeroWidthJoinerSequenceTogether) {
  // 👨‍👩‍👧 is man ZWJ woman ZWJ girl: 8 units. The cut moves before it rather than into
  // it.
  std::string text = "abcd👨‍👩‍👧";
  EXPECT_EQ(Texts(SplitMessage(text, 9)), (std::vector<std::string>{"abcd", "👨‍👩‍👧"}));
}

TEST(ChunkerTest, DoesNotCutInsideCodeBlockWhenItFits) {
  std::string code = "```\nline one\nline two\n```\n";
  std::string text = "intro text here\n\n" + code + "tail";
  std::vector<Chunk> chunks = SplitMessage(text, 30);
  EXPECT_EQ(Texts(chunks), (std::vector<std::string>{"intro text here\n\n", code + "tail"}));
  for (const Chunk& c : chunks) EXPECT_EQ(c.reopen_fence, "");
}

TEST(ChunkerTest, ReopensFenceWhenCodeBlockExceedsLimit) {
  std::string text = "```python\nprint(1)\nprint(2)\nprint(3)\n```";
  std::vector<Chunk> chunks = SplitMessage(text, 20);
  EXPECT_EQ(Join(chunks), text);
  ASSERT_GE(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].text, "```python\nprint(1)\n");
  EXPECT_EQ(chunks[0].reopen_fence, "");
  EXPECT_EQ(chunks[1].reopen_fence, "```python");
}

TEST(MarkdownBlocksTest, FindsFencedBlockRange) {
  std::string text = "a\n```sh\nls\n```\nb";
  std::vector<FencedBlock> blocks = FindFencedBlocks(text);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].begin, 2u);
  EXPECT_EQ(blocks[0].end, 15u);
  EXPECT_EQ(blocks[0].opener, "```sh");
}

// Random texts mixing ASCII words, emoji, combining marks, CJK, long unbroken runs, code
// fences and newlines.
std::string RandomText(std::mt19937* rng) {
  static const std::vector<std::string> kPieces = {"word ",
                                                   "lorem ",
                                                   "ipsum ",
                                                   "\n",
                                                   "\n\n",
                                                   "🎉",
                                                   "👨‍👩‍👧",
                                                   "é",
                                                   "e\u0301",
                                                   "東京",
                                                   "שלום ",
                                                   "```\n",
                                                   "```cpp\n",
                                                   "x = 1;\n",
                                                   " ",
                                                   "a",
                                                   "\t",
                                                   "&<>",
                                                   "\xF0\x9F\x98\x80"};
  std::uniform_int_distribution<size_t> pick(0, kPieces.size() - 1);
  std::uniform_int_distribution<int> count(0, 3000);
  std::uniform_int_distribution<int> run(0, 20);
  std::string text;
  int n = count(*rng);
  for (int i = 0; i < n; ++i) {
    if (run(*rng) == 0) {
      text += std::string(static_cast<size_t>(run(*rng)) * 50, 'z');  // long line, no spaces
    } else {
      text += kPieces[pick(*rng)];
    }
  }
  return text;
}

TEST(ChunkerPropertyTest, ChunksFitAndRejoinExactly) {
  std::mt19937 rng(20240611);
  for (int iteration = 0; iteration < 300; ++iteration) {
    std::string text = RandomText(&rng);
    size_t limit = iteration % 3 == 0 ? kTelegramMessageLimit : 64 + iteration * 7;
    std::vector<Chunk> chunks = SplitMessage(text, limit);
    ASSERT_EQ(Join(chunks), text) << "iteration " << iteration;
    for (const Chunk& c : chunks) {
      ASSERT_FALSE(c.text.empty());
      ASSERT_LE(Utf16Length(c.text), limit) << "iteration " << iteration;
      ASSERT_TRUE(IsCodePointBoundary(text, 0));
    }
    // Every cut lies on a code point boundary of the original text.
    size_t offset = 0;
    for (const Chunk& c : chunks) {
      ASSERT_TRUE(IsCodePointBoundary(text, offset)) << "iteration " << iteration;
      offset += c.text.size();
    }
  }
}

TEST(ChunkerPropertyTest, MalformedUtf8IsSplitWithoutLoss) {
  std::string text;
  for (int i = 0; i < 500; ++i) text += "\xC3\x28\xF0\x9F\x8E ab\xFF";
  std::vector<Chunk> chunks = SplitMessage(text, 100);
  EXPECT_EQ(Join(chunks), text);
  for (const Chunk& c : chunks) EXPECT_LE(Utf16Length(c.text), 100u);
}

}  // namespace
}  // namespace clawdie::gateway
