// Authorisation of agent tool calls (DESIGN.md §3, issue #5). Privilege comes
// only from the group the run was started for, never from fields the agent
// writes: main may act on every group, any other group only on itself.
//
// Every refusal is PermissionDenied (or InvalidArgument for bad input) with a
// reason written for the agent, "<tool> <object>: <why>".
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_ROUTER_TOOL_AUTH_H_
#define CLAWDIE_SERVICES_ROUTER_TOOL_AUTH_H_

#include <string>

#include "absl/status/status.h"
#include "clawdie/v1/types.pb.h"

namespace clawdie::router {

// The group a run was started for: the only source of a tool call's privilege.
struct Caller {
  std::string folder;
  std::string chat_jid;
  bool is_main = false;
};

// send_message: main may send to any registered chat; others only to their own chat.
absl::Status AuthorizeSendMessage(const Caller& caller, const std::string& target_jid,
                                  bool target_registered);

// schedule_task, list_tasks, pause_task, resume_task, cancel_task, update_task on tasks of
// group `task_folder`: main for any group, others only for their own.
absl::Status AuthorizeTaskAccess(const Caller& caller, const std::string& tool,
                                 const std::string& task_folder);

// register_group: main only; the folder must be valid; never a second main group.
absl::Status AuthorizeRegisterGroup(const Caller& caller, const clawdie::v1::Group& group);

// A group folder: ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ and not "global". InvalidArgument naming
// the folder otherwise.
absl::Status ValidateGroupFolder(const std::string& folder);

// A group's settings as registered or updated: a valid folder and chat key, a time zone
// that is empty or in the database, a sandbox timeout that is not negative, and a trigger
// when one is required. InvalidArgument naming the setting otherwise.
absl::Status ValidateGroupSettings(const clawdie::v1::Group& group);

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_TOOL_AUTH_H_
