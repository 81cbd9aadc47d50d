// The form of a chat key (DESIGN.md §3), checked the same way by clawctl before it sends a
// request and by the router before it registers a group for one.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_COMMON_CHAT_KEY_H_
#define CLAWDIE_COMMON_CHAT_KEY_H_

#include <string>

#include "absl/status/status.h"

namespace clawdie {

// Checks a chat key `<channel>:<id>`: `tg:<chat id>[/<topic id>]`, `wa:<digits>` or
// `local:<name>` (1-64 of letters, digits, '_', '.', '-', starting with a letter or
// digit). InvalidArgument "chat KEY: cause" otherwise.
absl::Status ValidateChatKey(const std::string& chat);

}  // namespace clawdie

#endif  // CLAWDIE_COMMON_CHAT_KEY_H_
