// `clawctl messages`, `runs`, `sandboxes`, `kill` and `backup`.
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <memory>

#include "clawdie/v1/broker.grpc.pb.h"
#include "clawdie/v1/router.grpc.pb.h"
#include "clawdie/v1/store.grpc.pb.h"
#include "common/grpc_client.h"
#include "services/clawctl/commands.h"
#include "services/clawctl/format.h"
#include "services/clawctl/requests.h"

namespace clawdie::clawctl {
namespace {

struct MessagesArgs {
  std::string chat;
  int limit = 20;
};

struct RunsArgs {
  bool active = false;
  std::string group;
  int limit = 50;
};

absl::Status ListMessages(Session* session, const MessagesArgs& args) {
  if (absl::Status valid = ValidateChatKey(args.chat); !valid.ok()) return valid;
  auto stub = session->Stub<v1::Store>("store");
  if (!stub.ok()) return stub.status();

  grpc::ClientContext context;
  session->Prepare(&context);
  v1::ListMessagesRequest request;
  request.set_chat_jid(args.chat);
  request.set_limit(args.limit);
  request.set_keep_newest(true);
  request.set_include_replies(true);
  v1::ListMessagesResponse response;
  grpc::Status status = (*stub)->ListMessages(&context, request, &response);
  if (!status.ok()) return session->CallError("messages " + args.chat, "store", status);

  if (!session->json() && response.omitted() > 0) {
    session->out() << "(" << response.omitted() << " older messages not shown)\n";
  }
  return PrintResult(session, response, MessagesTable(response, session->zone()),
                     "no messages stored for " + args.chat);
}

absl::Status ListRuns(Session* session, const RunsArgs& args) {
  auto stub = session->Stub<v1::Router>("router");
  if (!stub.ok()) return stub.status();
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::ListRunsRequest request;
  request.set_unfinished_only(args.active);
  request.set_group_folder(args.group);
  request.set_limit(args.limit);
  v1::ListRunsResponse response;
  grpc::Status status = (*stub)->ListRuns(&context, request, &response);
  if (!status.ok()) return session->CallError("runs", "router", status);
  return PrintResult(session, response, RunsTable(response, session->zone()),
                     args.active ? "no active runs" : "no runs");
}

absl::Status ListSandboxes(Session* session) {
  auto stub = session->Stub<v1::Broker>("broker");
  if (!stub.ok()) return stub.status();
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::ListSandboxesResponse response;
  grpc::Status status = (*stub)->ListSandboxes(&context, v1::ListSandboxesRequest(), &response);
  if (!status.ok()) return session->CallError("sandboxes", "broker", status);
  return PrintResult(session, response, SandboxesTable(response, session->zone()),
                     "no live sandboxes");
}

// The broker's id of run `run`'s live sandbox. `clawctl runs` shows the router's run id
// ("4"), `clawctl sandboxes` the broker's ("4-1796403020225", one per attempt); either names
// the run here.
absl::StatusOr<std::string> SandboxRunId(Session* session, v1::Broker::Stub* stub,
                                         const std::string& run) {
  if (run.find('-') != std::string::npos) return run;
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::ListSandboxesResponse sandboxes;
  grpc::Status status = stub->ListSandboxes(&context, v1::ListSandboxesRequest(), &sandboxes);
  if (!status.ok()) return session->CallError("kill " + run, "broker", status);
  for (const v1::Sandbox& sandbox : sandboxes.sandboxes()) {
    if (sandbox.run_id() == run || sandbox.run_id().rfind(run + "-", 0) == 0) {
      return sandbox.run_id();
    }
  }
  return absl::NotFoundError("kill " + run + ": no live sandbox for this run (see clawctl " +
                             "sandboxes)");
}

absl::Status Kill(Session* session, const std::string& run) {
  if (run.empty()) return absl::InvalidArgumentError("kill: give a run id (see clawctl runs)");
  auto stub = session->Stub<v1::Broker>("broker");
  if (!stub.ok()) return stub.status();
  absl::StatusOr<std::string> sandbox_run = SandboxRunId(session, stub->get(), run);
  if (!sandbox_run.ok()) return sandbox_run.status();
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::KillSandboxRequest request;
  request.set_run_id(*sandbox_run);
  v1::KillSandboxResponse response;
  grpc::Status status = (*stub)->KillSandbox(&context, request, &response);
  if (!status.ok()) return session->CallError("kill " + run, "broker", status);
  return PrintDone(session, response, "killed the sandbox of run " + *sandbox_run);
}

// The store writes the copy itself, so a relative path is made absolute here, where the
// operator typed it.
absl::StatusOr<std::string> AbsolutePath(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("backup: PATH must not be empty");
  if (path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) {
    return absl::FailedPreconditionError("backup " + path +
                                         ": cannot resolve a relative path; give an absolute one");
  }
  return std::string(cwd) + "/" + path;
}

absl::Status Backup(Session* session, const std::string& path) {
  absl::StatusOr<std::string> absolute = AbsolutePath(path);
  if (!absolute.ok()) return absolute.status();
  auto stub = session->Stub<v1::Store>("store");
  if (!stub.ok()) return stub.status();

  // A backup of a large database takes longer than an ordinary call.
  grpc::ClientContext context;
  PrepareContext(&context, std::max(session->timeout(), absl::Minutes(10)), false);
  v1::BackupRequest request;
  request.set_path(*absolute);
  v1::BackupResponse response;
  grpc::Status status = (*stub)->Backup(&context, request, &response);
  if (!status.ok()) return session->CallError("backup " + *absolute, "store", status);
  return PrintDone(session, response,
                   "wrote " + *absolute + ": " + std::to_string(response.size_bytes()) +
                       " bytes, messages up to seq " + std::to_string(response.max_seq()));
}

void AddMessages(CLI::App* app, Action* action) {
  auto args = std::make_shared<MessagesArgs>();
  CLI::App* messages = app->add_subcommand(
      "messages", "A chat's stored messages and the assistant's replies, oldest first");
  messages->add_option("--chat", args->chat, "Chat key")->required();
  messages->add_option("--limit", args->limit, "The newest N messages and N replies")
      ->check(CLI::Range(1, 1000));
  messages->callback(
      [action, args] { *action = [args](Session* s) { return ListMessages(s, *args); }; });
}

void AddRuns(CLI::App* app, Action* action) {
  auto args = std::make_shared<RunsArgs>();
  CLI::App* runs = app->add_subcommand("runs", "Agent runs, newest first");
  runs->add_flag("--active", args->active, "Only pending and running runs");
  runs->add_option("--group", args->group, "Only this group's runs (folder)");
  runs->add_option("--limit", args->limit, "At most this many")->check(CLI::PositiveNumber);
  runs->callback([action, args] { *action = [args](Session* s) { return ListRuns(s, *args); }; });
}

}  // namespace

void AddRunCommands(CLI::App* app, Action* action) {
  AddMessages(app, action);
  AddRuns(app, action);
  app->add_subcommand("sandboxes", "Live sandboxes")->callback([action] {
    *action = ListSandboxes;
  });

  auto run = std::make_shared<std::string>();
  CLI::App* kill = app->add_subcommand("kill", "Kill a run's sandbox and its processes");
  kill->add_option("RUN", *run, "Run id")->required();
  kill->callback([action, run] { *action = [run](Session* s) { return Kill(s, *run); }; });

  auto path = std::make_shared<std::string>();
  CLI::App* backup = app->add_subcommand("backup", "Consistent copy of the database");
  backup->add_option("PATH", *path, "Where the store writes the copy (must not exist)")->required();
  backup->callback([action, path] { *action = [path](Session* s) { return Backup(s, *path); }; });
}

}  // namespace clawdie::clawctl
