// Incremental parser for server-sent events (the WHATWG `text/event-stream` format) as the
// Anthropic Messages API and OpenAI-compatible servers stream them. Bytes may arrive split at
// any point, including inside a UTF-8 sequence or between the CR and LF of a line break.
//
// Thread-safety: a parser holds per-stream state; use one per stream from one thread.
#ifndef CLAWDIE_CONTAINER_SSE_PARSER_H_
#define CLAWDIE_CONTAINER_SSE_PARSER_H_

#include <functional>
#include <string>
#include <string_view>

namespace clawdie::agent {

// One dispatched event: the `event:` field (empty when absent) and the `data:` lines joined
// with "\n".
struct SseEvent {
  std::string event;
  std::string data;

  bool operator==(const SseEvent&) const = default;
};

class SseParser {
 public:
  using EventCallback = std::function<void(const SseEvent&)>;

  explicit SseParser(EventCallback on_event) : on_event_(std::move(on_event)) {}

  // Consumes `bytes`, calling the callback for every event completed by a blank line.
  void Feed(std::string_view bytes);

  // Dispatches an event still pending at end of stream (a stream that ends without the final
  // blank line). Returns true if such an event was dispatched.
  bool Finish();

  // Total bytes fed so far.
  size_t bytes_fed() const { return bytes_fed_; }

 private:
  void ProcessLine(std::string_view line);
  void Dispatch();

  EventCallback on_event_;
  std::string line_;
  std::string event_;
  std::string data_;
  bool has_data_ = false;
  bool last_was_cr_ = false;
  size_t bytes_fed_ = 0;
};

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_SSE_PARSER_H_
