#include "tests/model_server/model_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

namespace clawdie::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Errno(const std::string& what) { return what + ": " + strerror(errno); }

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return absl::NotFoundError("open fixture " + path.string() + ": no such file");
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

absl::StatusOr<json> ParseJsonText(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError("parse " + what + ": " + e.what());
  }
}

std::string BodyText(const json& body) {
  return body.is_string() ? body.get<std::string>() : body.dump();
}

// Fills status, headers and body from a case object {"status", "headers", "body"}.
void ApplyCase(const json& entry, ScriptedResponse& response) {
  if (entry.contains("status") && entry["status"].is_number_integer())
    response.status = entry["status"];
  if (entry.contains("headers") && entry["headers"].is_object()) {
    for (const auto& [name, value] : entry["headers"].items()) {
      if (value.is_string()) response.headers[name] = value.get<std::string>();
    }
  }
  if (entry.contains("body")) response.body = BodyText(entry["body"]);
}

absl::Status LoadFile(const std::string& spec, const fs::path& fixtures_dir,
                      ScriptedResponse& response) {
  size_t hash = spec.find('#');
  fs::path path = spec.substr(0, hash);
  if (path.is_relative()) path = fixtures_dir / path;
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  if (hash == std::string::npos) {
    response.body = *std::move(text);
    return absl::OkStatus();
  }
  absl::StatusOr<json> cases = ParseJsonText(*text, path.string());
  if (!cases.ok()) return cases.status();
  std::string name = spec.substr(hash + 1);
  if (!cases->is_object() || !cases->contains(name) || !(*cases)[name].is_object()) {
    return absl::InvalidArgumentError("fixture " + path.string() + ": no case \"" + name + "\"");
  }
  ApplyCase((*cases)[name], response);
  return absl::OkStatus();
}

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

absl::StatusOr<ScriptedResponse> ParseEntry(const json& entry, const fs::path& fixtures_dir) {
  if (!entry.is_object()) return absl::InvalidArgumentError("not an object");
  ScriptedResponse response;
  if (entry.contains("file")) {
    if (!entry["file"].is_string()) return absl::InvalidArgumentError("\"file\" must be a string");
    if (absl::Status s = LoadFile(entry["file"], fixtures_dir, response); !s.ok()) return s;
  }
  ApplyCase(entry, response);
  if (entry.contains("chunk_size")) response.chunk_size = entry["chunk_size"].get<size_t>();
  if (entry.contains("delay_ms"))
    response.delay = std::chrono::milliseconds(entry["delay_ms"].get<int>());
  if (entry.contains("cut_after")) response.cut_after = entry["cut_after"].get<size_t>();
  if (entry.contains("replace") && entry["replace"].is_object()) {
    for (const auto& [from, to] : entry["replace"].items()) {
      if (to.is_string()) ReplaceAll(response.body, from, to.get<std::string>());
    }
  }
  return response;
}

