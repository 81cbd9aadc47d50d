#include "services/router/trigger.h"

#include <cctype>
#include <string>
#include <string_view>

namespace clawdie::router {
namespace {

// Invalid UTF-8 bytes decode to U+DC80..U+DCFF (lone surrogates, which valid
// UTF-8 never yields), so they compare equal only to the same byte.
constexpr char32_t kInvalidByteBase = 0xDC00;

bool IsContinuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// Decodes the code point at `pos` and advances past it.
char32_t DecodeUtf8(std::string_view text, size_t& pos) {
  const unsigned char lead = static_cast<unsigned char>(text[pos]);
  int length = 0;
  char32_t value = 0;
  char32_t min_value = 0;
  if (lead < 0x80) {
    ++pos;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2, value = lead & 0x1F, min_value = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, value = lead & 0x0F, min_value = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, value = lead & 0x07, min_value = 0x10000;
  }

  bool valid = length > 0 && pos + length <= text.size();
  for (int i = 1; valid && i < length; ++i) {
    const unsigned char byte = static_cast<unsigned char>(text[pos + i]);
    valid = IsContinuation(byte);
    value = (value << 6) | (byte & 0x3F);
  }
  valid = valid && value >= min_value && value <= 0x10FFFF && (value < 0xD800 || value > 0xDFFF);
  if (!valid) {
    ++pos;
    return kInvalidByteBase + lead;
  }
  pos += length;
  return value;
}

// Whitespace, plus the invisible zero-width space and byte-order mark.
bool IsSpace(char32_t c) {
  if (c == ' ' || (c >= '\t' && c <= '\r')) return true;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200B) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

// Punctuation and symbol blocks outside ASCII; the rest counts as letters.
bool IsNonAsciiPunctuationOrSymbol(char32_t c) {
  return (c >= 0x80 && c <= 0xBF && c != 0xAA && c != 0xB5 && c != 0xBA) || c == 0xD7 ||
         c == 0xF7 || (c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
         (c >= 0xFE30 && c <= 0xFE6F) || (c >= 0xFF01 && c <= 0xFF0F) ||
         (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
         (c >= 0xFF5B && c <= 0xFF65) || (c >= 0x1F000 && c <= 0x1FAFF);
}

// Letters, digits and `_` in any script: what continues a word.
bool IsWordChar(char32_t c) {
  if (c < 0x80) return std::isalnum(static_cast<int>(c)) != 0 || c == '_';
  return !IsSpace(c) && !IsNonAsciiPunctuationOrSymbol(c);
}

bool InRange(char32_t c, char32_t first, char32_t last) { return c >= first && c <= last; }

// Upper and lower case of a pair alternate in these blocks; `first` is upper.
bool IsUpperOfAlternatingPair(char32_t c, char32_t first, char32_t last) {
  return InRange(c, first, last) && (c - first) % 2 == 0;
}

char32_t FoldLatinExtended(char32_t c) {
  if (IsUpperOfAlternatingPair(c, 0x100, 0x12F) || IsUpperOfAlternatingPair(c, 0x132, 0x137) ||
      IsUpperOfAlternatingPair(c, 0x139, 0x148) || IsUpperOfAlternatingPair(c, 0x14A, 0x177) ||
      IsUpperOfAlternatingPair(c, 0x179, 0x17E) || IsUpperOfAlternatingPair(c, 0x1E00, 0x1E95) ||
      IsUpperOfAlternatingPair(c, 0x1EA0, 0x1EFF)) {
    return c + 1;
  }
  if (c == 0x178) return 0xFF;   // Ÿ
  if (c == 0x17F) return 's';    // long s
  if (c == 0x1E9E) return 0xDF;  // capital sharp s
  return c;
}

char32_t FoldGreekCyrillicArmenian(char32_t c) {
  if (InRange(c, 0x391, 0x3A1) || InRange(c, 0x3A3, 0x3AB)) return c + 0x20;
  if (c == 0x386) return 0x3AC;
  if (InRange(c, 0x388, 0x38A)) return c + 0x25;
  if (c == 0x38C) return 0x3CC;
  if (InRange(c, 0x38E, 0x38F)) return c + 0x3F;
  if (c == 0x3C2) return 0x3C3;  // final sigma
  if (InRange(c, 0x410, 0x42F)) return c + 0x20;
  if (InRange(c, 0x400, 0x40F)) return c + 0x50;
  if (IsUpperOfAlternatingPair(c, 0x460, 0x481) || IsUpperOfAlternatingPair(c, 0x48A, 0x4BF) ||
      IsUpperOfAlternatingPair(c, 0x4D0, 0x52F)) {
    return c + 1;
  }
  if (InRange(c, 0x4C1, 0x4CE) && (c - 0x4C1) % 2 == 0) return c + 1;
  if (c == 0x4C0) return 0x4CF;
  if (InRange(c, 0x531, 0x556)) return c + 0x30;
  return c;
}

// Simple case folding for the scripts above; other characters are returned as is.
char32_t FoldCase(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if (c == 0xB5) return 0x3BC;                      // micro sign
  if (InRange(c, 0xFF21, 0xFF3A)) return c + 0x20;  // fullwidth Latin
  if (c < 0x370 || InRange(c, 0x1E00, 0x1EFF)) return FoldLatinExtended(c);
  return FoldGreekCyrillicArmenian(c);
}

// Returns `text` without leading and trailing whitespace.
std::string_view TrimSpace(std::string_view text) {
  size_t begin = std::string_view::npos;
  size_t end = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    if (IsSpace(DecodeUtf8(text, pos))) continue;
    if (begin == std::string_view::npos) begin = start;
    end = pos;
  }
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, end - begin);
}

constexpr std::string_view kOpenTag = "<internal>";
constexpr std::string_view kCloseTag = "</internal>";

// Finds `tag` (lower-case ASCII) in `text` from `from`, ignoring ASCII case.
size_t FindTag(std::string_view text, std::string_view tag, size_t from) {
  for (size_t pos = from; pos + tag.size() <= text.size(); ++pos) {
    size_t i = 0;
    while (i < tag.size() && std::tolower(static_cast<unsigned char>(text[pos + i])) == tag[i]) {
      ++i;
    }
    if (i == tag.size()) return pos;
  }
  return std::string_view::npos;
}

// Returns the position just after the `</internal>` that closes the block
// whose `<internal>` ends at `from`, or npos when it is never closed.
size_t EndOfBlock(std::string_view text, size_t from) {
  int depth = 1;
  size_t pos = from;
  while (true) {
    const size_t open = FindTag(text, kOpenTag, pos);
    const size_t close = FindTag(text, kCloseTag, pos);
    if (close == std::string_view::npos) return std::string_view::npos;
    if (open < close) {
      ++depth;
      pos = open + kOpenTag.size();
      continue;
    }
    pos = close + kCloseTag.size();
    if (--depth == 0) return pos;
  }
}

}  // namespace

bool MatchesTrigger(const std::string& text, const std::string& trigger) {
  const std::string_view wanted = TrimSpace(trigger);
  const std::string_view body = TrimSpace(text);
  if (wanted.empty()) return false;

  size_t w = 0;
  size_t t = 0;
  char32_t last = 0;
  while (w < wanted.size()) {
    if (t >= body.size()) return false;
    last = DecodeUtf8(wanted, w);
    if (FoldCase(last) != FoldCase(DecodeUtf8(body, t))) return false;
  }

  // A trigger ending in a word character must end a word in the text too.
  if (t == body.size() || !IsWordChar(last)) return true;
  return !IsWordChar(DecodeUtf8(body, t));
}

std::string StripInternal(const std::string& text) {
  const std::string_view input = text;
  std::string kept;
  size_t pos = 0;
  while (pos < input.size()) {
    const size_t open = FindTag(input, kOpenTag, pos);
    const size_t close = FindTag(input, kCloseTag, pos);
    if (open == std::string_view::npos && close == std::string_view::npos) {
      kept.append(input.substr(pos));
      break;
    }

    // A closing tag with no block open is dropped on its own.
    if (close < open) {
      kept.append(input.substr(pos, close - pos));
      pos = close + kCloseTag.size();
      continue;
    }
    kept.append(input.substr(pos, open - pos));
    pos = EndOfBlock(input, open + kOpenTag.size());
  }
  return std::string(TrimSpace(kept));
}

std::string FitReply(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::string note = "\n\n[The reply was cut here: it was " + std::to_string(text.size()) +
                     " bytes, over the limit of " + std::to_string(max_bytes) + ".]";
  size_t keep = max_bytes - note.size();
  // Back up to the start of a UTF-8 sequence so no character is split.
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  return text.substr(0, keep) + note;
}

}  // namespace clawdie::router
