// Durable Telegram channel state; see telegram_state.h.
#include "services/gateway/telegram_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "nlohmann/json.hpp"

namespace clawdie::gateway {
namespace {

using json = nlohmann::json;

absl::Status Errno(const std::string& op, const std::string& path) {
  return absl::UnavailableError(op + " " + path + ": " + std::strerror(errno));
}

absl::Status Parse(const std::string& path, const std::string& text, int64_t* offset,
                   std::map<std::string, std::string>* migrations, std::set<std::string>* blocked) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::InvalidArgumentError("parse " + path + ": not a JSON object");
  try {
    *offset = j.value("offset", int64_t{0});
    if (j.contains("migrations")) {
      *migrations = j["migrations"].get<std::map<std::string, std::string>>();
    }
    if (j.contains("blocked")) *blocked = j["blocked"].get<std::set<std::string>>();
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError("parse " + path + ": " + e.what());
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open", tmp);
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = Errno("write", tmp);
      ::close(fd);
      return status;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Errno("close", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename", tmp);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TelegramState>> TelegramState::Open(const std::string& path) {
  std::unique_ptr<TelegramState> state(new TelegramState(path));
  if (path.empty()) return state;
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return state;
  std::ifstream in(path);
  if (!in) return Errno("open", path);
  std::stringstream buf;
  buf << in.rdbuf();
  absl::Status parsed =
      Parse(path, buf.str(), &state->offset_, &state->migrations_, &state->blocked_);
  if (!parsed.ok()) return parsed;
  return state;
}

int64_t TelegramState::offset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return offset_;
}

absl::Status TelegramState::ConfirmUpTo(int64_t next_offset) {
  std::lock_guard<std::mutex> lock(mu_);
  if (next_offset <= offset_) return absl::OkStatus();
  offset_ = next_offset;
  return SaveOffsetLocked();
}

TelegramState::~TelegramState() {
  if (fd_ >= 0) ::close(fd_);
}

std::string TelegramState::Resolve(const std::string& chat_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string key = chat_key;
  // Bounded: a chain of migrations is short, a cycle must not hang.
  for (int hops = 0; hops < 8; ++hops) {
    auto it = migrations_.find(key);
    if (it == migrations_.end()) break;
    key = it->second;
  }
  return key;
}

absl::Status TelegramState::AddMigration(const std::string& from_key, const std::string& to_key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (from_key == to_key) return absl::OkStatus();
  auto it = migrations_.find(from_key);
  if (it != migrations_.end() && it->second == to_key) return absl::OkStatus();
  migrations_[from_key] = to_key;
  return SaveLocked();
}

bool TelegramState::IsBlocked(const std::string& chat_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return blocked_.count(chat_key) > 0;
}

absl::Status TelegramState::SetBlocked(const std::string& chat_key, bool blocked) {
  std::lock_guard<std::mutex> lock(mu_);
  bool changed = blocked ? blocked_.insert(chat_key).second : blocked_.erase(chat_key) > 0;
  return changed ? SaveLocked() : absl::OkStatus();
}

std::string TelegramState::SerializeLocked() const {
  json j = {{"offset", offset_}, {"migrations", migrations_}, {"blocked", blocked_}};
  return j.dump(1) + "\n";
}

absl::Status TelegramState::SaveLocked() {
  if (path_.empty()) return absl::OkStatus();
  if (fd_ >= 0) {
    ::close(fd_);  // the rename below replaces the file this descriptor points to
    fd_ = -1;
  }
  std::string contents = SerializeLocked();
  absl::Status written = WriteFileAtomically(path_, contents);
  if (written.ok()) file_size_ = contents.size();
  return written;
}

absl::Status TelegramState::SaveOffsetLocked() {
  if (path_.empty()) return absl::OkStatus();
  if (fd_ < 0) {
    absl::Status saved = SaveLocked();
    if (!saved.ok()) return saved;
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) return Errno("open", path_);
    return absl::OkStatus();
  }
  // Whitespace after the JSON document keeps it valid when the new text is shorter.
  std::string contents = SerializeLocked();
  if (contents.size() < file_size_) contents.append(file_size_ - contents.size(), ' ');
  ssize_t n = ::pwrite(fd_, contents.data(), contents.size(), 0);
  if (n != static_cast<ssize_t>(contents.size())) return Errno("write", path_);
  file_size_ = contents.size();
  return absl::OkStatus();
}

}  // namespace clawdie::gateway
