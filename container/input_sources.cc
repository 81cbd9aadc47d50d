#include "container/input_sources.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/logging.h"
#include "container/json_util.h"

namespace clawdie::agent {

void InputQueue::Push(InputEvent event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(event));
  }
  cv_.notify_all();
}

std::optional<InputEvent> InputQueue::Pop(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [this] { return !events_.empty(); })) return std::nullopt;
  InputEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

std::optional<InputEvent> InputQueue::TryPop() { return Pop(std::chrono::milliseconds(0)); }

std::optional<std::string> LineReader::ReadLine(const std::atomic<bool>* stop) {
  while (true) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (buffer_.size() > kMaxLine) {
      std::string line = std::move(buffer_);
      buffer_.clear();
      line.resize(kMaxLine);
      return line;
    }
    if (eof_) {
      if (buffer_.empty()) return std::nullopt;
      std::string line = std::move(buffer_);
      buffer_.clear();
      return line;
    }
    if (stop != nullptr) {
      pollfd pfd{fd_, POLLIN, 0};
      int ready = ::poll(&pfd, 1, 100);
      if (stop->load()) return std::nullopt;
      if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
    }
    char chunk[65536];
    ssize_t n = ::read(fd_, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) GetLogger("agent")->warn("read stdin: {}", strerror(errno));
      eof_ = true;
      continue;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

StdinPump::StdinPump(LineReader* reader, InputQueue* queue) : reader_(reader), queue_(queue) {
  thread_ = std::thread([this] { Run(); });
}

void StdinPump::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void StdinPump::Run() {
  auto log = GetLogger("agent");
  while (std::optional<std::string> line = reader_->ReadLine(&stop_)) {
    if (line->find_first_not_of(" \t\r") == std::string::npos) continue;
    absl::StatusOr<InputEvent> event = ParseInputLine(*line);
    if (!event.ok()) {
      log->error("{}; line skipped", std::string(event.status().message()));
      continue;
    }
    queue_->Push(*std::move(event));
  }
  if (!stop_) queue_->Push(InputEvent{InputEvent::Kind::kEndOfInput});
}

IpcWatcher::IpcWatcher(std::filesystem::path dir, std::chrono::milliseconds interval,
                       InputQueue* queue)
    : dir_(std::move(dir)), interval_(interval), queue_(queue) {
  std::error_code error;
  std::filesystem::create_directories(dir_, error);
  if (error) {
    GetLogger("agent")->warn("create IPC directory {}: {}; IPC follow-ups disabled", dir_.string(),
                             error.message());
    return;
  }
  thread_ = std::thread([this] { Run(); });
}

void IpcWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void IpcWatcher::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    ScanOnce();
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

int IpcWatcher::ScanOnce() {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name.front() == '.' || entry.path().extension() != ".json") continue;
    if (entry.is_regular_file(error)) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) Consume(file);
  return static_cast<int>(files.size());
}

void IpcWatcher::Consume(const std::filesystem::path& file) {
  auto log = GetLogger("agent");
  std::ifstream in(file, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  absl::StatusOr<InputEvent> event = absl::InvalidArgumentError("unreadable");
  absl::StatusOr<nlohmann::json> parsed = ParseJson(contents.str(), "IPC file");
  if (parsed.ok() && parsed->is_object() && !parsed->contains("type")) {
    (*parsed)["type"] = "message";  // a bare {"text": ...} is a message
  }
  event = parsed.ok() ? ParseInputLine(DumpJson(*parsed)) : parsed.status();
  if (event.ok() && event->kind == InputEvent::Kind::kToolResult) {
    event = absl::InvalidArgumentError("tool_result is only accepted on stdin");
  }

  std::error_code error;
  if (!event.ok()) {
    std::filesystem::path aside = dir_ / "errors" / file.filename();
    std::filesystem::create_directories(aside.parent_path(), error);
    std::filesystem::rename(file, aside, error);
    log->error("IPC file {}: {}; moved to {}", file.string(), std::string(event.status().message()),
               aside.string());
    if (error) std::filesystem::remove(file, error);
    return;
  }
  std::filesystem::remove(file, error);
  if (error) {
    // Not deleting it would deliver it again on the next scan.
    log->error("remove IPC file {}: {}; ignored", file.string(), error.message());
    return;
  }
  log->debug("IPC file {} taken as a follow-up", file.filename().string());
  queue_->Push(*std::move(event));
}

}  // namespace clawdie::agent
