// Chat key checks; see chat_key.h.
#include "common/chat_key.h"

#include <algorithm>
#include <cctype>
#include <regex>

namespace clawdie {
namespace {

bool AllDigits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// "-100123" or "42": a Telegram chat id.
bool IsTelegramChatId(const std::string& text) {
  return AllDigits(text[0] == '-' ? text.substr(1) : text);
}

absl::Status BadChat(const std::string& chat, const std::string& cause) {
  return absl::InvalidArgumentError("chat " + chat + ": " + cause);
}

absl::Status ValidateTelegramId(const std::string& chat, const std::string& id) {
  size_t slash = id.find('/');
  std::string chat_id = id.substr(0, slash);
  if (chat_id.empty() || !IsTelegramChatId(chat_id)) {
    return BadChat(chat, "a Telegram chat id is a decimal number, e.g. tg:-1002291837465");
  }
  if (slash != std::string::npos && !AllDigits(id.substr(slash + 1))) {
    return BadChat(chat, "a Telegram topic is /<decimal thread id>, e.g. tg:-100229/5210");
  }
  return absl::OkStatus();
}

absl::Status ValidateLocalName(const std::string& chat, const std::string& name) {
  static const std::regex kName("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  if (!std::regex_match(name, kName)) {
    return BadChat(chat, "a local chat name is letters, digits, '_', '.' or '-', e.g. local:me");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateChatKey(const std::string& chat) {
  size_t colon = chat.find(':');
  if (colon == std::string::npos || colon + 1 == chat.size()) {
    return BadChat(chat,
                   "expected <channel>:<id> such as tg:-1002291837465, wa:46701234567 "
                   "or local:me");
  }
  std::string channel = chat.substr(0, colon);
  std::string id = chat.substr(colon + 1);
  if (channel == "tg") return ValidateTelegramId(chat, id);
  if (channel == "wa") {
    return AllDigits(id) ? absl::OkStatus()
                         : BadChat(chat, "a WhatsApp chat is the phone number in digits");
  }
  if (channel == "local") return ValidateLocalName(chat, id);
  return BadChat(chat, "unknown channel \"" + channel + "\" (use tg, wa or local)");
}

}  // namespace clawdie