std::string StatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 529:
      return "Overloaded";
    default:
      return "Status";
  }
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads from `fd` into `buffer` until it holds at least `size` bytes; false on EOF or error.
bool ReadAtLeast(int fd, std::string& buffer, size_t size) {
  char chunk[65536];
  while (buffer.size() < size) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

struct ParsedRequest {
  std::chrono::steady_clock::time_point first_byte;
  std::string method, path;
  std::map<std::string, std::string> headers;
  std::string body;
};

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool ReadChunkedBody(int fd, std::string& buffer, std::string& body) {
  while (true) {
    size_t line_end;
    while ((line_end = buffer.find("\r\n")) == std::string::npos) {
      if (!ReadAtLeast(fd, buffer, buffer.size() + 1)) return false;
    }
    size_t size = std::stoul(buffer.substr(0, line_end), nullptr, 16);
    buffer.erase(0, line_end + 2);
    if (!ReadAtLeast(fd, buffer, size + 2)) return false;
    body.append(buffer, 0, size);
    buffer.erase(0, size + 2);
    if (size == 0) return true;
  }
}

std::optional<ParsedRequest> ReadRequest(int fd) {
  std::string buffer;
  ParsedRequest request;
  if (!ReadAtLeast(fd, buffer, 1)) return std::nullopt;
  request.first_byte = std::chrono::steady_clock::now();
  size_t header_end;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (buffer.size() > 1024 * 1024 || !ReadAtLeast(fd, buffer, buffer.size() + 1)) {
      return std::nullopt;
    }
  }
  std::istringstream head(buffer.substr(0, header_end));
  std::string line;
  std::getline(head, line);
  std::istringstream first(line);
  first >> request.method >> request.path;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t value = line.find_first_not_of(' ', colon + 1);
    request.headers[Lower(line.substr(0, colon))] =
        value == std::string::npos ? "" : line.substr(value);
  }
  buffer.erase(0, header_end + 4);
  if (Lower(request.headers["transfer-encoding"]) == "chunked") {
    if (!ReadChunkedBody(fd, buffer, request.body)) return std::nullopt;
  } else {
    size_t length =
        request.headers.count("content-length") ? std::stoul(request.headers["content-length"]) : 0;
    if (!ReadAtLeast(fd, buffer, length)) return std::nullopt;
    request.body = buffer.substr(0, length);
  }
  return request;
}

json RequestJson(const RecordedRequest& request) {
  return {{"method", request.method},
          {"path", request.path},
          {"headers", request.headers},
          {"body", request.body}};
}

bool IsLoopbackHost(const std::string& host) { return host == "127.0.0.1" || host == "localhost"; }

}  // namespace

absl::StatusOr<ModelServerScript> ParseScript(const json& script, const fs::path& fixtures_dir) {
  ModelServerScript parsed;
  if (!script.is_object())
    return absl::InvalidArgumentError("model server script: not a JSON object");
  if (script.contains("responses")) {
    if (!script["responses"].is_array()) {
      return absl::InvalidArgumentError("model server script: \"responses\" must be an array");
    }
    for (size_t i = 0; i < script["responses"].size(); ++i) {
      absl::StatusOr<ScriptedResponse> response = ParseEntry(script["responses"][i], fixtures_dir);
      if (!response.ok()) {
        return absl::InvalidArgumentError("model server script response " + std::to_string(i) +
                                          ": " + std::string(response.status().message()));
      }
      parsed.responses.push_back(*std::move(response));
    }
  }
  if (script.contains("fixed_text") && script["fixed_text"].is_string()) {
    parsed.fixed_text = script["fixed_text"].get<std::string>();
  }
  if (script.contains("ack_pattern") && script["ack_pattern"].is_string()) {
    parsed.ack_pattern = script["ack_pattern"].get<std::string>();
    try {
      std::regex check(*parsed.ack_pattern);
    } catch (const std::regex_error& e) {
      return absl::InvalidArgumentError("model server script ack_pattern: " +
                                        std::string(e.what()));
    }
  }
  return parsed;
}

absl::StatusOr<ModelServerScript> LoadScriptFile(const fs::path& path,
                                                 const fs::path& fixtures_dir) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<json> script = ParseJsonText(*text, "model server script " + path.string());
  if (!script.ok()) return script.status();
  return ParseScript(*script, fixtures_dir);
}

