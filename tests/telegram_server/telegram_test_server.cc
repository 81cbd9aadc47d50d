// Telegram Bot API stand-in; see telegram_test_server.h.
#include "tests/telegram_server/telegram_test_server.h"

#include <fstream>
#include <sstream>

#include <sys/socket.h>
#include "absl/time/clock.h"

#include "httplib.h"

namespace clawdie::testing {
namespace {

using json = nlohmann::json;

json ErrorReply(int code, const std::string& description) {
  return {{"ok", false}, {"error_code", code}, {"description", description}};
}

size_t Utf16Length(const std::string& s) {
  size_t units = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++units;  // count lead bytes
    if ((c & 0xF8) == 0xF0) ++units;  // 4-byte sequences need a surrogate pair
  }
  return units;
}

// Parameters from a JSON body, or from the query string / form fields.
json RequestParams(const httplib::Request& req) {
  if (req.get_header_value("Content-Type").find("application/json") != std::string::npos) {
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    return body.is_object() ? body : json::object();
  }
  json params = json::object();
  for (const auto& [key, value] : req.params) {
    json parsed = json::parse(value, nullptr, false);
    params[key] = parsed.is_discarded() ? json(value) : parsed;
  }
  return params;
}

int64_t ChatId(const json& params) {
  auto it = params.find("chat_id");
  if (it == params.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) return std::stoll(it->get<std::string>());
  return 0;
}

const char* const kKnownTags[] = {"b",          "strong",     "i",    "em",      "u",   "ins",
                                  "s",          "strike",     "del",  "code",    "pre", "a",
                                  "tg-spoiler", "blockquote", "span", "tg-emoji"};

bool KnownTag(const std::string& name) {
  for (const char* tag : kKnownTags) {
    if (name == tag) return true;
  }
  return false;
}

std::string ParseError(const std::string& what, size_t offset) {
  return "Bad Request: can't parse entities: " + what + " at byte offset " + std::to_string(offset);
}

bool KnownEntity(const std::string& entity) {
  if (entity == "lt" || entity == "gt" || entity == "amp" || entity == "quot") return true;
  if (entity.size() < 2 || entity[0] != '#') return false;
  bool hex = entity[1] == 'x' || entity[1] == 'X';
  std::string digits = entity.substr(hex ? 2 : 1);
  if (digits.empty()) return false;
  for (char c : digits) {
    if (!(hex ? std::isxdigit(static_cast<unsigned char>(c))
              : std::isdigit(static_cast<unsigned char>(c)))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string CheckTelegramHtml(const std::string& text) {
  std::vector<std::string> open;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&') {
      size_t semi = text.find(';', i);
      if (semi == std::string::npos || !KnownEntity(text.substr(i + 1, semi - i - 1))) {
        return ParseError("Unsupported entity", i);
      }
      continue;
    }
    if (text[i] == '>') return ParseError("Unexpected end tag", i);
    if (text[i] != '<') continue;
    size_t close = text.find('>', i);
    if (close == std::string::npos) return ParseError("Unclosed start tag", i);
    std::string tag = text.substr(i + 1, close - i - 1);
    bool closing = !tag.empty() && tag[0] == '/';
    std::string name = tag.substr(closing ? 1 : 0,
                                  tag.find_first_of(" \t\n", closing ? 1 : 0) - (closing ? 1 : 0));
    if (!KnownTag(name)) return ParseError("Unsupported start tag \"" + name + "\"", i);
    if (!closing) {
      open.push_back(name);
    } else if (open.empty() || open.back() != name) {
      return ParseError("Unmatched end tag \"" + name + "\"", i);
    } else {
      open.pop_back();
    }
    i = close;
  }
  if (!open.empty())
    return ParseError("Can't find end tag corresponding to start tag \"" + open.back() + "\"",
                      text.size());
  return "";
}

absl::StatusOr<json> LoadJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("open " + path + ": cannot read");
  std::stringstream buf;
  buf << in.rdbuf();
  json j = json::parse(buf.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("parse " + path + ": not JSON");
  return j;
}

json DefaultBot() {
  return {{"id", 8012345678},
          {"is_bot", true},
          {"first_name", "Andy"},
          {"username", "andy_home_bot"},
          {"can_join_groups", true},
          {"can_read_all_group_messages", false},
          {"supports_inline_queries", false}};
}

TelegramTestServer::TelegramTestServer(std::string token, json bot)
    : token_(std::move(token)), bot_(bot.is_null() ? DefaultBot() : std::move(bot)) {}

TelegramTestServer::~TelegramTestServer() { Stop(); }

absl::Status TelegramTestServer::Start(const std::string& host, int port) {
  server_ = std::make_unique<httplib::Server>();
  server_->set_keep_alive_max_count(100000);
  server_->set_tcp_nodelay(true);
  // Remember the listening socket: the library listens with a backlog of 5, which drops
  // connections when many clients connect at once; Start() raises it.
  server_->set_socket_options([this](int fd) {
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd_ = fd;
  });
  // A kept-alive connection holds a worker; allow many concurrent clients (senders, pollers).
  server_->new_task_queue = [] { return new httplib::ThreadPool(128); };
  server_->set_read_timeout(120, 0);
  server_->set_write_timeout(120, 0);
  auto bot_api = [this](const httplib::Request& req, httplib::Response& res) {
    HandleBotApi(req, res);
  };
  auto control = [this](const httplib::Request& req, httplib::Response& res) {
    HandleControl(req, res);
  };
  server_->Post(R"(/bot([^/]+)/([A-Za-z]+))", bot_api);
  server_->Get(R"(/bot([^/]+)/([A-Za-z]+))", bot_api);
  server_->Post(R"(/control/(\w+))", control);
  server_->Get(R"(/control/(\w+))", control);
  port_ =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (listen_fd_ >= 0) ::listen(listen_fd_, 1024);
  if (port_ <= 0) {
    return absl::UnavailableError("bind " + host + ":" + std::to_string(port) + ": failed");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() before the accept loop runs would be lost; wait until it runs.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return absl::OkStatus();
}

void TelegramTestServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    changed_.notify_all();
  }
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string TelegramTestServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

int64_t TelegramTestServer::EnqueueUpdate(json update) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!update.contains("update_id")) update["update_id"] = next_update_id_++;
  int64_t id = update["update_id"].get<int64_t>();
  updates_.push_back(std::move(update));
  changed_.notify_all();
  return id;
}

