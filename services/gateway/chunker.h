// Splits an outgoing reply into chunks Telegram (and WhatsApp) accept: each at most `limit`
// UTF-16 code units, cut at the last paragraph break, else line break, else space, else a
// hard cut, never inside a UTF-8 sequence and, where any other cut exists, never inside a
// fenced code block. Concatenating the chunks' texts gives back the input byte for byte.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_GATEWAY_CHUNKER_H_
#define CLAWDIE_SERVICES_GATEWAY_CHUNKER_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

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

// How far the delivery of one chunked reply got, shared between a sender and its caller so
// that a retry resumes where an earlier attempt stopped (chunk_ledger.h).
struct ChunkProgress {
  // Platform ids of the reply's first chunks, delivered by an earlier attempt; the sender
  // skips those chunks (and the reply-to, which went with the first chunk).
  std::vector<std::string> delivered;
  // When set, called after each chunk went out with the ids of every chunk delivered so far
  // and the reply's number of chunks.
  std::function<void(const std::vector<std::string>& ids, size_t total)> on_chunk;
  // When set, called before the chunk after `ids` is first handed to the platform.
  std::function<void(const std::vector<std::string>& ids)> on_sending;
};

// `cause` with the chunks that went out before it named at the end ("…; 1 of 3 chunks were
// delivered before the failure: 2001"), so a partial delivery is visible in the error the
// router records. `cause` itself when none went out.
absl::Status WithDeliveredChunks(const absl::Status& cause, const std::vector<std::string>& ids,
                                 size_t total);

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_CHUNKER_H_
