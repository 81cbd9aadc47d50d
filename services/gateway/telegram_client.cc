// Bot API client; see telegram_client.h.
#include "services/gateway/telegram_client.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>

#include "services/gateway/untrusted_json.h"

namespace clawdie::gateway {
namespace {

using json = nlohmann::json;

absl::StatusOr<TelegramReply> ParseReply(const std::string& method, const HttpResponse& http) {
  json body = ParseUntrustedJson(http.body);
  if (!body.is_object() || !body.contains("ok")) {
    return absl::UnavailableError("telegram " + method + ": HTTP " + std::to_string(http.status) +
                                  " without a Bot API body");
  }
  TelegramReply reply;
  reply.ok = body.value("ok", false);
  if (reply.ok) {
    if (auto result = body.find("result"); result != body.end()) reply.result = std::move(*result);
    return reply;
  }
  reply.error_code = body.value("error_code", static_cast<int>(http.status));
  reply.description = body.value("description", "");
  if (auto p = body.find("parameters"); p != body.end() && p->is_object()) {
    reply.retry_after = static_cast<int>(std::clamp<int64_t>(
        JsonInt64(*p, "retry_after").value_or(0), 0, std::numeric_limits<int>::max()));
    reply.migrate_to_chat_id = p->value("migrate_to_chat_id", int64_t{0});
  }
  return reply;
}

}  // namespace

void AddThread(const TelegramTarget& target, json* params) {
  if (target.thread_id > 1) (*params)["message_thread_id"] = target.thread_id;
}

TelegramClient::TelegramClient(std::string api_base, std::string token)
    : api_base_(std::move(api_base)), token_(std::move(token)) {
  while (!api_base_.empty() && api_base_.back() == '/') api_base_.pop_back();
}

absl::StatusOr<TelegramReply> TelegramClient::Call(const std::string& method, const json& params,
                                                   absl::Duration timeout,
                                                   const std::atomic<bool>* cancel) {
  HttpRequest request;
  request.method = "POST";
  request.url = api_base_ + "/bot" + token_ + "/" + method;
  request.headers = {"Content-Type: application/json"};
  request.body = params.dump(-1, ' ', false, json::error_handler_t::replace);
  request.timeout = timeout;
  request.label = "telegram " + method;
  request.cancel = cancel;
  absl::StatusOr<HttpResponse> http = http_.Do(request);
  if (!http.ok()) return http.status();
  try {
    return ParseReply(method, *http);
  } catch (const json::exception& e) {
    return absl::UnavailableError("telegram " + method + ": malformed reply: " + e.what());
  }
}

absl::StatusOr<BotIdentity> TelegramClient::GetMe() {
  absl::StatusOr<TelegramReply> reply = Call("getMe", json::object());
  if (!reply.ok()) return reply.status();
  if (!reply->ok) {
    std::string text = "telegram getMe: " + reply->description;
    if (reply->error_code == 401 || reply->error_code == 404) {
      return absl::PermissionDeniedError(text + " (check TELEGRAM_BOT_TOKEN)");
    }
    return absl::UnavailableError(text);
  }
  const json& me = reply->result;
  std::optional<int64_t> id = JsonInt64(me, "id");
  auto username = me.is_object() ? me.find("username") : me.end();
  // Bot usernames are letters, digits and '_' (and end in "bot"); anything else would end
  // up in logs and in the mention check.
  auto plain = [](const std::string& name) {
    return !name.empty() && name.size() <= 64 &&
           std::all_of(name.begin(), name.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '_'; });
  };
  if (!id || *id <= 0 || username == me.end() || !username->is_string() ||
      !plain(username->get<std::string>())) {
    return absl::UnavailableError("telegram getMe: the reply names no bot id and username");
  }
  BotIdentity bot;
  bot.id = *id;
  bot.username = username->get<std::string>();
  if (auto name = me.find("first_name"); name != me.end() && name->is_string()) {
    bot.first_name = name->get<std::string>();
  }
  return bot;
}

absl::StatusOr<TelegramReply> TelegramClient::GetUpdates(int64_t offset,
                                                         absl::Duration poll_timeout,
                                                         const std::atomic<bool>* cancel) {
  json params = {
      {"offset", offset},
      {"timeout", absl::ToInt64Seconds(poll_timeout)},
      {"allowed_updates",
       {"message", "edited_message", "channel_post", "edited_channel_post", "my_chat_member"}}};
  return Call("getUpdates", params, poll_timeout + absl::Seconds(15), cancel);
}

absl::StatusOr<TelegramReply> TelegramClient::SendMessage(const SendMessageRequest& request) {
  json params = {{"chat_id", request.target.chat_id}, {"text", request.text}};
  AddThread(request.target, &params);
  if (request.html) params["parse_mode"] = "HTML";
  if (request.reply_to != 0) {
    params["reply_parameters"] = {{"message_id", request.reply_to},
                                  {"allow_sending_without_reply", true}};
  }
  params["link_preview_options"] = {{"is_disabled", true}};
  return Call("sendMessage", params);
}

absl::StatusOr<TelegramReply> TelegramClient::SendChatAction(const TelegramTarget& target,
                                                             const std::string& action) {
  json params = {{"chat_id", target.chat_id}, {"action", action}};
  AddThread(target, &params);
  return Call("sendChatAction", params, absl::Seconds(10));
}

absl::StatusOr<TelegramReply> TelegramClient::DeleteWebhook() {
  return Call("deleteWebhook", {{"drop_pending_updates", false}});
}

absl::StatusOr<TelegramReply> TelegramClient::SetWebhook(const std::string& url,
                                                         const std::string& secret) {
  json params = {
      {"url", url},
      {"secret_token", secret},
      {"allowed_updates",
       {"message", "edited_message", "channel_post", "edited_channel_post", "my_chat_member"}}};
  return Call("setWebhook", params);
}

}  // namespace clawdie::gateway
