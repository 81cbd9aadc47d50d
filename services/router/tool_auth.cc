#include "services/router/tool_auth.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/chat_key.h"
#include "common/schedule.h"

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
  // Compared without case: on a case-insensitive file system "Global" is the shared folder.
  bool ok = !folder.empty() && folder.size() <= 64 && !absl::EqualsIgnoreCase(folder, "global");
  for (size_t i = 0; ok && i < folder.size(); ++i) ok = IsFolderChar(folder[i], i == 0);
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError("folder \"" + folder +
                                    "\": expected [A-Za-z0-9][A-Za-z0-9_-]{0,63}, not global");
}

absl::Status ValidateGroupSettings(const clawdie::v1::Group& group) {
  if (absl::Status folder = ValidateGroupFolder(group.folder()); !folder.ok()) return folder;
  if (absl::Status chat = ValidateChatKey(group.chat_jid()); !chat.ok()) return chat;
  if (!group.timezone().empty()) {
    absl::StatusOr<absl::TimeZone> zone = LoadZone(group.timezone());
    if (!zone.ok()) return zone.status();
  }
  const google::protobuf::Duration& timeout = group.sandbox().timeout();
  if (timeout.seconds() < 0 || timeout.nanos() < 0) {
    return absl::InvalidArgumentError("sandbox timeout of group " + group.folder() +
                                      ": must not be negative (0 or unset means AGENT_TIMEOUT)");
  }
  if (group.requires_trigger() && absl::StripAsciiWhitespace(group.trigger()).empty()) {
    return absl::InvalidArgumentError("group " + group.folder() +
                                      ": requires a trigger but has none");
  }
  return absl::OkStatus();
}

}  // namespace clawdie::router
