// Message splitting; see chunker.h.
#include "services/gateway/chunker.h"

#include <cstdint>

#include "services/gateway/markdown_blocks.h"
#include "services/gateway/utf8.h"

namespace clawdie::gateway {
namespace {

class Splitter {
 public:
  Splitter(std::string_view text, size_t limit)
      : text_(text), limit_(limit), fences_(FindFencedBlocks(text)) {
    BuildPrefix();
  }

  std::vector<Chunk> Split() {
    std::vector<Chunk> chunks;
    size_t pos = 0;
    while (pos < text_.size()) {
      size_t window_end = WindowEnd(pos);
      size_t cut = window_end == text_.size() ? window_end : ChooseCut(pos, window_end);
      chunks.push_back({std::string(text_.substr(pos, cut - pos)), ReopenFence(pos)});
      pos = cut;
    }
    return chunks;
  }

 private:
  // units_[i] = UTF-16 units of text_[0, i) for every code point boundary i.
  void BuildPrefix() {
    units_.assign(text_.size() + 1, 0);
    size_t count = 0;
    for (size_t pos = 0; pos < text_.size();) {
      size_t len = Utf8SequenceLength(text_, pos);
      count += Utf16UnitsAt(text_, pos);
      for (size_t i = 1; i <= len; ++i) units_[pos + i] = count;
      pos += len;
    }
  }

  size_t Units(size_t from, size_t to) const { return units_[to] - units_[from]; }

  // The furthest code point boundary whose chunk from `pos` fits the limit.
  size_t WindowEnd(size_t pos) const {
    size_t end = pos;
    while (end < text_.size()) {
      size_t next = end + Utf8SequenceLength(text_, end);
      if (Units(pos, next) > limit_) break;
      end = next;
    }
    return end;
  }

  const FencedBlock* FenceAround(size_t pos) const {
    for (const FencedBlock& f : fences_) {
      if (f.begin < pos && pos < f.end) return &f;
    }
    return nullptr;
  }

  std::string ReopenFence(size_t pos) const {
    const FencedBlock* f = FenceAround(pos);
    return f == nullptr ? "" : f->opener;
  }

  bool EndsWith(size_t p, std::string_view sep) const {
    return p >= sep.size() && text_.substr(p - sep.size(), sep.size()) == sep;
  }

  // The last cut after `sep` in (pos, window_end] meeting the constraints, or 0.
  size_t LastCutAfter(std::string_view sep, size_t pos, size_t window_end, bool allow_in_code,
                      size_t min_units) const {
    for (size_t p = window_end; p > pos; --p) {
      if (Units(pos, p) < min_units) break;
      if (!EndsWith(p, sep)) continue;
      if (!allow_in_code && FenceAround(p) != nullptr) continue;
      return p;
    }
    return 0;
  }

  size_t ChooseCut(size_t pos, size_t window_end) const {
    static constexpr std::string_view kSeparators[] = {"\n\n", "\n", " "};
    for (bool allow_in_code : {false, true}) {
      // Prefer chunks that fill at least half the limit before settling for short ones.
      for (size_t min_units : {limit_ / 2, size_t{1}}) {
        for (std::string_view sep : kSeparators) {
          size_t cut = LastCutAfter(sep, pos, window_end, allow_in_code, min_units);
          if (cut != 0) return cut;
        }
      }
    }
    return HardCut(pos, window_end);
  }

  static bool JoinsPrevious(char32_t cp) {
    return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
           (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
           (cp >= 0xFE20 && cp <= 0xFE2F) || cp == 0x200D || (cp >= 0x1F3FB && cp <= 0x1F3FF) ||
           (cp >= 0xE0020 && cp <= 0xE007F);
  }

  size_t PreviousBoundary(size_t p) const {
    do {
      --p;
    } while (p > 0 && !IsCodePointBoundary(text_, p));
    return p;
  }

  // Cuts at window_end, moved back (a little) so a combining mark, variation selector or
  // zero-width joiner sequence stays with its base character.
  size_t HardCut(size_t pos, size_t window_end) const {
    size_t cut = window_end;
    for (int steps = 0; steps < 32 && cut > pos; ++steps) {
      size_t prev = PreviousBoundary(cut);
      bool glued = JoinsPrevious(CodePointAt(text_, cut)) || CodePointAt(text_, prev) == 0x200D;
      if (!glued) return cut;
      if (prev <= pos) break;
      cut = prev;
    }
    return window_end;
  }

  std::string_view text_;
  size_t limit_;
  std::vector<FencedBlock> fences_;
  std::vector<size_t> units_;
};

}  // namespace

std::vector<Chunk> SplitMessage(std::string_view text, size_t limit) {
  if (limit < 2) limit = 2;
  return Splitter(text, limit).Split();
}

absl::Status WithDeliveredChunks(const absl::Status& cause, const std::vector<std::string>& ids,
                                 size_t total) {
  if (cause.ok() || ids.empty()) return cause;
  std::string list;
  for (const std::string& id : ids) list += (list.empty() ? "" : ", ") + id;
  return absl::Status(cause.code(), std::string(cause.message()) + "; " +
                                        std::to_string(ids.size()) + " of " +
                                        std::to_string(total) +
                                        " chunks were delivered before the failure: " + list);
}

}  // namespace clawdie::gateway
