// Splits an outgoing reply into chunks Telegram (and WhatsApp) accept: each at most `limit`
// UTF-16 code units, cut at the last paragraph break, else line break, else space, else a
// hard cut, never inside a UTF-8 sequence and, where any other cut exists, never inside a
// fenced code block. Concatenating the chunks' texts gives back the input byte for byte.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_GATEWAY_CHUNKER_H_
#define CLAWDIE_SERVICES_GATEWAY_CHUNKER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace clawdie::gateway {

inline constexpr size_t kTelegramMessageLimit = 4096;

struct Chunk {
  std::string text;
  // When a code block longer than the limit had to be cut, the chunk after the cut starts
  // inside it; this holds the block's opening fence line (e.g. "```python") so the renderer
  // can reopen the block. Empty otherwise.
  std::string reopen_fence;
};

// Splits `text`. An empty text gives no chunks. `limit` must be at least 2 (one code point
// above U+FFFF takes two units).
std::vector<Chunk> SplitMessage(std::string_view text, size_t limit = kTelegramMessageLimit);

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_CHUNKER_H_
