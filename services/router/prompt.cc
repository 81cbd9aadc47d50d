#include "services/router/prompt.h"

#include <algorithm>

namespace clawdie::router {
namespace {

absl::Time FromTimestamp(const google::protobuf::Timestamp& time) {
  return absl::FromUnixSeconds(time.seconds()) + absl::Nanoseconds(time.nanos());
}

void AppendAttribute(std::string* out, std::string_view name, std::string_view value) {
  out->append(" ");
  out->append(name);
  out->append("=\"");
  out->append(XmlEscape(value));
  out->append("\"");
}

void AppendMessage(std::string* out, const clawdie::v1::Message& message, absl::TimeZone zone) {
  out->append("<message");
  AppendAttribute(out, "sender", message.sender_name());
  AppendAttribute(out, "time", FormatLocalTime(FromTimestamp(message.time()), zone));
  if (message.edited()) AppendAttribute(out, "edited", "true");
  out->append(">");

  if (!message.reply_to_platform_id().empty() || !message.reply_to_text().empty()) {
    out->append("<reply_to");
    AppendAttribute(out, "sender", message.reply_to_sender_name());
    out->append(">");
    out->append(XmlEscape(message.reply_to_text()));
    out->append("</reply_to>");
  }
  out->append(XmlEscape(message.text()));
  out->append("</message>\n");
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&apos;");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') break;
        out.push_back(c);
    }
  }
  return out;
}

std::string FormatLocalTime(absl::Time time, absl::TimeZone zone) {
  return absl::FormatTime("%Y-%m-%d %H:%M %Z", time, zone);
}

std::vector<clawdie::v1::Message> PromptMessages(
    const google::protobuf::RepeatedPtrField<clawdie::v1::Message>& listed, int64_t* last_seq) {
  std::vector<clawdie::v1::Message> messages;
  for (const clawdie::v1::Message& message : listed) {
    *last_seq = std::max(*last_seq, message.seq());
    if (!message.is_own()) messages.push_back(message);
  }
  return messages;
}

std::string FormatMessages(const std::vector<clawdie::v1::Message>& messages, int64_t omitted,
                           absl::TimeZone zone) {
  std::string out = "<messages>\n";
  if (omitted > 0) {
    out.append("<omitted count=\"" + std::to_string(omitted) + "\">" + std::to_string(omitted) +
               " older messages omitted</omitted>\n");
  }
  for (const clawdie::v1::Message& message : messages) AppendMessage(&out, message, zone);
  out.append("</messages>");
  return out;
}

std::string FormatTaskPrompt(const clawdie::v1::Task& task, absl::Time due, absl::TimeZone zone) {
  std::string out = "<scheduled_task";
  AppendAttribute(&out, "id", std::to_string(task.id()));
  AppendAttribute(&out, "due", FormatLocalTime(due, zone));
  out.append(">");
  out.append(XmlEscape(task.prompt()));
  out.append("</scheduled_task>");
  return out;
}

}  // namespace clawdie::router
