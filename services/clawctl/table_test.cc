#include "services/clawctl/table.h"

#include "gtest/gtest.h"

namespace clawdie::clawctl {
namespace {

TEST(TableTest, AlignsColumnsAndTrimsTrailingBlanks) {
  Table table({"ID", "NAME", "NOTE"});
  table.AddRow({"1", "family", ""});
  table.AddRow({"12", "x", "hello"});
  EXPECT_EQ(table.Render(),
            "ID  NAME    NOTE\n"
            "1   family\n"
            "12  x       hello\n");
}

TEST(TableTest, CountsCodePointsNotBytesForWidth) {
  Table table({"A", "B"});
  table.AddRow({"Åsa", "1"});
  table.AddRow({"Bob", "2"});
  EXPECT_EQ(table.Render(),
            "A    B\n"
            "Åsa  1\n"
            "Bob  2\n");
}

TEST(TableTest, PadsMissingCellsAndDropsExtraCells) {
  Table table({"A", "B"});
  table.AddRow({"only"});
  table.AddRow({"1", "2", "3"});
  EXPECT_EQ(table.Render(), "A     B\nonly\n1     2\n");
  EXPECT_EQ(table.row_count(), 2u);
}

TEST(OneLineTest, ReplacesControlCharactersWithSpaces) { EXPECT_EQ(OneLine("a\nb\tc"), "a b c"); }

TEST(OneLineTest, CutsLongTextWithEllipsisAtCodePointBoundary) {
  EXPECT_EQ(OneLine("abcdef", 4), "abc…");
  EXPECT_EQ(OneLine("äöüßé", 3), "äö…");
  EXPECT_EQ(OneLine("abc", 3), "abc");
  EXPECT_EQ(OneLine("abcdef", 0), "abcdef");
}

TEST(CodePointCountTest, CountsMultiByteCharactersOnce) {
  EXPECT_EQ(CodePointCount(""), 0u);
  EXPECT_EQ(CodePointCount("abc"), 3u);
  EXPECT_EQ(CodePointCount("日本"), 2u);
}

}  // namespace
}  // namespace clawdie::clawctl
