// Turns stored chat messages into the text an agent reads (docs/router.md,
// "Prompt format"): oldest first, each with its sender, its local time in the
// group's time zone and what it replies to, inside XML-like tags. Every piece of
// message text and every attribute is escaped, so nothing a chat member writes
// can close a tag or forge another message.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_ROUTER_PROMPT_H_
#define CLAWDIE_SERVICES_ROUTER_PROMPT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "clawdie/v1/types.pb.h"

namespace clawdie::router {

// Replaces & < > " ' with their XML entities and drops control characters other than
// newline and tab (they have no place in a prompt and could hide text).
std::string XmlEscape(std::string_view text);

// "2026-01-09 10:00 CET": the message time as a person in `zone` reads it.
std::string FormatLocalTime(absl::Time time, absl::TimeZone zone);

// The messages of `listed` that belong in a prompt (all but the assistant's own copies), in
// order; raises *last_seq to the highest seq of all of them.
std::vector<clawdie::v1::Message> PromptMessages(
    const google::protobuf::RepeatedPtrField<clawdie::v1::Message>& listed, int64_t* last_seq);

// The messages as a <messages> block. When `omitted` > 0 the block starts with a line saying
// how many older messages were left out.
std::string FormatMessages(const std::vector<clawdie::v1::Message>& messages, int64_t omitted,
                           absl::TimeZone zone);

// The prompt of a scheduled task run: the task's own prompt, escaped, in a <scheduled_task>
// block naming the task and its due time.
std::string FormatTaskPrompt(const clawdie::v1::Task& task, absl::Time due, absl::TimeZone zone);

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_PROMPT_H_
