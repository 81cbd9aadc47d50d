#include "services/router/tool_auth.h"

#include <cctype>

namespace clawdie::router {
namespace {

bool IsFolderChar(char c, bool first) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return !first && (c == '_' || c == '-');
}

}  // namespace

absl::Status AuthorizeSendMessage(const Caller& caller, const std::string& target_jid,
                                  bool target_registered) {
  if (target_jid == caller.chat_jid) return absl::OkStatus();
  if (!caller.is_main) {
    return absl::PermissionDeniedError("send_message " + target_jid + ": group " + caller.folder +
                                       " may only send to its own chat");
  }
  if (!target_registered) {
    return absl::PermissionDeniedError("send_message " + target_jid + ": not a registered chat");
  }
  return absl::OkStatus();
}

absl::Status AuthorizeTaskAccess(const Caller& caller, const std::string& tool,
                                 const std::string& task_folder) {
  if (caller.is_main || task_folder == caller.folder) return absl::OkStatus();
  return absl::PermissionDeniedError(tool + " group " + task_folder + ": group " + caller.folder +
                                     " may only manage its own tasks");
}

absl::Status AuthorizeRegisterGroup(const Caller& caller, const clawdie::v1::Group& group) {
  if (!caller.is_main) {
    return absl::PermissionDeniedError("register_group " + group.folder() + ": group " +
                                       caller.folder + " is not the main group");
  }
  if (group.is_main()) {
    return absl::PermissionDeniedError("register_group " + group.folder() +
                                       ": there is already a main group");
  }
  if (group.chat_jid().empty()) {
    return absl::InvalidArgumentError("register_group " + group.folder() + ": jid is required");
  }
  absl::Status folder = ValidateGroupFolder(group.folder());
  if (!folder.ok())
    return absl::InvalidArgumentError("register_group: " + std::string(folder.message()));
  return absl::OkStatus();
}

absl::Status ValidateGroupFolder(const std::string& folder) {
  bool ok = !folder.empty() && folder.size() <= 64 && folder != "global";
  for (size_t i = 0; ok && i < folder.size(); ++i) ok = IsFolderChar(folder[i], i == 0);
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError("folder \"" + folder +
                                    "\": expected [A-Za-z0-9][A-Za-z0-9_-]{0,63}, not global");
}

}  // namespace clawdie::router