std::string FixedTextStream(const std::string& path, const std::string& text) {
  if (path.size() >= 17 && path.compare(path.size() - 17, 17, "/chat/completions") == 0) {
    auto chunk = [](const json& delta, const json& finish) {
      return "data: " +
             json{{"id", "chatcmpl-fixed"},
                  {"object", "chat.completion.chunk"},
                  {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}}
                 .dump() +
             "\n\n";
    };
    return chunk({{"role", "assistant"}, {"content", ""}}, nullptr) +
           chunk({{"content", text}}, nullptr) + chunk(json::object(), "stop") + "data: [DONE]\n\n";
  }
  auto event = [](const std::string& name, const json& data) {
    return "event: " + name + "\ndata: " + data.dump() + "\n\n";
  };
  return event("message_start", {{"type", "message_start"},
                                 {"message",
                                  {{"id", "msg_fixed"},
                                   {"type", "message"},
                                   {"role", "assistant"},
                                   {"content", json::array()},
                                   {"model", "test"},
                                   {"stop_reason", nullptr},
                                   {"usage", {{"input_tokens", 1}, {"output_tokens", 1}}}}}}) +
         event("content_block_start", {{"type", "content_block_start"},
                                       {"index", 0},
                                       {"content_block", {{"type", "text"}, {"text", ""}}}}) +
         event("content_block_delta", {{"type", "content_block_delta"},
                                       {"index", 0},
                                       {"delta", {{"type", "text_delta"}, {"text", text}}}}) +
         event("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}) +
         event("message_delta", {{"type", "message_delta"},
                                 {"delta", {{"stop_reason", "end_turn"}}},
                                 {"usage", {{"output_tokens", 1}}}}) +
         event("message_stop", {{"type", "message_stop"}});
}

absl::StatusOr<std::unique_ptr<ModelServer>> ModelServer::Start(const std::string& listen,
                                                                ModelServerScript script,
                                                                fs::path request_log) {
  std::unique_ptr<ModelServer> server(new ModelServer());
  server->script_ = std::move(script);
  server->request_log_ = std::move(request_log);

  if (listen.rfind("unix:", 0) == 0) {
    std::string path = listen.substr(5);
    sockaddr_un addr{};
    if (path.size() >= sizeof(addr.sun_path)) {
      return absl::InvalidArgumentError("listen " + listen + ": socket path too long");
    }
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    unlink(path.c_str());  // a test server owns its own per-test path
    server->listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (bind(server->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return absl::UnavailableError(Errno("bind " + listen));
    }
    server->unix_path_ = path;
    server->address_ = listen;
  } else {
    size_t colon = listen.rfind(':');
    std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
    if (!IsLoopbackHost(host)) {
      return absl::InvalidArgumentError("listen " + listen + ": only 127.0.0.1 or unix:PATH");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::stoi(listen.substr(colon + 1))));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server->listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(server->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(server->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return absl::UnavailableError(Errno("bind " + listen));
    }
    socklen_t len = sizeof(addr);
    getsockname(server->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    server->address_ = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  }
  if (::listen(server->listen_fd_, 64) != 0)
    return absl::UnavailableError(Errno("listen " + listen));
  ModelServer* raw = server.get();
  server->accept_thread_ = std::thread([raw] { raw->AcceptLoop(); });
  return server;
}

ModelServer::~ModelServer() { Stop(); }

std::string ModelServer::base_url() const {
  return unix_path_.empty() ? "http://" + address_ : "http://localhost";
}

void ModelServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (!unix_path_.empty()) unlink(unix_path_.c_str());
  std::vector<std::thread> connections;
  {
    std::lock_guard<std::mutex> lock(mu_);
    connections.swap(connections_);
  }
  for (std::thread& thread : connections) thread.join();
}

void ModelServer::AddResponse(ScriptedResponse response) {
  std::lock_guard<std::mutex> lock(mu_);
  script_.responses.push_back(std::move(response));
}

std::vector<RecordedRequest> ModelServer::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

bool ModelServer::WaitForRequests(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
}

void ModelServer::AcceptLoop() {
  while (!stopping_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (poll(&pfd, 1, 50) <= 0) continue;
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::lock_guard<std::mutex> lock(mu_);
    connections_.emplace_back([this, fd] { Serve(fd); });
  }
}

std::string AckText(const std::string& request_body, const std::string& pattern) {
  // The last user turn: Anthropic and OpenAI both send `messages` with a role and content that
  // is a string or a list of blocks; text blocks are joined, tool results ignored.
  json body = json::parse(request_body, nullptr, false);
  std::string text;
  if (body.is_object() && body.contains("messages") && body["messages"].is_array()) {
    for (const json& message : body["messages"]) {
      if (!message.is_object() || message.value("role", "") != "user") continue;
      const json content = message.value("content", json());
      std::string turn;
      if (content.is_string()) {
        turn = content.get<std::string>();
      } else if (content.is_array()) {
        for (const json& block : content) {
          if (block.is_object() && block.value("type", "") == "text") {
            turn += block.value("text", "");
          }
        }
      }
      if (!turn.empty()) text = turn;
    }
  }
  std::string reply = "ack";
  std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    reply += " " + it->str();
  }
  return reply;
}

ScriptedResponse ModelServer::NextResponse(const std::string& path, const std::string& body) {
  std::lock_guard<std::mutex> lock(mu_);
  if (next_response_ < script_.responses.size()) return script_.responses[next_response_++];
  ScriptedResponse response;
  if (script_.ack_pattern) {
    response.body = FixedTextStream(path, AckText(body, *script_.ack_pattern));
  } else if (script_.fixed_text) {
    response.body = FixedTextStream(path, *script_.fixed_text);
  } else {
    response.status = 500;
    response.body = R"({"type":"error","error":{"type":"api_error",)"
                    R"("message":"test model server: script exhausted"}})";
  }
  return response;
}

size_t ModelServer::Record(RecordedRequest request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!request_log_.empty()) {
    std::ofstream log(request_log_, std::ios::app);
    log << RequestJson(request).dump() << '\n';
  }
  requests_.push_back(std::move(request));
  cv_.notify_all();
  return requests_.size() - 1;
}

