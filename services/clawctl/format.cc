#include "services/clawctl/format.h"

#include <cctype>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace clawdie::clawctl {
namespace {

// Longest free text (prompts, messages, errors) shown in a table cell.
constexpr size_t kTextWidth = 60;

std::string YesNo(bool value) { return value ? "yes" : "no"; }

std::string Id(int64_t id) { return id == 0 ? "-" : std::to_string(id); }

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

}  // namespace

absl::StatusOr<std::string> ProtoToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError("print " + message.GetTypeName() +
                               " as JSON: " + std::string(status.message()));
  }
  if (json.empty() || json.back() != '\n') json += '\n';
  return json;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp, absl::TimeZone zone) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "-";
  absl::Time time =
      absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", time, zone);
}

std::string FormatDuration(const google::protobuf::Duration& duration) {
  int64_t seconds = duration.seconds();
  if (seconds == 0 && duration.nanos() == 0) return "-";
  if (seconds < 60) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.1fs", seconds + duration.nanos() / 1e9);
    return text;
  }
  std::string text;
  if (seconds >= 86400) absl::StrAppend(&text, seconds / 86400, "d");
  if (seconds % 86400 >= 3600) absl::StrAppend(&text, seconds % 86400 / 3600, "h");
  if (seconds % 3600 >= 60) absl::StrAppend(&text, seconds % 3600 / 60, "m");
  if (seconds % 60 != 0) absl::StrAppend(&text, seconds % 60, "s");
  return text;
}

