// Locates fenced code blocks in Markdown source with md4c, so the chunker can avoid cutting
// inside them. Byte ranges refer to the input text.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_GATEWAY_MARKDOWN_BLOCKS_H_
#define CLAWDIE_SERVICES_GATEWAY_MARKDOWN_BLOCKS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace clawdie::gateway {

// md4c dialect shared by the renderer and the chunker so both see the same blocks.
unsigned TelegramMarkdownFlags();

struct FencedBlock {
  size_t begin = 0;    // start of the opening fence line
  size_t end = 0;      // end of the closing fence line (or of the text when unclosed)
  std::string opener;  // the fence and info string, e.g. "```python"
};

// Fenced code blocks with at least one content line, in document order.
std::vector<FencedBlock> FindFencedBlocks(std::string_view text);

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_MARKDOWN_BLOCKS_H_
