#include "container/sse_parser.h"

namespace clawdie::agent {

void SseParser::Feed(std::string_view bytes) {
  bytes_fed_ += bytes.size();
  for (char c : bytes) {
    // A CR ends a line; an LF right after it belongs to the same line break.
    if (c == '\n' && last_was_cr_) {
      last_was_cr_ = false;
      continue;
    }
    last_was_cr_ = (c == '\r');
    if (c == '\r' || c == '\n') {
      ProcessLine(line_);
      line_.clear();
    } else {
      line_.push_back(c);
    }
  }
}

bool SseParser::Finish() {
  if (!line_.empty()) {
    ProcessLine(line_);
    line_.clear();
  }
  if (!has_data_) return false;
  Dispatch();
  return true;
}

void SseParser::ProcessLine(std::string_view line) {
  if (line.empty()) {
    if (has_data_) Dispatch();
    event_.clear();
    return;
  }
  if (line.front() == ':') return;  // comment

  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }

  if (field == "event") {
    event_.assign(value);
  } else if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  }
  // `id` and `retry` do not matter for a single POST response and are ignored.
}

void SseParser::Dispatch() {
  SseEvent event{std::move(event_), std::move(data_)};
  event_.clear();
  data_.clear();
  has_data_ = false;
  on_event_(event);
}

}  // namespace clawdie::agent
