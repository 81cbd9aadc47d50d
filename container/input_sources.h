// Where the agent's input comes from after the start object: stdin lines (StdinPump) and JSON
// files dropped into NANOCLAW_IPC_DIR (IpcWatcher). Both feed one InputQueue that the agent
// loop drains; malformed input is logged on stderr and skipped.
//
// Thread-safety: InputQueue is safe from any thread. LineReader is used by one thread at a
// time. StdinPump and IpcWatcher each own a thread, stopped and joined by Stop() or the
// destructor.
#ifndef CLAWDIE_CONTAINER_INPUT_SOURCES_H_
#define CLAWDIE_CONTAINER_INPUT_SOURCES_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "container/protocol.h"

namespace clawdie::agent {

class InputQueue {
 public:
  void Push(InputEvent event);
  // Waits up to `timeout` for an event; nullopt on timeout.
  std::optional<InputEvent> Pop(std::chrono::milliseconds timeout);
  // Returns an event without waiting, if one is queued.
  std::optional<InputEvent> TryPop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<InputEvent> events_;
};

// Reads '\n'-terminated lines from a file descriptor it does not own.
class LineReader {
 public:
  static constexpr size_t kMaxLine = 16 * 1024 * 1024;

  explicit LineReader(int fd) : fd_(fd) {}

  // The next line without its terminator; nullopt at end of input or when `stop` becomes true
  // (checked every 100 ms). A final line without '\n' is returned too. Longer lines than
  // kMaxLine are returned truncated to fail parsing rather than exhaust memory.
  std::optional<std::string> ReadLine(const std::atomic<bool>* stop = nullptr);

 private:
  int fd_;
  std::string buffer_;
  bool eof_ = false;
};

// Reads the lines after the start object on its own thread, parses them into the queue and
// pushes kEndOfInput at end of input.
class StdinPump {
 public:
  StdinPump(LineReader* reader, InputQueue* queue);
  ~StdinPump() { Stop(); }
  void Stop();

 private:
  void Run();

  LineReader* reader_;
  InputQueue* queue_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Polls a directory for follow-up files. A file named `*.json` (writers create it under another
// name and rename it in, so it is complete) holding `{"type":"message","text":…}` (or just
// `{"text":…}`) or `{"type":"close"}` is queued and deleted; a malformed one is moved into
// `errors/` beside it with the reason logged. Files are taken in name order.
class IpcWatcher {
 public:
  IpcWatcher(std::filesystem::path dir, std::chrono::milliseconds interval, InputQueue* queue);
  ~IpcWatcher() { Stop(); }
  void Stop();

  // One scan, as the thread does it; returns how many files were consumed (for tests).
  int ScanOnce();

 private:
  void Run();
  void Consume(const std::filesystem::path& file);

  std::filesystem::path dir_;
  std::chrono::milliseconds interval_;
  InputQueue* queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_INPUT_SOURCES_H_