std::string EnumLabel(const google::protobuf::EnumDescriptor* type, int value) {
  const google::protobuf::EnumValueDescriptor* found = type->FindValueByNumber(value);
  if (found == nullptr) return std::to_string(value);

  // The prefix is the type name in upper snake case: RunState → RUN_STATE_.
  std::string prefix;
  for (char c : type->name()) {
    if (std::isupper(static_cast<unsigned char>(c)) && !prefix.empty()) prefix += '_';
    prefix += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  prefix += '_';
  std::string name = found->name();
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

Table GroupsTable(const v1::ListGroupsResponse& response) {
  Table table({"FOLDER", "CHAT", "NAME", "TRIGGER", "MAIN", "TIMEZONE"});
  for (const v1::Group& group : response.groups()) {
    std::string trigger = group.requires_trigger() ? group.trigger() : "(every message)";
    table.AddRow({group.folder(), group.chat_jid(), group.name(), trigger, YesNo(group.is_main()),
                  OrDash(group.timezone())});
  }
  return table;
}

Table ChatsTable(const v1::ListChatsResponse& response, absl::TimeZone zone) {
  Table table({"CHAT", "NAME", "TYPE", "LAST MESSAGE"});
  for (const v1::Chat& chat : response.chats()) {
    table.AddRow({chat.jid(), OneLine(chat.name(), kTextWidth), OrDash(chat.chat_type()),
                  FormatTimestamp(chat.last_message_time(), zone)});
  }
  return table;
}

Table TasksTable(const v1::ListTasksResponse& response, absl::TimeZone zone) {
  Table table({"ID", "GROUP", "KIND", "SCHEDULE", "STATE", "NEXT RUN", "PROMPT"});
  for (const v1::Task& task : response.tasks()) {
    table.AddRow({std::to_string(task.id()), task.group_folder(),
                  EnumLabel(v1::TaskKind_descriptor(), task.kind()), task.expression(),
                  EnumLabel(v1::TaskState_descriptor(), task.state()),
                  FormatTimestamp(task.next_run(), zone), OneLine(task.prompt(), kTextWidth)});
  }
  return table;
}

Table TaskRunsTable(const v1::ListTaskRunsResponse& response, absl::TimeZone zone) {
  Table table({"ID", "DUE", "STARTED", "DURATION", "RESULT", "OUTPUT"});
  for (const v1::TaskRunLog& run : response.runs()) {
    table.AddRow({std::to_string(run.id()), FormatTimestamp(run.due_at(), zone),
                  FormatTimestamp(run.started_at(), zone), FormatDuration(run.duration()),
                  run.ok() ? "ok" : "error", OneLine(run.result(), kTextWidth)});
  }
  return table;
}

// "delivered", "pending (2 attempts)", "failed: <error>", then what the platform reported
// after accepting it ("read", "failed on the platform: <error>").
std::string ReplyDelivery(const v1::OutboxEntry& reply) {
  std::string text = EnumLabel(v1::OutboxState_descriptor(), reply.state());
  if (reply.state() == v1::OUTBOX_STATE_PENDING && reply.attempts() > 0) {
    absl::StrAppend(&text, " (", reply.attempts(), " attempts)");
  }
  if (reply.state() == v1::OUTBOX_STATE_FAILED) absl::StrAppend(&text, ": ", reply.last_error());
  if (reply.platform_state() == v1::PLATFORM_DELIVERY_STATE_FAILED) {
    absl::StrAppend(&text, ", failed on the platform: ", reply.platform_error());
  } else if (reply.platform_state() != v1::PLATFORM_DELIVERY_STATE_UNSPECIFIED) {
    absl::StrAppend(&text, ", ",
                    EnumLabel(v1::PlatformDeliveryState_descriptor(), reply.platform_state()));
  }
  return text;
}

Table MessagesTable(const v1::ListMessagesResponse& response, absl::TimeZone zone) {
  Table table({"SEQ", "TIME", "FROM", "TEXT", "DELIVERY"});
  auto micros = [](const google::protobuf::Timestamp& t) {
    return t.seconds() * 1000000 + t.nanos() / 1000;
  };
  // Both lists are oldest first; merged by time, a message before a reply of the same time.
  int m = 0, r = 0;
  while (m < response.messages_size() || r < response.replies_size()) {
    bool take_message =
        r == response.replies_size() ||
        (m < response.messages_size() &&
         micros(response.messages(m).time()) <= micros(response.replies(r).created_at()));
    if (take_message) {
      const v1::Message& message = response.messages(m++);
      std::string from = message.is_own() ? "(assistant)" : OrDash(message.sender_name());
      table.AddRow({std::to_string(message.seq()), FormatTimestamp(message.time(), zone), from,
                    OneLine(message.text(), kTextWidth), "-"});
    } else {
      const v1::OutboxEntry& reply = response.replies(r++);
      table.AddRow({"-", FormatTimestamp(reply.created_at(), zone), "(assistant)",
                    OneLine(reply.text(), kTextWidth), OneLine(ReplyDelivery(reply), kTextWidth)});
    }
  }
  return table;
}

Table RunsTable(const v1::ListRunsResponse& response, absl::TimeZone zone) {
  Table table({"ID", "GROUP", "STATE", "TASK", "SEQ", "TRIES", "CREATED", "FINISHED", "ERROR"});
  for (const v1::Run& run : response.runs()) {
    table.AddRow({std::to_string(run.id()), run.group_folder(),
                  EnumLabel(v1::RunState_descriptor(), run.state()), Id(run.task_id()),
                  absl::StrCat(run.first_seq(), "-", run.last_seq()),
                  std::to_string(run.attempts()), FormatTimestamp(run.created_at(), zone),
                  FormatTimestamp(run.finished_at(), zone),
                  OneLine(OrDash(run.error()), kTextWidth)});
  }
  return table;
}

Table SandboxesTable(const v1::ListSandboxesResponse& response, absl::TimeZone zone) {
  Table table({"RUN", "GROUP", "BACKEND", "SANDBOX", "STARTED"});
  for (const v1::Sandbox& sandbox : response.sandboxes()) {
    table.AddRow({sandbox.run_id(), sandbox.group_folder(), sandbox.backend(), sandbox.sandbox_id(),
                  FormatTimestamp(sandbox.started_at(), zone)});
  }
  return table;
}

}  // namespace clawdie::clawctl