void ModelServer::MarkAnswered(size_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  if (index < requests_.size()) requests_[index].answered = std::chrono::steady_clock::now();
}

void ModelServer::Serve(int fd) {
  std::optional<ParsedRequest> parsed = ReadRequest(fd);
  if (!parsed) {
    close(fd);
    return;
  }
  RecordedRequest record{parsed->first_byte,
                         std::chrono::steady_clock::now(),
                         {},
                         parsed->method,
                         parsed->path,
                         parsed->headers,
                         parsed->body};
  if (parsed->method == "GET" && parsed->path == "/_test/requests") {
    json all = json::array();
    for (const RecordedRequest& request : Requests()) all.push_back(RequestJson(request));
    std::string body = all.dump();
    WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    close(fd);
    return;
  }

  ScriptedResponse response = NextResponse(parsed->path, parsed->body);
  std::string head =
      "HTTP/1.1 " + std::to_string(response.status) + " " + StatusText(response.status) + "\r\n";
  if (!response.headers.count("content-type")) {
    head += response.status == 200 ? "Content-Type: text/event-stream\r\n"
                                   : "Content-Type: application/json\r\n";
  }
  for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
  head +=
      "Content-Length: " + std::to_string(response.body.size()) + "\r\nConnection: close\r\n\r\n";

  std::string_view body = response.body;
  if (response.cut_after) body = body.substr(0, std::min(*response.cut_after, body.size()));
  size_t index = Record(std::move(record));
  bool ok = WriteAll(fd, head);
  size_t step = response.chunk_size == 0 ? std::max<size_t>(body.size(), 1) : response.chunk_size;
  for (size_t pos = 0; ok && pos < body.size(); pos += step) {
    if (pos > 0 && response.delay.count() > 0) std::this_thread::sleep_for(response.delay);
    ok = WriteAll(fd, body.substr(pos, step));
  }
  MarkAnswered(index);
  // Half-close so the client sees the end (or the cut) now, then wait for it to hang up.
  shutdown(fd, SHUT_WR);
  char drain[256];
  while (recv(fd, drain, sizeof(drain), 0) > 0) {
  }
  close(fd);
}

}  // namespace clawdie::testing
