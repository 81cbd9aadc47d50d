// A stand-in for the Telegram Bot API on loopback, for gateway tests, benchmarks and the
// end-to-end suite. It speaks the documented wire format at `/bot<token>/<method>` for
// getMe, getUpdates (long poll with timeout, offset confirms earlier updates, a second
// concurrent poller gets 409), sendMessage, sendChatAction, deleteWebhook and setWebhook;
// answers can be scripted per method (and chat) from the shared fixtures; every request is
// recorded for assertions. sendMessage also checks what real Telegram checks: text length
// (4096 UTF-16 units) and HTML markup (known tags, balanced, valid entities).
//
// A control API on the same port lets other processes drive it:
//   POST /control/updates   body: one update or an array; update_id assigned when absent
//   POST /control/script    body: {"method":..., "reply":{...}, "chat_id":N?, "times":N?,
//                                  "skip":N?}
//   GET  /control/requests  ?method=sendMessage → JSON array of {"method","params"}
//   POST /control/reset     forget requests, scripts and queued updates
//
// Thread-safety: all public methods are safe to call from any thread.
#ifndef CLAWDIE_TESTS_TELEGRAM_SERVER_TELEGRAM_TEST_SERVER_H_
#define CLAWDIE_TESTS_TELEGRAM_SERVER_TELEGRAM_TEST_SERVER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace clawdie::testing {

struct BotApiRequest {
  std::string method;
  nlohmann::json params;
  absl::Time time;
};

class TelegramTestServer {
 public:
  // `bot` is the getMe result; null means the fixtures' @andy_home_bot (id 8012345678).
  explicit TelegramTestServer(std::string token, nlohmann::json bot = nlohmann::json());
  ~TelegramTestServer();

  // Binds `host:port` (port 0 picks one) and serves on a background thread.
  absl::Status Start(const std::string& host = "127.0.0.1", int port = 0);
  void Stop();
  int port() const { return port_; }
  // "http://127.0.0.1:<port>", the value for TELEGRAM_API_BASE.
  std::string base_url() const;

  // Queues an update for getUpdates. Assigns the next update_id when it has none.
  // Returns its update_id.
  int64_t EnqueueUpdate(nlohmann::json update);

  // The next `times` calls of `method` (to `chat_id`, when given) answer `reply`, after
  // `skip` matching calls were answered as usual (e.g. skip 1 fails a reply's second chunk);
  // the HTTP status is reply.error_code when reply.ok is false.
  void Script(const std::string& method, nlohmann::json reply,
              std::optional<int64_t> chat_id = std::nullopt, int times = 1, int skip = 0);

  std::vector<BotApiRequest> Requests(const std::string& method = "") const;
  // Waits (real time) until at least `n` requests of `method` were recorded.
  bool WaitForRequests(const std::string& method, size_t n,
                       absl::Duration timeout = absl::Seconds(10)) const;
  // Updates queued and not yet confirmed by an offset.
  size_t pending_updates() const;
  void Reset();

 private:
  struct ScriptedReply {
    std::string method;
    std::optional<int64_t> chat_id;
    int remaining;
    nlohmann::json reply;
    int skip = 0;
  };

  void HandleBotApi(const httplib::Request& req, httplib::Response& res);
  void HandleControl(const httplib::Request& req, httplib::Response& res);
  nlohmann::json Dispatch(const std::string& method, const nlohmann::json& params);
  nlohmann::json GetUpdates(const nlohmann::json& params);
  nlohmann::json SendMessage(const nlohmann::json& params);
  std::optional<nlohmann::json> TakeScriptLocked(const std::string& method,
                                                 const nlohmann::json& params);

  std::string token_;
  nlohmann::json bot_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  int listen_fd_ = -1;

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::deque<nlohmann::json> updates_;
  int64_t next_update_id_ = 700000000;
  int64_t next_message_id_ = 2001;
  uint64_t poll_generation_ = 0;
  std::vector<ScriptedReply> scripts_;
  std::vector<BotApiRequest> requests_;
  bool stopping_ = false;
};

// Reads a JSON file, e.g. a fixture from CLAWDIE_SHARED_FIXTURES "/telegram/responses.json".
absl::StatusOr<nlohmann::json> LoadJsonFile(const std::string& path);

// Checks `text` the way Telegram's HTML parse mode does (tags it knows, properly nested,
// entities it knows). Returns the error description Telegram would give, or "".
std::string CheckTelegramHtml(const std::string& text);

}  // namespace clawdie::testing

#endif  // CLAWDIE_TESTS_TELEGRAM_SERVER_TELEGRAM_TEST_SERVER_H_
