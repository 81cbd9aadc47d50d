// `clawctl groups list|add|remove` and `clawctl chats` (Router admin RPCs).
#include <memory>

#include "clawdie/v1/router.grpc.pb.h"
#include "services/clawctl/commands.h"
#include "services/clawctl/format.h"
#include "services/clawctl/requests.h"

namespace clawdie::clawctl {
namespace {

absl::Status ListGroups(Session* session) {
  auto stub = session->Stub<v1::Router>("router");
  if (!stub.ok()) return stub.status();
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::ListGroupsResponse response;
  grpc::Status status = (*stub)->ListGroups(&context, v1::ListGroupsRequest(), &response);
  if (!status.ok()) return session->CallError("groups list", "router", status);
  return PrintResult(session, response, GroupsTable(response), "no groups registered");
}

absl::Status AddGroup(Session* session, const GroupArgs& args) {
  absl::StatusOr<v1::Group> group = BuildGroup(args, session->config().GetString("ASSISTANT_NAME"));
  if (!group.ok()) return group.status();
  auto stub = session->Stub<v1::Router>("router");
  if (!stub.ok()) return stub.status();

  grpc::ClientContext context;
  session->Prepare(&context);
  v1::RegisterGroupRequest request;
  *request.mutable_group() = *group;
  v1::Group registered;
  grpc::Status status = (*stub)->RegisterGroup(&context, request, &registered);
  if (!status.ok()) return session->CallError("groups add " + args.folder, "router", status);

  std::string trigger =
      registered.requires_trigger() ? "trigger " + registered.trigger() : "answers every message";
  return PrintDone(session, registered,
                   "registered " + registered.chat_jid() + " as group " + registered.folder() +
                       (registered.is_main() ? " (main, " : " (") + trigger + ")");
}

absl::Status RemoveGroup(Session* session, const std::string& folder) {
  auto stub = session->Stub<v1::Router>("router");
  if (!stub.ok()) return stub.status();
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::UnregisterGroupRequest request;
  request.set_folder(folder);
  v1::UnregisterGroupResponse response;
  grpc::Status status = (*stub)->UnregisterGroup(&context, request, &response);
  if (!status.ok()) return session->CallError("groups remove " + folder, "router", status);
  return PrintDone(session, response,
                   "unregistered group " + folder + " (its folder, messages and tasks stay)");
}

absl::Status ListChats(Session* session, int limit) {
  auto stub = session->Stub<v1::Router>("router");
  if (!stub.ok()) return stub.status();
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::ListChatsRequest request;
  request.set_limit(limit);
  v1::ListChatsResponse response;
  grpc::Status status = (*stub)->ListChats(&context, request, &response);
  if (!status.ok()) return session->CallError("chats", "router", status);
  return PrintResult(session, response, ChatsTable(response, session->zone()), "no chats seen yet");
}

void AddGroupsAdd(CLI::App* groups, Action* action) {
  auto args = std::make_shared<GroupArgs>();
  CLI::App* add = groups->add_subcommand("add", "Register a chat as a group");
  add->add_option("--chat", args->chat, "Chat key: tg:<id>[/<topic>], wa:<number>, local:<name>")
      ->required();
  add->add_option("--name", args->name, "Display name (default: the folder)");
  add->add_option("--folder", args->folder, "Folder name: letters, digits, '_', '-'")->required();
  add->add_option("--trigger", args->trigger, "Trigger word (default @ASSISTANT_NAME)");
  add->add_flag("--no-trigger", args->no_trigger, "Answer every message");
  add->add_flag("--main", args->main, "The operator's admin chat (answers every message)");
  add->add_option("--timezone", args->timezone, "IANA time zone (default TZ)");
  add->callback([action, args] { *action = [args](Session* s) { return AddGroup(s, *args); }; });
}

}  // namespace

void AddGroupCommands(CLI::App* app, Action* action) {
  CLI::App* groups = app->add_subcommand("groups", "Registered groups")->require_subcommand(1);
  groups->add_subcommand("list", "List registered groups")->callback([action] {
    *action = ListGroups;
  });
  AddGroupsAdd(groups, action);

  auto folder = std::make_shared<std::string>();
  CLI::App* remove = groups->add_subcommand("remove", "Unregister a group (data is kept)");
  remove->add_option("FOLDER", *folder, "The group's folder")->required();
  remove->callback(
      [action, folder] { *action = [folder](Session* s) { return RemoveGroup(s, *folder); }; });

  auto limit = std::make_shared<int>(100);
  CLI::App* chats = app->add_subcommand("chats", "Chats seen, registered or not (discovery)");
  chats->add_option("--limit", *limit, "At most this many")->check(CLI::PositiveNumber);
  chats->callback(
      [action, limit] { *action = [limit](Session* s) { return ListChats(s, *limit); }; });
}

}  // namespace clawdie::clawctl