void TelegramTestServer::Script(const std::string& method, json reply,
                                std::optional<int64_t> chat_id, int times, int skip) {
  std::lock_guard<std::mutex> lock(mu_);
  scripts_.push_back({method, chat_id, times, std::move(reply), skip});
}

std::vector<BotApiRequest> TelegramTestServer::Requests(const std::string& method) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<BotApiRequest> out;
  for (const BotApiRequest& r : requests_) {
    if (method.empty() || r.method == method) out.push_back(r);
  }
  return out;
}

bool TelegramTestServer::WaitForRequests(const std::string& method, size_t n,
                                         absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] {
    size_t count = 0;
    for (const BotApiRequest& r : requests_) count += r.method == method ? 1 : 0;
    return count >= n;
  });
}

size_t TelegramTestServer::pending_updates() const {
  std::lock_guard<std::mutex> lock(mu_);
  return updates_.size();
}

void TelegramTestServer::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  updates_.clear();
  scripts_.clear();
  requests_.clear();
}

void TelegramTestServer::HandleBotApi(const httplib::Request& req, httplib::Response& res) {
  json reply;
  if (req.matches[1] != token_) {
    reply = ErrorReply(401, "Unauthorized");
  } else {
    reply = Dispatch(req.matches[2].str(), RequestParams(req));
  }
  res.status = reply.value("ok", false) ? 200 : reply.value("error_code", 500);
  res.set_content(reply.dump(), "application/json");
}

