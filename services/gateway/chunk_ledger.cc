// Delivered chunks per outbox entry; see chunk_ledger.h.
#include "services/gateway/chunk_ledger.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "nlohmann/json.hpp"
#include "services/gateway/telegram_state.h"

namespace clawdie::gateway {
namespace {

using json = nlohmann::json;

absl::Status Errno(const std::string& op, const std::string& path) {
  return absl::UnavailableError(op + " " + path + ": " + std::strerror(errno));
}

std::string Line(int64_t outbox_id, uint64_t fingerprint, const ChunkLedger::Progress& p) {
  json line = {{"outbox", outbox_id}, {"fp", fingerprint}, {"ids", p.ids}, {"done", p.complete}};
  if (p.sending) line["sending"] = true;
  return line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// The file's contents; empty when it does not exist.
absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return std::string();
  if (fd < 0) return Errno("open", path);
  std::string text;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = Errno("read", path);
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace

uint64_t ReplyFingerprint(const std::string& chat_key, const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) {
      hash ^= c;
      hash *= 1099511628211ull;
    }
  };
  mix(chat_key);
  mix(std::string(1, '\0'));
  mix(text);
  return hash;
}

absl::StatusOr<std::unique_ptr<ChunkLedger>> ChunkLedger::Open(const std::string& path,
                                                               size_t capacity) {
  std::unique_ptr<ChunkLedger> ledger(new ChunkLedger(path, std::max<size_t>(capacity, 1)));
  if (path.empty()) return ledger;
  absl::Status loaded = ledger->Load();
  if (!loaded.ok()) return loaded;
  return ledger;
}

ChunkLedger::~ChunkLedger() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status ChunkLedger::Load() {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<std::string> text = ReadWhole(path_);
  if (!text.ok()) return text.status();
  // A line cut short by a crash would swallow the next append: rewrite the file then.
  bool rewrite = !text->empty() && text->back() != '\n';
  for (size_t start = 0; start < text->size();) {
    size_t end = std::min(text->find('\n', start), text->size());
    if (!ReplayLocked(text->substr(start, end - start))) rewrite = true;
    start = end + 1;
    ++lines_;
  }
  if (rewrite || lines_ > 2 * capacity_) return CompactLocked();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return Errno("open", path_);
  return absl::OkStatus();
}

bool ChunkLedger::ReplayLocked(const std::string& text) {
  json line = json::parse(text, nullptr, /*allow_exceptions=*/false);
  try {
    Entry entry;
    entry.fingerprint = line.at("fp").get<uint64_t>();
    entry.progress.ids = line.at("ids").get<std::vector<std::string>>();
    entry.progress.complete = line.at("done").get<bool>();
    entry.progress.sending = line.value("sending", false);
    RememberLocked(line.at("outbox").get<int64_t>(), std::move(entry));
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

bool ChunkLedger::Begin(int64_t outbox_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_.insert(outbox_id).second;
}

void ChunkLedger::End(int64_t outbox_id) {
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.erase(outbox_id);
}

ChunkLedger::Progress ChunkLedger::Get(int64_t outbox_id, uint64_t fingerprint) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(outbox_id);
  if (it == entries_.end() || it->second.fingerprint != fingerprint) return Progress();
  return it->second.progress;
}

absl::Status ChunkLedger::RecordSending(int64_t outbox_id, uint64_t fingerprint,
                                        const std::vector<std::string>& ids) {
  return Write(outbox_id, Entry{fingerprint, {ids, false, true}});
}

absl::Status ChunkLedger::Record(int64_t outbox_id, uint64_t fingerprint,
                                 const std::vector<std::string>& ids, bool complete) {
  return Write(outbox_id, Entry{fingerprint, {ids, complete, false}});
}

absl::Status ChunkLedger::Write(int64_t outbox_id, Entry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string line = Line(outbox_id, entry.fingerprint, entry.progress);
  RememberLocked(outbox_id, std::move(entry));
  if (path_.empty()) return absl::OkStatus();
  absl::Status appended = AppendLocked(line);
  if (appended.ok() && lines_ > 2 * capacity_) return CompactLocked();
  return appended;
}

void ChunkLedger::RememberLocked(int64_t outbox_id, Entry entry) {
  auto [it, inserted] = entries_.insert_or_assign(outbox_id, std::move(entry));
  if (inserted) order_.push_back(outbox_id);
  while (order_.size() > capacity_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

absl::Status ChunkLedger::AppendLocked(const std::string& line) {
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return Errno("open", path_);
  }
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("append to", path_);
    done += static_cast<size_t>(n);
  }
  ++lines_;
  return absl::OkStatus();
}

absl::Status ChunkLedger::CompactLocked() {
  std::string contents;
  for (int64_t outbox_id : order_) {
    const Entry& entry = entries_.at(outbox_id);
    contents += Line(outbox_id, entry.fingerprint, entry.progress);
  }
  absl::Status written = WriteFileAtomically(path_, contents);
  if (!written.ok()) return written;
  if (fd_ >= 0) ::close(fd_);
  lines_ = order_.size();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return Errno("open", path_);
  return absl::OkStatus();
}

}  // namespace clawdie::gateway
