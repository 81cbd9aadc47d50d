#include "container/output_chunker.h"

namespace clawdie::agent {
namespace {

size_t Count(std::string_view text, std::string_view needle) {
  size_t count = 0;
  for (size_t pos = text.find(needle); pos != std::string_view::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

std::string Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

}  // namespace

void OutputChunker::Append(std::string_view delta) {
  buffer_.append(delta);
  // Only a new line break can create a new place to cut.
  if (buffer_.size() < soft_limit_ || delta.find('\n') == std::string_view::npos) return;
  size_t cut = SafeCut();
  if (cut == 0) return;
  std::string head = Trim(std::string_view(buffer_).substr(0, cut));
  buffer_.erase(0, cut);
  if (!head.empty()) emit_(head);
}

void OutputChunker::Flush() {
  std::string text = Trim(buffer_);
  buffer_.clear();
  if (!text.empty()) emit_(text);
}

size_t OutputChunker::SafeCut() const {
  std::string_view text(buffer_);
  for (size_t pos = text.rfind("\n\n"); pos != std::string_view::npos && pos > 0;
       pos = text.rfind("\n\n", pos - 1)) {
    std::string_view before = text.substr(0, pos);
    bool in_internal = Count(before, "<internal>") > Count(before, "</internal>");
    bool in_fence = Count(before, "```") % 2 == 1;
    if (!in_internal && !in_fence) return pos + 2;
  }
  return 0;
}

}  // namespace clawdie::agent