json TelegramTestServer::Dispatch(const std::string& method, const json& params) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back({method, params, absl::Now()});
    changed_.notify_all();
    if (std::optional<json> scripted = TakeScriptLocked(method, params)) return *scripted;
  }
  if (method == "getMe") return {{"ok", true}, {"result", bot_}};
  if (method == "getUpdates") return GetUpdates(params);
  if (method == "sendMessage") return SendMessage(params);
  if (method == "sendChatAction" || method == "deleteWebhook" || method == "setWebhook") {
    return {{"ok", true}, {"result", true}};
  }
  return ErrorReply(404, "Not Found: method not found");
}

std::optional<json> TelegramTestServer::TakeScriptLocked(const std::string& method,
                                                         const json& params) {
  for (auto it = scripts_.begin(); it != scripts_.end(); ++it) {
    if (it->method != method || (it->chat_id && *it->chat_id != ChatId(params))) continue;
    if (it->skip > 0) {
      --it->skip;
      return std::nullopt;
    }
    json reply = it->reply;
    if (--it->remaining <= 0) scripts_.erase(it);
    return reply;
  }
  return std::nullopt;
}

json TelegramTestServer::GetUpdates(const json& params) {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t generation = ++poll_generation_;
  changed_.notify_all();
  int64_t offset = params.value("offset", int64_t{0});
  if (offset > 0) {
    // An offset confirms every update below it: Telegram forgets them.
    std::erase_if(updates_, [&](const json& u) { return u["update_id"].get<int64_t>() < offset; });
  }
  size_t limit = params.value("limit", 100);
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(params.value("timeout", int64_t{0}));
  bool timed_out = false;
  while (true) {
    if (generation != poll_generation_) {
      return ErrorReply(409,
                        "Conflict: terminated by other getUpdates request; make sure that "
                        "only one bot instance is running");
    }
    json result = json::array();
    for (const json& u : updates_) {
      if (u["update_id"].get<int64_t>() >= offset && result.size() < limit) result.push_back(u);
    }
    if (!result.empty() || stopping_ || timed_out) return {{"ok", true}, {"result", result}};
    timed_out = changed_.wait_until(lock, deadline) == std::cv_status::timeout;
  }
}

json TelegramTestServer::SendMessage(const json& params) {
  std::string text = params.value("text", "");
  if (text.empty()) return ErrorReply(400, "Bad Request: message text is empty");
  if (Utf16Length(text) > 4096) return ErrorReply(400, "Bad Request: message is too long");
  if (params.value("parse_mode", "") == "HTML") {
    std::string error = CheckTelegramHtml(text);
    if (!error.empty()) return ErrorReply(400, error);
  }
  std::lock_guard<std::mutex> lock(mu_);
  json result = {{"message_id", next_message_id_++},
                 {"date", absl::ToUnixSeconds(absl::Now())},
                 {"chat", {{"id", ChatId(params)}}},
                 {"text", text}};
  if (params.contains("message_thread_id"))
    result["message_thread_id"] = params["message_thread_id"];
  return {{"ok", true}, {"result", result}};
}

void TelegramTestServer::HandleControl(const httplib::Request& req, httplib::Response& res) {
  std::string what = req.matches[1].str();
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  json reply = {{"ok", true}};
  if (what == "updates" && (body.is_object() || body.is_array())) {
    json ids = json::array();
    for (json& u : body.is_array() ? body : json::array({body})) ids.push_back(EnqueueUpdate(u));
    reply["update_ids"] = ids;
  } else if (what == "script" && body.is_object() && body.contains("method")) {
    std::optional<int64_t> chat;
    if (body.contains("chat_id")) chat = body["chat_id"].get<int64_t>();
    Script(body["method"].get<std::string>(), body.value("reply", json()), chat,
           body.value("times", 1), body.value("skip", 0));
  } else if (what == "requests") {
    json list = json::array();
    for (const BotApiRequest& r : Requests(req.get_param_value("method"))) {
      list.push_back({{"method", r.method}, {"params", r.params}});
    }
    reply["requests"] = list;
  } else if (what == "reset") {
    Reset();
  } else {
    res.status = 400;
    reply = ErrorReply(400, "unknown control request " + what);
  }
  res.set_content(reply.dump(), "application/json");
}

}  // namespace clawdie::testing
