// `clawctl chat` (interactive, over the gateway's local channel) and
// `clawctl send --chat CHAT TEXT [--wait]`.
//
// send to a local:<name> chat goes through Gateway.LocalChat, exactly as a person typing in
// `clawctl chat`, and --wait prints the replies that stream carries. send to any other chat
// injects the message with Router.Ingest (sender "clawctl"), and --wait polls the store for
// the assistant's messages stored in that chat after it.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <mutex>
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

// How often `send --wait` asks the store for replies in a non-local chat.
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
    if (!event.ok()) return Annotate(event.status(), "send " + chat);
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

absl::Status SendLocal(Session* session, const SendArgs& args, const ReplyWait& wait) {
  auto channel = session->Channel("gateway");
  if (!channel.ok()) return channel.status();
  LocalChatStream stream(*channel, LocalChatName(args.chat));
  if (absl::Status sent = stream.Send(args.text); !sent.ok()) return sent;

  absl::StatusOr<std::string> id = AwaitAck(session, &stream, args.chat);
  if (!id.ok()) return id.status();
  std::vector<std::string> replies;
  if (args.wait) {
    absl::StatusOr<std::vector<std::string>> got = AwaitLocalReplies(&stream, wait);
    if (!got.ok()) return Annotate(got.status(), "send " + args.chat);
    if (got->empty()) return NoReply(args);
    replies = *std::move(got);
  }
  stream.Close().IgnoreError();
  return PrintSent(session, args.chat, *id, replies, args.wait);
}

// The assistant's messages in `chat` after `after_seq`; advances `after_seq`.
absl::StatusOr<std::vector<std::string>> NewReplies(Session* session, v1::Store::Stub* store,
                                                    const std::string& chat, int64_t* after_seq) {
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::ListMessagesRequest request;
  request.set_chat_jid(chat);
  request.set_after_seq(*after_seq);
  v1::ListMessagesResponse response;
  grpc::Status status = store->ListMessages(&context, request, &response);
  if (!status.ok()) return session->CallError("send " + chat + ": list messages", "store", status);
  std::vector<std::string> replies;
  for (const v1::Message& message : response.messages()) {
    *after_seq = std::max(*after_seq, message.seq());
    if (message.is_own()) replies.push_back(message.text());
  }
  return replies;
}

absl::StatusOr<std::vector<std::string>> PollReplies(Session* session, const std::string& chat,
                                                     int64_t after_seq, const ReplyWait& wait) {
  auto store = session->Stub<v1::Store>("store");
  if (!store.ok()) return store.status();
  std::vector<std::string> replies;
  absl::Time deadline = absl::Now() + wait.timeout;
  while (absl::Now() < deadline) {
    auto fresh = NewReplies(session, store->get(), chat, &after_seq);
    if (!fresh.ok()) return fresh.status();
    if (!fresh->empty()) deadline = absl::Now() + wait.settle;
    replies.insert(replies.end(), fresh->begin(), fresh->end());
    absl::SleepFor(kPollInterval);
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

  std::vector<std::string> replies;
  if (args.wait) {
    absl::StatusOr<std::vector<std::string>> got =
        PollReplies(session, args.chat, response.seq(), wait);
    if (!got.ok()) return got.status();
    if (got->empty()) return NoReply(args);
    replies = *std::move(got);
  }
  return PrintSent(session, args.chat, "seq " + std::to_string(response.seq()), replies, args.wait);
}

absl::Status Send(Session* session, const SendArgs& args) {
  if (absl::Status valid = ValidateChatKey(args.chat); !valid.ok()) return valid;
  if (args.text.empty()) return absl::InvalidArgumentError("send: TEXT must not be empty");
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
  absl::Status status;
  for (std::string line; status.ok() && std::getline(session->in(), line);) {
    if (!line.empty()) status = stream.Send(line);
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
