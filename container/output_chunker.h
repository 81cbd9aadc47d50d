// Decides where streamed assistant text is cut into `output` events: at the end of each text
// block (before a tool runs, at the end of the answer), and inside a long block at a paragraph
// break once `soft_limit` bytes are buffered — never inside an `<internal>` block or a code
// fence, so the router can strip and format each event on its own.
//
// Thread-safety: used by one thread.
#ifndef CLAWDIE_CONTAINER_OUTPUT_CHUNKER_H_
#define CLAWDIE_CONTAINER_OUTPUT_CHUNKER_H_

#include <functional>
#include <string>
#include <string_view>

namespace clawdie::agent {

class OutputChunker {
 public:
  using Emit = std::function<void(const std::string&)>;

  explicit OutputChunker(Emit emit, size_t soft_limit = 3000)
      : emit_(std::move(emit)), soft_limit_(soft_limit) {}

  // Adds streamed text; may emit the buffered paragraphs.
  void Append(std::string_view delta);

  // Emits everything buffered (trimmed), unless it is only whitespace.
  void Flush();

  // Drops buffered text that was not emitted (a retried model call streams it again).
  void Discard() { buffer_.clear(); }

 private:
  // The position just after the last paragraph break that is safe to cut at, or 0.
  size_t SafeCut() const;

  Emit emit_;
  size_t soft_limit_;
  std::string buffer_;
};

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_OUTPUT_CHUNKER_H_
