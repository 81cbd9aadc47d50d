#include "services/clawctl/requests.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <vector>

#include "absl/strings/match.h"
#include "common/schedule.h"

namespace clawdie::clawctl {
namespace {

bool AllDigits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// Splits on runs of blanks.
std::vector<std::string> Fields(const std::string& text) {
  std::vector<std::string> fields;
  std::string field;
  for (char c : text + " ") {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!field.empty()) fields.push_back(field);
      field.clear();
    } else {
      field += c;
    }
  }
  return fields;
}

// The zone a schedule is checked in: --timezone, else UTC (the router decides with the
// group's zone).
std::string CheckZone(const TaskArgs& args) {
  return args.timezone.empty() ? "UTC" : args.timezone;
}

absl::StatusOr<std::string> Checked(const char* flag, TaskKind kind, const std::string& text,
                                    const std::string& expression, const TaskArgs& args) {
  absl::StatusOr<Schedule> schedule = Schedule::Parse(kind, expression, CheckZone(args));
  if (!schedule.ok()) {
    return absl::InvalidArgumentError(std::string(flag) + " " + text + ": " +
                                      std::string(schedule.status().message()));
  }
  return expression;
}

absl::StatusOr<std::string> CronExpression(const TaskArgs& args) {
  std::vector<std::string> fields = Fields(args.cron);
  std::string joined;
  for (const std::string& field : fields) joined += (joined.empty() ? "" : " ") + field;
  return Checked("--cron", TaskKind::kCron, args.cron, joined, args);
}

absl::StatusOr<std::string> IntervalExpression(const TaskArgs& args) {
  absl::StatusOr<absl::Duration> every = ParseDuration(args.every);
  if (!every.ok()) {
    return absl::InvalidArgumentError("--every " + args.every + ": " +
                                      std::string(every.status().message()));
  }
  if (*every < kMinInterval) {
    return absl::InvalidArgumentError("--every " + args.every + ": shorter than the minimum of " +
                                      FormatCompactDuration(kMinInterval));
  }
  return FormatCompactDuration(*every);
}

absl::StatusOr<std::string> OnceExpression(const TaskArgs& args) {
  return Checked("--at", TaskKind::kOnce, args.at, args.at, args);
}

absl::Status SetSchedule(const TaskArgs& args, v1::Task* task) {
  int given = !args.cron.empty() + !args.every.empty() + !args.at.empty();
  if (given != 1) {
    return absl::InvalidArgumentError("tasks add: give exactly one of --cron, --every or --at");
  }
  absl::StatusOr<std::string> expression;
  if (!args.cron.empty()) {
    task->set_kind(v1::TASK_KIND_CRON);
    expression = CronExpression(args);
  } else if (!args.every.empty()) {
    task->set_kind(v1::TASK_KIND_INTERVAL);
    expression = IntervalExpression(args);
  } else {
    task->set_kind(v1::TASK_KIND_ONCE);
    expression = OnceExpression(args);
  }
  if (!expression.ok()) return expression.status();
  task->set_expression(*expression);
  return absl::OkStatus();
}

absl::StatusOr<v1::ContextMode> ParseContextMode(const std::string& text) {
  if (text == "group") return v1::CONTEXT_MODE_GROUP;
  if (text == "isolated") return v1::CONTEXT_MODE_ISOLATED;
  return absl::InvalidArgumentError("--context " + text + ": expected group or isolated");
}

v1::Channel ChannelOf(const std::string& chat) {
  if (chat.rfind("tg:", 0) == 0) return v1::CHANNEL_TELEGRAM;
  if (chat.rfind("wa:", 0) == 0) return v1::CHANNEL_WHATSAPP;
  if (chat.rfind("local:", 0) == 0) return v1::CHANNEL_LOCAL;
  return v1::CHANNEL_UNSPECIFIED;
}

}  // namespace

