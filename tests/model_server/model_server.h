// A test stand-in for a model provider: a small HTTP/1.1 server on loopback TCP or a Unix
// socket that answers POST requests (Anthropic Messages API at /v1/messages, OpenAI chat
// completions at /v1/chat/completions, or any other path) by replaying scripted responses —
// fixture files or inline bodies, with status and headers, optionally split into small writes,
// delayed, or cut off mid-stream. Every request is recorded (time, method, path, headers, body)
// and can be read back in process, from a JSON-lines log file, or at GET /_test/requests.
//
// Script (JSON):
//   {
//     "responses": [                              // answered in order, one per request
//       {"file": "anthropic/text_reply.sse"},     // relative to the fixtures directory
//       {"file": "anthropic/http_errors.json#rate_limited"},  // one case: status/headers/body
//       {"status": 401, "body": {"type": "error", ...}},      // inline; object bodies as JSON
//       {"file": "...", "chunk_size": 7, "delay_ms": 1, "cut_after": 300,
//        "replace": {"/workspace/group": "/tmp/x"}, "headers": {"x-a": "b"}}
//     ],
//     "fixed_text": "Hello",  // optional: answer every request after the script with this text
//     "ack_pattern": "m[0-9]+-[0-9]+"  // optional, instead of fixed_text: see below
//   }
// With only `fixed_text` (or --fixed-text) the server answers every request with that text as
// a streamed reply in the format its path asks for. When the script is exhausted and there is
// no fixed text, the answer is 500 with an error body saying so.
// With `ack_pattern` (an ECMAScript regex) every request after the script is answered with
// "ack " followed by each match of the pattern in the last user turn's text, space-separated
// ("ack" alone when nothing matches). Full-system tests mark each message with a token and so
// learn which messages every reply answered.
//
// Thread-safety: all public methods are safe from any thread; each connection is served on its
// own thread.
#ifndef CLAWDIE_TESTS_MODEL_SERVER_MODEL_SERVER_H_
#define CLAWDIE_TESTS_MODEL_SERVER_MODEL_SERVER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace clawdie::testing {

// One scripted answer.
struct ScriptedResponse {
  int status = 200;
  std::map<std::string, std::string> headers;
  std::string body;
  size_t chunk_size = 0;               // 0 = one write
  std::chrono::milliseconds delay{0};  // between chunks
  std::optional<size_t> cut_after;     // close the connection after this many body bytes
};

struct ModelServerScript {
  std::vector<ScriptedResponse> responses;
  std::optional<std::string> fixed_text;
  std::optional<std::string> ack_pattern;
};

// The text the server answers in `ack_pattern` mode for a request body (see above).
std::string AckText(const std::string& request_body, const std::string& pattern);

// Parses a script, loading fixture files relative to `fixtures_dir`. InvalidArgument names the
// bad entry.
absl::StatusOr<ModelServerScript> ParseScript(const nlohmann::json& script,
                                              const std::filesystem::path& fixtures_dir);
absl::StatusOr<ModelServerScript> LoadScriptFile(const std::filesystem::path& path,
                                                 const std::filesystem::path& fixtures_dir);

// The streamed reply carrying `text`: Anthropic SSE for /v1/messages paths, OpenAI chunks for
// paths ending in /chat/completions.
std::string FixedTextStream(const std::string& path, const std::string& text);

struct RecordedRequest {
  std::chrono::steady_clock::time_point first_byte;  // when the request's first bytes arrived
  std::chrono::steady_clock::time_point received;    // when the whole request had arrived
  std::chrono::steady_clock::time_point answered;    // when the last response byte was written
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
};

class ModelServer {
 public:
  // `listen` is "unix:/abs/path" or "HOST:PORT" (PORT 0 picks a free port; only loopback
  // hosts are accepted). Starts serving before returning.
  static absl::StatusOr<std::unique_ptr<ModelServer>> Start(const std::string& listen,
                                                            ModelServerScript script,
                                                            std::filesystem::path request_log = {});
  ~ModelServer();

  // "unix:/path" or "127.0.0.1:PORT" as actually bound.
  std::string address() const { return address_; }
  // For clients: the base URL (TCP) or the socket path (Unix).
  std::string base_url() const;
  std::string unix_path() const { return unix_path_; }

  // Appends responses to the script (tests that build it up as they go).
  void AddResponse(ScriptedResponse response);

  std::vector<RecordedRequest> Requests() const;
  // Waits until at least `count` requests were received; false on timeout.
  bool WaitForRequests(size_t count, std::chrono::milliseconds timeout) const;

  void Stop();

 private:
  ModelServer() = default;
  void AcceptLoop();
  void Serve(int fd);
  ScriptedResponse NextResponse(const std::string& path, const std::string& body);
  // Records a request before its response is written (so a client that has read the
  // response always finds it recorded); returns its index for MarkAnswered.
  size_t Record(RecordedRequest request);
  void MarkAnswered(size_t index);

  int listen_fd_ = -1;
  std::string address_;
  std::string unix_path_;
  std::filesystem::path request_log_;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  ModelServerScript script_;
  size_t next_response_ = 0;
  std::vector<RecordedRequest> requests_;
  std::vector<std::thread> connections_;
};

}  // namespace clawdie::testing

#endif  // CLAWDIE_TESTS_MODEL_SERVER_MODEL_SERVER_H_
