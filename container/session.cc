#include "container/session.h"

#include <ctime>
#include <fstream>
#include <random>
#include <set>

#include "common/logging.h"
#include "container/json_util.h"

namespace clawdie::agent {
namespace {

namespace fs = std::filesystem;

bool IsTurnStart(const nlohmann::json& message) {
  if (StringField(message, "role") != "user") return false;
  const nlohmann::json& content = Field(message, "content");
  if (!content.is_array()) return true;
  for (const nlohmann::json& block : content) {
    if (StringField(block, "type") == "tool_result") return false;
  }
  return true;
}

nlohmann::json AsBlocks(const nlohmann::json& content) {
  if (content.is_array()) return content;
  return nlohmann::json::array(
      {{{"type", "text"}, {"text", content.is_string() ? content.get<std::string>() : ""}}});
}

// Ids of the tool_use blocks in an assistant message.
std::vector<std::string> ToolUseIds(const nlohmann::json& message) {
  std::vector<std::string> ids;
  const nlohmann::json& content = Field(message, "content");
  if (StringField(message, "role") != "assistant" || !content.is_array()) return ids;
  for (const nlohmann::json& block : content) {
    if (StringField(block, "type") == "tool_use") ids.push_back(StringField(block, "id"));
  }
  return ids;
}

// Adds an error tool_result in front of `next` for every id it does not answer.
void AnswerMissingToolResults(const std::vector<std::string>& ids, nlohmann::json& next) {
  std::set<std::string> answered;
  for (const nlohmann::json& block : next["content"]) {
    if (StringField(block, "type") == "tool_result")
      answered.insert(StringField(block, "tool_use_id"));
  }
  nlohmann::json missing = nlohmann::json::array();
  for (const std::string& id : ids) {
    if (answered.count(id) > 0) continue;
    missing.push_back({{"type", "tool_result"},
                       {"tool_use_id", id},
                       {"is_error", true},
                       {"content", "interrupted: the agent stopped before this tool finished"}});
  }
  for (nlohmann::json& block : next["content"]) missing.push_back(std::move(block));
  next["content"] = std::move(missing);
}

}  // namespace

bool IsValidSessionId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

std::string NewSessionId() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
  std::random_device random;
  uint64_t bits = (static_cast<uint64_t>(random()) << 32) ^ random();
  char suffix[17];
  std::snprintf(suffix, sizeof(suffix), "%016llx", static_cast<unsigned long long>(bits));
  return std::string(stamp) + "-" + suffix;
}

size_t EstimateTokens(const nlohmann::json& value) { return DumpJson(value).size() / 4 + 1; }

size_t ChooseCompactionCut(const nlohmann::json& messages, size_t keep_tokens) {
  size_t kept_tokens = 0;
  size_t cut = 0;
  size_t last_turn_start = 0;
  for (size_t i = messages.size(); i-- > 1;) {
    kept_tokens += EstimateTokens(messages[i]);
    if (!IsTurnStart(messages[i])) continue;
    if (last_turn_start == 0) last_turn_start = i;
    if (kept_tokens > keep_tokens) break;
    cut = i;
  }
  // Even if the newest turn alone is over the budget, everything before it can go.
  return cut != 0 ? cut : last_turn_start;
}

Session::Session(fs::path dir, std::string id) : path_(dir / (id + ".jsonl")), id_(std::move(id)) {}

Session Session::OpenOrCreate(const fs::path& dir, const std::string& requested_id,
                              bool* continued) {
  auto log = GetLogger("agent");
  *continued = false;
  if (!requested_id.empty()) {
    if (!IsValidSessionId(requested_id)) {
      log->warn("session {}: not a valid session id; starting a new session", requested_id);
    } else {
      Session session(dir, requested_id);
      absl::Status status = session.Load();
      if (status.ok()) {
        *continued = true;
        return session;
      }
      log->warn("{}; starting a new session", std::string(status.message()));
    }
  }

  Session session(dir, NewSessionId());
  std::error_code error;
  fs::create_directories(dir, error);
  std::ofstream touch(session.path_, std::ios::app);
  if (error || !touch.good()) {
    log->error("create session file {}: {}; the conversation will not be kept",
               session.path_.string(), error ? error.message() : "cannot open");
    session.persist_ = false;
  }
  return session;
}

