// The model engines: how one provider's HTTP API is spoken (`ModelEngine`: request body,
// headers, stream format) and the client that sends a request with the retry policy of
// issue #4 (`ModelClient`: 429/529/5xx and in-stream overload retried after `retry-after` or
// with bounded backoff, a stream cut mid-answer retried once, 401/403 reported with the key
// to check).
//
// Thread-safety: engines are immutable after construction. A ModelClient is used by one
// thread at a time.
#ifndef CLAWDIE_CONTAINER_MODEL_CLIENT_H_
#define CLAWDIE_CONTAINER_MODEL_CLIENT_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "container/http_stream.h"
#include "container/model_types.h"
#include "container/stream_assembler.h"

namespace clawdie::agent {

class ModelEngine {
 public:
  virtual ~ModelEngine() = default;

  // "anthropic" or "openai".
  virtual std::string_view provider() const = 0;
  // The request path below the base URL.
  virtual std::string_view path() const = 0;
  // The setting an operator must check when the provider rejects the credentials.
  virtual std::string_view credential_hint() const = 0;
  // The JSON request body for `request`, with streaming on.
  virtual std::string BuildBody(const ModelRequest& request) const = 0;
  // Request headers; `api_key` may be empty (the broker's proxy adds it).
  virtual std::vector<std::string> Headers(const std::string& api_key) const = 0;
  // A fresh assembler for one response stream.
  virtual std::unique_ptr<StreamAssembler> NewAssembler(TextSink sink) const = 0;
};

// Returns the engine for `provider`; InvalidArgument for an unknown name.
absl::StatusOr<std::unique_ptr<ModelEngine>> MakeEngine(std::string_view provider);

// Converts Anthropic-shaped messages to OpenAI chat messages (exposed for tests).
nlohmann::json ToOpenAiMessages(const std::string& system, const nlohmann::json& messages);

struct RetryPolicy {
  int max_retries = 5;  // retries after rate limits, overload and connection failures
  std::chrono::milliseconds base_backoff{1000};
  std::chrono::milliseconds max_backoff{30000};
  std::chrono::milliseconds max_retry_after{60000};
  std::chrono::seconds stall_timeout{300};
};

class ModelClient {
 public:
  using Sleeper = std::function<void(std::chrono::milliseconds)>;

  // `engine` must outlive the client. `api_key` is sent only when non-empty and never logged.
  ModelClient(const ModelEngine* engine, HttpTarget target, std::string api_key, RetryPolicy policy,
              Sleeper sleeper = nullptr);

  // Sends `request` and returns the assistant message. Text is reported through `sink` while
  // it streams (a retried attempt may report text again). Errors:
  //   PermissionDenied  the provider rejected the credentials (message names the key);
  //   Unavailable       retries exhausted, or the stream was cut twice;
  //   InvalidArgument   the provider rejected the request (4xx), or the stream was malformed.
  absl::StatusOr<ModelTurn> Complete(const ModelRequest& request, const TextSink& sink);

  // Number of HTTP requests sent so far (for tests and logs).
  int requests_sent() const { return requests_sent_; }

 private:
  enum class Failure { kNone, kRetryable, kStreamCut, kAuth, kFatal };
  struct Attempt {
    std::optional<ModelTurn> turn;
    Failure failure = Failure::kNone;
    std::string message;
    std::optional<std::chrono::milliseconds> retry_after;
  };

  Attempt Send(const std::string& body, const TextSink& sink);
  Attempt Classify(const HttpResult& http, StreamAssembler& assembler);
  std::chrono::milliseconds Backoff(int retry, const Attempt& attempt) const;

  const ModelEngine* engine_;
  HttpTarget target_;
  std::string api_key_;
  RetryPolicy policy_;
  Sleeper sleeper_;
  int requests_sent_ = 0;
};

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_MODEL_CLIENT_H_
