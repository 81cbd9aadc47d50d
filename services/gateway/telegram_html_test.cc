// Markdown → Telegram HTML: the supported subset, escaping, and chunks that reopen code.
#include "services/gateway/telegram_html.h"

#include "gtest/gtest.h"

namespace clawdie::gateway {
namespace {

TEST(TelegramHtmlTest, RendersInlineStyles) {
  EXPECT_EQ(MarkdownToTelegramHtml("**bold** and *it* and `x<y` and ~~gone~~"),
            "<b>bold</b> and <i>it</i> and <code>x&lt;y</code> and <s>gone</s>");
}

TEST(TelegramHtmlTest, RendersLinksWithEscapedHref) {
  EXPECT_EQ(MarkdownToTelegramHtml("[docs](https://example.org/?a=1&b=\"2\")"),
            "<a href=\"https://example.org/?a=1&amp;b=&quot;2&quot;\">docs</a>");
}

TEST(TelegramHtmlTest, EscapesRawHtmlAndAmpersands) {
  EXPECT_EQ(MarkdownToTelegramHtml("a <b>not bold</b> & <script>"),
            "a &lt;b&gt;not bold&lt;/b&gt; &amp; &lt;script&gt;");
}

TEST(TelegramHtmlTest, RendersCodeBlockWithLanguage) {
  EXPECT_EQ(MarkdownToTelegramHtml("```python\nif a < b:\n    pass\n```"),
            "<pre><code class=\"language-python\">if a &lt; b:\n    pass</code></pre>");
  EXPECT_EQ(MarkdownToTelegramHtml("```\nplain\n```"), "<pre>plain</pre>");
}

TEST(TelegramHtmlTest, SeparatesParagraphsAndKeepsLineBreaks) {
  EXPECT_EQ(MarkdownToTelegramHtml("one\ntwo\n\nthree"), "one\ntwo\n\nthree");
}

TEST(TelegramHtmlTest, RendersListsAsBullets) {
  EXPECT_EQ(MarkdownToTelegramHtml("Shopping:\n\n- milk\n- eggs\n\n1. first\n2. second"),
            "Shopping:\n\n• milk\n• eggs\n\n1. first\n2. second");
}

TEST(TelegramHtmlTest, RendersHeadingAsBoldAndQuote) {
  EXPECT_EQ(MarkdownToTelegramHtml("# Title\n\n> quoted"),
            "<b>Title</b>\n\n<blockquote>quoted</blockquote>");
}

TEST(TelegramHtmlTest, ChunkStartingInsideCodeReopensBlock) {
  Chunk chunk{"print(2)\n```", "```python"};
  EXPECT_EQ(RenderChunkHtml(chunk), "<pre><code class=\"language-python\">print(2)</code></pre>");
}

TEST(TelegramHtmlTest, FixtureAddressTextIsEscapedNotATag) {
  // The fixture's parse error came from "<addr@host>" sent as a raw tag; here it is a link.
  EXPECT_EQ(MarkdownToTelegramHtml("mail me at <addr@host>"),
            "mail me at <a href=\"mailto:addr@host\">addr@host</a>");
}

}  // namespace
}  // namespace clawdie::gateway
