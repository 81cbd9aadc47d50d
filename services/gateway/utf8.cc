// UTF-8 / UTF-16 counting; see utf8.h.
#include "services/gateway/utf8.h"

namespace clawdie::gateway {
namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Expected sequence length from the lead byte, 0 for a byte that cannot lead.
size_t LeadLength(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

}  // namespace

size_t Utf8SequenceLength(std::string_view text, size_t pos) {
  size_t len = LeadLength(static_cast<unsigned char>(text[pos]));
  if (len == 0 || pos + len > text.size()) return 1;
  for (size_t i = 1; i < len; ++i) {
    if (!IsContinuation(static_cast<unsigned char>(text[pos + i]))) return 1;
  }
  return len;
}

size_t Utf16UnitsAt(std::string_view text, size_t pos) {
  return Utf8SequenceLength(text, pos) == 4 ? 2 : 1;
}

char32_t CodePointAt(std::string_view text, size_t pos) {
  size_t len = Utf8SequenceLength(text, pos);
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  if (len == 1) return byte(0) < 0x80 ? byte(0) : 0xFFFD;
  char32_t cp = byte(0) & (0xFF >> (len + 1));
  for (size_t i = 1; i < len; ++i) cp = (cp << 6) | (byte(i) & 0x3F);
  return cp;
}

size_t Utf16Length(std::string_view text) {
  size_t units = 0;
  for (size_t pos = 0; pos < text.size(); pos += Utf8SequenceLength(text, pos)) {
    units += Utf16UnitsAt(text, pos);
  }
  return units;
}

size_t ByteOffsetOfUtf16(std::string_view text, size_t units) {
  size_t pos = 0;
  size_t seen = 0;
  while (pos < text.size() && seen < units) {
    seen += Utf16UnitsAt(text, pos);
    pos += Utf8SequenceLength(text, pos);
  }
  return pos;
}

bool IsCodePointBoundary(std::string_view text, size_t pos) {
  if (pos == 0 || pos >= text.size()) return true;
  if (!IsContinuation(static_cast<unsigned char>(text[pos]))) return true;
  // A continuation byte is a boundary only if it is not part of a valid sequence.
  size_t start = pos;
  while (start > 0 && pos - start < 3 && IsContinuation(static_cast<unsigned char>(text[start]))) {
    --start;
  }
  return start + Utf8SequenceLength(text, start) <= pos;
}

}  // namespace clawdie::gateway
