// Text rules of the router (DESIGN.md §4): whether an inbound message starts
// with a group's trigger, and removing the agent's `<internal>` notes from its
// output before delivery.
//
// Both functions treat their input as UTF-8 and never fail: invalid bytes are
// compared byte for byte and otherwise kept as they are.
//
// Thread-safety: pure functions, safe from any thread.
#ifndef CLAWDIE_SERVICES_ROUTER_TRIGGER_H_
#define CLAWDIE_SERVICES_ROUTER_TRIGGER_H_

#include <string>

namespace clawdie::router {

// True when the trimmed `text` starts with `trigger` (itself trimmed),
// compared case-insensitively (ASCII, and simple case folding for Latin,
// Greek, Cyrillic and Armenian letters) and literally: characters such as
// `.`, `*` or `(` in the trigger are plain characters. When the trigger ends
// in a letter, digit or `_`, the text must not continue with one of those
// (`@Andy` matches `@Andy, hi` and `@andy hi`, not `@Andyx` or `@Andy_bot`).
// An empty trigger matches nothing. No Unicode normalisation is done, so a
// precomposed letter does not match the same letter written with a combining
// mark.
bool MatchesTrigger(const std::string& text, const std::string& trigger);

// Returns `text` without its `<internal>...</internal>` blocks, trimmed of
// surrounding whitespace. Blocks may span lines and nest; tag names are matched
// case-insensitively. An `<internal>` that is never closed hides everything
// after it; a stray `</internal>` is removed. The result may be empty, which
// means there is nothing to deliver.
std::string StripInternal(const std::string& text);

// Returns `text` when it is at most `max_bytes` long, else its start, cut at a character
// boundary, followed by a line saying how much was cut, the whole at most `max_bytes`
// (the store refuses longer outbox entries). `max_bytes` must be at least 256.
std::string FitReply(const std::string& text, size_t max_bytes);

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_TRIGGER_H_