absl::Status ValidateText(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char lead = static_cast<unsigned char>(text[i]);
    size_t length = lead < 0x80           ? 1
                    : (lead >> 5) == 0x6  ? 2
                    : (lead >> 4) == 0xE  ? 3
                    : (lead >> 3) == 0x1E ? 4
                                          : 0;
    bool ok = length > 0 && i + length <= text.size();
    char32_t code = length == 1 ? lead : lead & (0x7F >> length);
    for (size_t k = 1; ok && k < length; ++k) {
      unsigned char next = static_cast<unsigned char>(text[i + k]);
      ok = (next & 0xC0) == 0x80;
      code = (code << 6) | (next & 0x3F);
    }
    // No overlong forms, surrogates or code points past U+10FFFF.
    static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    ok = ok && code >= kSmallest[length] && code <= 0x10FFFF && (code < 0xD800 || code > 0xDFFF);
    if (!ok) {
      return absl::InvalidArgumentError("text: not valid UTF-8 (byte " + std::to_string(i) +
                                        "); send text in UTF-8");
    }
    i += length;
  }
  return absl::OkStatus();
}

absl::Status ValidateFolder(const std::string& folder) {
  static const std::regex kFolder("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");
  if (!std::regex_match(folder, kFolder)) {
    return absl::InvalidArgumentError(
        "folder " + folder +
        ": must start with a letter or digit and hold only letters, digits, '_' and '-' (at "
        "most 64)");
  }
  if (absl::EqualsIgnoreCase(folder, "global")) {
    return absl::InvalidArgumentError("folder " + folder +
                                      ": reserved for the shared memory folder (global)");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Group> BuildGroup(const GroupArgs& args, const std::string& assistant_name) {
  if (absl::Status status = ValidateChatKey(args.chat); !status.ok()) return status;
  if (absl::Status status = ValidateFolder(args.folder); !status.ok()) return status;
  if (args.no_trigger && !args.trigger.empty()) {
    return absl::InvalidArgumentError("groups add: --trigger and --no-trigger exclude each other");
  }

  v1::Group group;
  group.set_chat_jid(args.chat);
  group.set_name(args.name.empty() ? args.folder : args.name);
  group.set_folder(args.folder);
  group.set_trigger(args.trigger.empty() ? "@" + assistant_name : args.trigger);
  group.set_requires_trigger(!args.no_trigger && !args.main);
  group.set_is_main(args.main);
  group.set_timezone(args.timezone);
  return group;
}

absl::StatusOr<v1::Task> BuildTask(const TaskArgs& args, const std::string& group_chat) {
  if (absl::Status status = ValidateFolder(args.group); !status.ok()) return status;
  if (Fields(args.prompt).empty()) {
    return absl::InvalidArgumentError("tasks add: --prompt must not be empty");
  }
  absl::StatusOr<v1::ContextMode> context = ParseContextMode(args.context);
  if (!context.ok()) return context.status();

  v1::Task task;
  task.set_group_folder(args.group);
  task.set_chat_jid(group_chat);
  task.set_prompt(args.prompt);
  task.set_context_mode(*context);
  task.set_timezone(args.timezone);
  if (absl::Status status = SetSchedule(args, &task); !status.ok()) return status;
  return task;
}

absl::StatusOr<int64_t> ParseTaskId(const std::string& text) {
  if (!AllDigits(text) || text.size() > 18 || std::stoll(text) == 0) {
    return absl::InvalidArgumentError("task id " + text + ": expected a positive number");
  }
  return std::stoll(text);
}

std::string LocalChatName(const std::string& chat) {
  constexpr char kPrefix[] = "local:";
  return chat.rfind(kPrefix, 0) == 0 ? chat.substr(sizeof(kPrefix) - 1) : "";
}

v1::IngestRequest BuildIngest(const std::string& chat, const std::string& text,
                              const std::string& sender, const std::string& unique,
                              absl::Time now) {
  v1::IngestRequest request;
  v1::Message* message = request.mutable_message();
  message->set_chat_jid(chat);
  message->set_platform_message_id("clawctl-" + unique);
  message->set_sender_id("clawctl");
  message->set_sender_name(sender);
  message->set_text(text);
  int64_t nanos = absl::ToUnixNanos(now);
  message->mutable_time()->set_seconds(nanos / 1000000000);
  message->mutable_time()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
  request.mutable_chat()->set_jid(chat);
  request.mutable_chat()->set_channel(ChannelOf(chat));
  return request;
}

}  // namespace clawdie::clawctl
