#include "container/model_client.h"

#include <cstdlib>
#include <thread>

#include "absl/status/status.h"
#include "common/logging.h"
#include "container/json_util.h"

namespace clawdie::agent {
namespace {

bool IsRetryableStatus(long status) {
  return status == 429 || status == 529 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

bool IsRetryableStreamError(const std::string& type) {
  return type == "overloaded_error" || type == "api_error" || type == "rate_limit_error" ||
         type == "timeout_error";
}

// "HTTP 401 authentication_error: invalid x-api-key" from an error response body.
std::string DescribeHttpError(const HttpResult& http) {
  std::string description = "HTTP " + std::to_string(http.status);
  absl::StatusOr<nlohmann::json> body = ParseJson(http.error_body, "error body");
  if (!body.ok()) return description;
  const nlohmann::json& error = Field(*body, "error");
  std::string type = StringField(error, "type");
  std::string message =
      error.is_string() ? error.get<std::string>() : StringField(error, "message");
  if (!type.empty()) description += " " + type;
  if (!message.empty()) description += ": " + message;
  return description;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(const HttpResult& http) {
  auto it = http.headers.find("retry-after");
  if (it == http.headers.end()) return std::nullopt;
  char* end = nullptr;
  double seconds = std::strtod(it->second.c_str(), &end);
  // HTTP dates are not used by the model APIs; fall back to backoff for them.
  if (end == it->second.c_str() || seconds < 0) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

}  // namespace

ModelClient::ModelClient(const ModelEngine* engine, HttpTarget target, std::string api_key,
                         RetryPolicy policy, Sleeper sleeper)
    : engine_(engine),
      target_(std::move(target)),
      api_key_(std::move(api_key)),
      policy_(policy),
      sleeper_(std::move(sleeper)) {
  if (!sleeper_) sleeper_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

absl::StatusOr<ModelTurn> ModelClient::Complete(const ModelRequest& request, const TextSink& sink) {
  auto log = GetLogger("agent");
  std::string body = engine_->BuildBody(request);
  int retries = 0;
  bool cut_retried = false;
  while (true) {
    Attempt attempt = Send(body, sink);
    switch (attempt.failure) {
      case Failure::kNone:
        return *std::move(attempt.turn);
      case Failure::kAuth:
        return absl::PermissionDeniedError("model request " + std::string(engine_->provider()) +
                                           ": " + attempt.message + "; check " +
                                           std::string(engine_->credential_hint()));
      case Failure::kFatal:
        return absl::InvalidArgumentError("model request " + std::string(engine_->provider()) +
                                          ": " + attempt.message);
      case Failure::kStreamCut:
        if (cut_retried) {
          return absl::UnavailableError("model request " + std::string(engine_->provider()) +
                                        ": stream cut twice: " + attempt.message);
        }
        cut_retried = true;
        log->warn("model stream cut ({}); retrying once", attempt.message);
        if (sink.on_retry) sink.on_retry();
        continue;
      case Failure::kRetryable:
        if (retries >= policy_.max_retries) {
          return absl::UnavailableError("model request " + std::string(engine_->provider()) +
                                        ": gave up after " + std::to_string(retries + 1) +
                                        " attempts: " + attempt.message);
        }
        std::chrono::milliseconds delay = Backoff(retries++, attempt);
        log->warn("model request failed ({}); retry {} of {} in {} ms", attempt.message, retries,
                  policy_.max_retries, delay.count());
        sleeper_(delay);
        if (sink.on_retry) sink.on_retry();
        continue;
    }
  }
}

ModelClient::Attempt ModelClient::Send(const std::string& body, const TextSink& sink) {
  std::unique_ptr<StreamAssembler> assembler = engine_->NewAssembler(sink);
  SseParser parser([&](const SseEvent& event) { assembler->OnEvent(event); });
  HttpPost post{std::string(engine_->path()), engine_->Headers(api_key_), body};
  post.stall_timeout = policy_.stall_timeout;
  ++requests_sent_;
  HttpResult http =
      PostStreaming(target_, post, [&](std::string_view piece) { parser.Feed(piece); });
  if (http.status >= 200 && http.status < 300) parser.Finish();
  return Classify(http, *assembler);
}

ModelClient::Attempt ModelClient::Classify(const HttpResult& http, StreamAssembler& assembler) {
  Attempt attempt;
  if (http.status == 0) {
    // No response at all: the proxy or server is not reachable (yet).
    attempt.failure = Failure::kRetryable;
    attempt.message = "connect " + BuildUrl(target_, engine_->path()) +
                      (target_.unix_socket.empty() ? "" : " via " + target_.unix_socket) + ": " +
                      http.curl_error;
    return attempt;
  }
  if (http.status < 200 || http.status >= 300) {
    attempt.message = DescribeHttpError(http);
    attempt.retry_after = ParseRetryAfter(http);
    if (http.status == 401 || http.status == 403) {
      attempt.failure = Failure::kAuth;
    } else {
      attempt.failure = IsRetryableStatus(http.status) ? Failure::kRetryable : Failure::kFatal;
    }
    return attempt;
  }
  if (const std::optional<StreamError>& error = assembler.error()) {
    attempt.message = "stream error " + error->type + ": " + error->message;
    attempt.failure = IsRetryableStreamError(error->type) ? Failure::kRetryable : Failure::kFatal;
    return attempt;
  }
  if (!assembler.complete()) {
    attempt.failure = Failure::kStreamCut;
    attempt.message = http.curl_code != 0
                          ? http.curl_error
                          : "stream ended after " + std::to_string(http.body_bytes) +
                                " bytes without its final event";
    return attempt;
  }
  attempt.turn = assembler.TakeTurn();
  return attempt;
}

std::chrono::milliseconds ModelClient::Backoff(int retry, const Attempt& attempt) const {
  if (attempt.retry_after) return std::min(*attempt.retry_after, policy_.max_retry_after);
  std::chrono::milliseconds delay = policy_.base_backoff * (1LL << std::min(retry, 16));
  return std::min(delay, policy_.max_backoff);
}

}  // namespace clawdie::agent
