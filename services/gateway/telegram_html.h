// Renders the model's Markdown as Telegram's HTML subset (bold, italic, strikethrough,
// inline code, code blocks with language, links, block quotes; lists as bullets) with md4c.
// Everything else is text, escaped so Telegram shows it literally.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_GATEWAY_TELEGRAM_HTML_H_
#define CLAWDIE_SERVICES_GATEWAY_TELEGRAM_HTML_H_

#include <string>
#include <string_view>

#include "services/gateway/chunker.h"

namespace clawdie::gateway {

// Escapes &, < and > (and " for attributes) for Telegram HTML.
std::string EscapeTelegramHtml(std::string_view text);

// Renders Markdown to Telegram HTML. The visible text never gets longer than the source,
// so a chunk within the limit stays within it.
std::string MarkdownToTelegramHtml(std::string_view markdown);

// Renders one chunk of a split reply, reopening a code block the chunk starts inside.
std::string RenderChunkHtml(const Chunk& chunk);

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_TELEGRAM_HTML_H_