absl::Status Session::Load() {
  std::ifstream in(path_);
  if (!in.is_open())
    return absl::NotFoundError("open session " + path_.string() + ": no such file");
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    absl::StatusOr<nlohmann::json> parsed = ParseJson(line, "session line");
    std::string type = parsed.ok() ? StringField(*parsed, "type") : "";
    if (type == "message" && Field(*parsed, "message").is_object()) {
      message_bytes_ += DumpJson((*parsed)["message"]).size();
      messages_.push_back((*parsed)["message"]);
    } else if (type == "summary") {
      summary_ = StringField(*parsed, "text");
    } else {
      // A torn last line after a crash is expected; skip it rather than lose the session.
      GetLogger("agent")->warn("session {} line {}: not a transcript entry; skipped", id_, number);
    }
  }
  if (in.bad()) return absl::DataLossError("read session " + path_.string() + ": read error");
  return absl::OkStatus();
}

absl::Status Session::WriteLine(const std::string& line) {
  if (!persist_) return absl::OkStatus();
  std::ofstream out(path_, std::ios::app | std::ios::binary);
  out << line << '\n';
  out.flush();
  if (!out.good())
    return absl::UnavailableError("append session " + path_.string() + ": write error");
  return absl::OkStatus();
}

absl::Status Session::Append(nlohmann::json message) {
  std::string serialized = DumpJson(message);
  message_bytes_ += serialized.size();
  messages_.push_back(std::move(message));
  // Same as DumpJson({{"type","message"},{"message",...}}) without a second serialization.
  return WriteLine("{\"message\":" + serialized + ",\"type\":\"message\"}");
}

absl::Status Session::Compact(size_t first_kept, std::string summary) {
  nlohmann::json kept = nlohmann::json::array();
  for (size_t i = first_kept; i < messages_.size(); ++i) kept.push_back(std::move(messages_[i]));
  messages_ = std::move(kept);
  summary_ = std::move(summary);
  message_bytes_ = 0;
  for (const nlohmann::json& message : messages_) message_bytes_ += DumpJson(message).size();
  if (!persist_) return absl::OkStatus();

  fs::path temp = path_;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc | std::ios::binary);
    if (!summary_.empty()) out << DumpJson({{"type", "summary"}, {"text", summary_}}) << '\n';
    for (const nlohmann::json& message : messages_) {
      out << DumpJson({{"type", "message"}, {"message", message}}) << '\n';
    }
    if (!out.good())
      return absl::UnavailableError("rewrite session " + temp.string() + ": write error");
  }
  std::error_code error;
  fs::rename(temp, path_, error);
  if (error)
    return absl::UnavailableError("rename session " + temp.string() + ": " + error.message());
  return absl::OkStatus();
}

nlohmann::json Session::RequestMessages() const {
  nlohmann::json out = nlohmann::json::array();
  if (!summary_.empty()) {
    out.push_back(
        {{"role", "user"},
         {"content",
          {{{"type", "text"},
            {"text", "[Summary of the earlier part of this conversation]\n" + summary_}}}}});
  }
  for (const nlohmann::json& message : messages_) {
    std::string role = StringField(message, "role");
    if (role != "user" && role != "assistant") continue;
    nlohmann::json blocks = AsBlocks(Field(message, "content"));
    if (!out.empty() && out.back()["role"] == role) {
      for (nlohmann::json& block : blocks) out.back()["content"].push_back(std::move(block));
    } else {
      out.push_back({{"role", role}, {"content", std::move(blocks)}});
    }
  }
  if (!out.empty() && out.front()["role"] != "user") {
    out.insert(out.begin(),
               {{"role", "user"},
                {"content", {{{"type", "text"}, {"text", "(conversation continues)"}}}}});
  }
  for (size_t i = 0; i < out.size(); ++i) {
    std::vector<std::string> ids = ToolUseIds(out[i]);
    if (ids.empty()) continue;
    if (i + 1 == out.size())
      out.push_back({{"role", "user"}, {"content", nlohmann::json::array()}});
    AnswerMissingToolResults(ids, out[i + 1]);
  }
  return out;
}

}  // namespace clawdie::agent
