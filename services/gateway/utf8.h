// UTF-8 helpers shared by the Telegram normaliser and the chunker: Telegram counts text in
// UTF-16 code units (entity offsets, the 4096 limit), while clawdie keeps UTF-8 bytes.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_GATEWAY_UTF8_H_
#define CLAWDIE_SERVICES_GATEWAY_UTF8_H_

#include <cstddef>
#include <string_view>

namespace clawdie::gateway {

// Length in bytes of the UTF-8 sequence starting at text[pos] (1 for an invalid byte, so
// malformed input is stepped through byte by byte and never over-read).
size_t Utf8SequenceLength(std::string_view text, size_t pos);

// UTF-16 code units of the sequence starting at text[pos]: 2 for a code point above
// U+FFFF, else 1 (an invalid byte counts as 1, as it would after replacement).
size_t Utf16UnitsAt(std::string_view text, size_t pos);

// Code point at text[pos], or U+FFFD for an invalid sequence.
char32_t CodePointAt(std::string_view text, size_t pos);

// UTF-16 length of the whole text.
size_t Utf16Length(std::string_view text);

// Byte offset of the UTF-16 offset `units` (clamped to the text's end; an offset in the
// middle of a surrogate pair rounds up to the next code point).
size_t ByteOffsetOfUtf16(std::string_view text, size_t units);

// True when text[pos] does not start in the middle of a UTF-8 sequence.
bool IsCodePointBoundary(std::string_view text, size_t pos);

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_UTF8_H_
