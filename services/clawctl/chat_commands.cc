// `clawctl chat` (interactive, over the gateway's local channel) and
// `clawctl send --chat CHAT TEXT [--wait]`.
//
// send to a local:<name> chat goes through Gateway.LocalChat, exactly as a person typing in
// `clawctl chat`, and --wait prints the replies that stream carries. send to any other chat
// injects the message with Router.Ingest (sender "clawctl"); the reply goes to that chat on
// its platform, and --wait waits for the run that handles the message to succeed, then
// prints that run's replies from the store's outbox.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "clawdie/v1/router.grpc.pb.h"
#include "clawdie/v1/store.grpc.pb.h"
#include "common/schedule.h"
#include "common/status.h"
#include "nlohmann/json.hpp"
#include "services/clawctl/commands.h"
#include "services/clawctl/format.h"
#include "services/clawctl/local_chat.h"
#include "services/clawctl/requests.h"

namespace clawdie::clawctl {
namespace {

// How often `send --wait` asks the router about the run in a non-local chat.
constexpr absl::Duration kPollInterval = absl::Milliseconds(250);

struct SendArgs {
  std::string chat;
  std::string text;
  bool wait = false;
  std::string as = "clawctl";
  std::string wait_timeout = "5m";
  std::string settle = "3s";
};

// What send waits for: the first reply within `timeout`, then further replies as long as
// each comes within `settle` of the previous one (an agent may answer in several messages).
struct ReplyWait {
  absl::Duration timeout;
  absl::Duration settle;
};

absl::StatusOr<ReplyWait> ParseReplyWait(const SendArgs& args) {
  absl::StatusOr<absl::Duration> timeout = ParseDuration(args.wait_timeout);
  if (!timeout.ok()) return Annotate(timeout.status(), "--wait-timeout");
  absl::StatusOr<absl::Duration> settle = ParseDuration(args.settle);
  if (!settle.ok()) return Annotate(settle.status(), "--settle");
  return ReplyWait{*timeout, *settle};
}

absl::Status PrintSent(Session* session, const std::string& chat, const std::string& id,
                       const std::vector<std::string>& replies, bool waited) {
  if (session->json()) {
    nlohmann::json json = {{"chat", chat}, {"message_id", id}, {"replies", replies}};
    session->out() << json.dump(2) << "\n";
  } else if (!waited) {
    session->out() << "sent to " << chat << " (" << id << ")\n";
  } else {
    for (const std::string& reply : replies) session->out() << reply << "\n";
  }
  return absl::OkStatus();
}

absl::Status NoReply(const SendArgs& args) {
  return absl::DeadlineExceededError("send " + args.chat + ": no reply within " +
                                     args.wait_timeout);
}

// Waits for the gateway's acknowledgement of our message; returns its platform id.
absl::StatusOr<std::string> AwaitAck(Session* session, LocalChatStream* stream,
                                     const std::string& chat) {
  absl::Time deadline = absl::Now() + session->timeout();
  while (true) {
    auto event = stream->Next(deadline);
    if (!event.ok()) {
      // The gateway's final status says why it ended the stream (e.g. the store's limit).
      absl::Status ended = stream->Close();
      return Annotate(ended.ok() ? event.status() : ended, "send " + chat);
    }
    if (!event->has_value()) {
      return absl::DeadlineExceededError("send " + chat +
                                         ": the gateway did not acknowledge "
                                         "the message in time");
    }
    if (!(*event)->ack_platform_message_id().empty()) return (*event)->ack_platform_message_id();
  }
}

absl::StatusOr<std::vector<std::string>> AwaitLocalReplies(LocalChatStream* stream,
                                                           const ReplyWait& wait) {
  std::vector<std::string> replies;
  absl::Time deadline = absl::Now() + wait.timeout;
  while (true) {
    auto event = stream->Next(deadline);
    if (!event.ok() && replies.empty()) return event.status();
    if (!event.ok()) return replies;
    if (!event->has_value()) return replies;
    if ((*event)->text().empty()) continue;
    replies.push_back((*event)->text());
    deadline = absl::Now() + wait.settle;
  }
}

absl::StatusOr<std::string> GroupFolder(Session* session, v1::Router::Stub* router,
                                        const std::string& chat);

absl::Status SendLocal(Session* session, const SendArgs& args, const ReplyWait& wait) {
  auto channel = session->Channel("gateway");
  if (!channel.ok()) return channel.status();
  LocalChatStream stream(*channel, LocalChatName(args.chat));
  if (absl::Status sent = stream.Send(args.text); !sent.ok()) return sent;

  absl::StatusOr<std::string> id = AwaitAck(session, &stream, args.chat);
  if (!id.ok()) return id.status();
  std::vector<std::string> replies;
  if (args.wait) {
    // A chat that is not a group never gets a reply: say so now instead of at the deadline.
    auto router = session->Stub<v1::Router>("router");
    if (!router.ok()) return router.status();
    absl::StatusOr<std::string> folder = GroupFolder(session, router->get(), args.chat);
    if (folder.status().code() == absl::StatusCode::kNotFound) {
      return absl::FailedPreconditionError(
          "send " + args.chat +
          ": stored, but it did not trigger a run (the chat is not a group; register it with "
          "clawctl groups add --chat " +
          args.chat + " --name NAME --folder FOLDER)");
    }
    if (!folder.ok()) return folder.status();
    absl::StatusOr<std::vector<std::string>> got = AwaitLocalReplies(&stream, wait);
    if (!got.ok()) return Annotate(got.status(), "send " + args.chat);
    if (got->empty()) return NoReply(args);
    replies = *std::move(got);
  }
  stream.Close().IgnoreError();
  return PrintSent(session, args.chat, *id, replies, args.wait);
}

// The folder of the group registered for `chat`.
absl::StatusOr<std::string> GroupFolder(Session* session, v1::Router::Stub* router,
                                        const std::string& chat) {
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::ListGroupsResponse groups;
  grpc::Status status = router->ListGroups(&context, v1::ListGroupsRequest(), &groups);
  if (!status.ok()) return session->CallError("send " + chat + ": list groups", "router", status);
  for (const v1::Group& group : groups.groups()) {
    if (group.chat_jid() == chat) return group.folder();
  }
  return absl::NotFoundError("send " + chat + ": not a registered group");
}

// The newest run of `folder` whose messages include `seq`, if any yet.
absl::StatusOr<std::optional<v1::Run>> RunCovering(Session* session, v1::Router::Stub* router,
                                                   const std::string& folder, int64_t seq) {
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::ListRunsRequest request;
  request.set_group_folder(folder);
  request.set_limit(20);
  v1::ListRunsResponse runs;
  grpc::Status status = router->ListRuns(&context, request, &runs);
  if (!status.ok()) return session->CallError("send: list runs of " + folder, "router", status);
  for (const v1::Run& run : runs.runs()) {
    if (run.first_seq() <= seq && seq <= run.last_seq()) return run;
  }
  return std::nullopt;
}

// Waits until the run that handles message `seq` succeeded (OK) or was abandoned (error).
// A failed attempt is retried by the router, so it is waited through.
absl::StatusOr<v1::Run> AwaitRun(Session* session, v1::Router::Stub* router,
                                 const std::string& chat, int64_t seq, const ReplyWait& wait) {
  absl::StatusOr<std::string> folder = GroupFolder(session, router, chat);
  if (!folder.ok()) return folder.status();
  for (absl::Time deadline = absl::Now() + wait.timeout; absl::Now() < deadline;) {
    auto run = RunCovering(session, router, *folder, seq);
    if (!run.ok()) return run.status();
    if (run->has_value() && (*run)->state() == v1::RUN_STATE_SUCCEEDED) return **run;
    if (run->has_value() && (*run)->state() == v1::RUN_STATE_ABANDONED) {
      return absl::AbortedError("send " + chat + ": run " + std::to_string((*run)->id()) +
                                " was abandoned: " + (*run)->error());
    }
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError("send " + chat + ": the run did not finish within " +
                                     FormatCompactDuration(wait.timeout));
}

// The texts of the replies run `run_id` put in the outbox of `chat`, oldest first.
absl::StatusOr<std::vector<std::string>> RunReplies(Session* session, const std::string& chat,
                                                    int64_t run_id) {
  auto store = session->Stub<v1::Store>("store");
  if (!store.ok()) return store.status();
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::ListMessagesRequest request;
  request.set_chat_jid(chat);
  request.set_limit(100);
  request.set_keep_newest(true);
  request.set_include_replies(true);
  v1::ListMessagesResponse response;
  grpc::Status status = (*store)->ListMessages(&context, request, &response);
  if (!status.ok()) return session->CallError("send " + chat + ": list replies", "store", status);
  std::vector<std::string> replies;
  for (const v1::OutboxEntry& reply : response.replies()) {
    if (reply.run_id() == run_id) replies.push_back(reply.text());
  }
  return replies;
}

absl::Status SendIngest(Session* session, const SendArgs& args, const ReplyWait& wait) {
  auto router = session->Stub<v1::Router>("router");
  if (!router.ok()) return router.status();
  std::string unique =
      std::to_string(absl::ToUnixMicros(absl::Now())) + "-" + std::to_string(getpid());
  v1::IngestRequest request = BuildIngest(args.chat, args.text, args.as, unique, absl::Now());

  grpc::ClientContext context;
  session->Prepare(&context);
  v1::IngestResponse response;
  grpc::Status status = (*router)->Ingest(&context, request, &response);
  if (!status.ok()) return session->CallError("send " + args.chat, "router", status);
  if (!args.wait)
    return PrintSent(session, args.chat, "seq " + std::to_string(response.seq()), {}, false);

  // Replies to other channels come back through their platform: --wait follows the run.
  if (!response.triggered()) {
    return absl::FailedPreconditionError(
        "send " + args.chat + ": stored, but it did not trigger a run (" +
        (response.registered() ? "start it with the group's trigger" : "the chat is not a group") +
        ")");
  }
  absl::StatusOr<v1::Run> run = AwaitRun(session, router->get(), args.chat, response.seq(), wait);
  if (!run.ok()) return run.status();
  absl::StatusOr<std::vector<std::string>> replies = RunReplies(session, args.chat, run->id());
  if (!replies.ok()) return replies.status();
  if (replies->empty()) {
    return absl::NotFoundError("send " + args.chat + ": run " + std::to_string(run->id()) +
                               " succeeded without a reply");
  }
  return PrintSent(session, args.chat, "seq " + std::to_string(response.seq()), *replies, true);
}

absl::Status Send(Session* session, const SendArgs& args) {
  if (absl::Status valid = ValidateChatKey(args.chat); !valid.ok()) return valid;
  if (args.text.empty()) return absl::InvalidArgumentError("send: TEXT must not be empty");
  if (absl::Status text = ValidateText(args.text); !text.ok()) return Annotate(text, "send");
  absl::StatusOr<ReplyWait> wait = ParseReplyWait(args);
  if (!wait.ok()) return wait.status();
  if (!LocalChatName(args.chat).empty()) return SendLocal(session, args, *wait);
  return SendIngest(session, args, *wait);
}

// Prints what arrives in the chat until the stream ends.
void PrintEvents(Session* session, LocalChatStream* stream, std::mutex* out_mutex) {
  std::string assistant = session->config().GetString("ASSISTANT_NAME");
  while (true) {
    auto event = stream->Next(absl::InfiniteFuture());
    if (!event.ok()) return;
    if (!event->has_value() || (*event)->text().empty()) continue;
    std::lock_guard<std::mutex> lock(*out_mutex);
    if (session->json()) {
      session->out() << nlohmann::json({{"from", assistant}, {"text", (*event)->text()}}).dump()
                     << std::endl;
    } else {
      session->out() << assistant << ": " << (*event)->text() << std::endl;
    }
  }
}

absl::Status Chat(Session* session, const std::string& as) {
  if (absl::Status valid = ValidateChatKey("local:" + as); !valid.ok()) return valid;
  auto channel = session->Channel("gateway");
  if (!channel.ok()) return channel.status();
  LocalChatStream stream(*channel, as);
  // An empty first message subscribes, so replies show even before we type.
  if (absl::Status subscribed = stream.Send(""); !subscribed.ok()) return subscribed;

  std::mutex out_mutex;
  std::thread printer([&] { PrintEvents(session, &stream, &out_mutex); });
  if (!session->json() && isatty(STDIN_FILENO)) {
    std::lock_guard<std::mutex> lock(out_mutex);
    session->out() << "chatting as local:" << as << "; Ctrl-D leaves" << std::endl;
  }
  // The store refuses longer texts, and the gateway would end the chat over one.
  int64_t max_bytes =
      session->config().GetInt("CLAWDIE_MAX_MESSAGE_BYTES", 64 * 1024).value_or(64 * 1024);
  absl::Status status;
  for (std::string line; status.ok() && std::getline(session->in(), line);) {
    if (line.empty()) continue;
    absl::Status text = ValidateText(line);
    if (text.ok() && static_cast<int64_t>(line.size()) > max_bytes) {
      text = absl::InvalidArgumentError("text: " + std::to_string(line.size()) +
                                        " bytes, over the limit of " + std::to_string(max_bytes) +
                                        " (CLAWDIE_MAX_MESSAGE_BYTES)");
    }
    if (!text.ok()) {
      // One garbled line is not worth ending the chat for.
      std::lock_guard<std::mutex> lock(out_mutex);
      std::cerr << "clawctl: not sent: " << text.message() << std::endl;
      continue;
    }
    status = stream.Send(line);
  }
  absl::Status closed = stream.Close();
  printer.join();
  return closed.ok() ? status : closed;
}

void AddSend(CLI::App* app, Action* action) {
  auto args = std::make_shared<SendArgs>();
  CLI::App* send = app->add_subcommand("send", "Inject one message as a chat");
  send->add_option("--chat", args->chat, "Chat key, e.g. local:me or tg:-100123")->required();
  send->add_option("TEXT", args->text, "The message")->required();
  send->add_flag("--wait", args->wait, "Wait for the assistant's reply and print it");
  send->add_option("--as", args->as, "Sender name for non-local chats");
  send->add_option("--wait-timeout", args->wait_timeout, "How long to wait for the first reply");
  send->add_option("--settle", args->settle, "After a reply, how long to wait for more");
  send->callback([action, args] { *action = [args](Session* s) { return Send(s, *args); }; });
}

}  // namespace

void AddChatCommands(CLI::App* app, Action* action) {
  auto as = std::make_shared<std::string>("me");
  CLI::App* chat = app->add_subcommand("chat", "Talk to the assistant over the local channel");
  chat->add_option("--as", *as, "Chat as local:NAME");
  chat->callback([action, as] { *action = [as](Session* s) { return Chat(s, *as); }; });
  AddSend(app, action);
}

}  // namespace clawdie::clawctl
