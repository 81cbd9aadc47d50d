// Builds the agent's system prompt (DESIGN.md §6, issue #4): who the assistant is, the time and
// time zone, the sandbox layout, how the clawdie tools work, and the memory files — the
// workspace's CLAUDE.md, the global CLAUDE.md, and IDENTITY.md / USER.md where present.
//
// Thread-safety: pure function of its arguments and the files it reads.
#ifndef CLAWDIE_CONTAINER_SYSTEM_PROMPT_H_
#define CLAWDIE_CONTAINER_SYSTEM_PROMPT_H_

#include <string>

#include "absl/time/time.h"
#include "container/agent_config.h"
#include "container/start_request.h"

namespace clawdie::agent {

// Memory files larger than this are cut (and the cut is said in the prompt).
inline constexpr size_t kMaxMemoryFileBytes = 64 * 1024;

std::string BuildSystemPrompt(const AgentConfig& config, const StartRequest& start, absl::Time now);

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_SYSTEM_PROMPT_H_
