// A conversation transcript kept as JSON lines in the conversations directory, one file per
// session id (`<id>.jsonl`). Each line is `{"type":"message","message":{role, content}}`
// (Anthropic-shaped) or, at the top after a compaction, `{"type":"summary","text":…}`.
// Messages are appended as they complete, so a crash loses at most the message in flight;
// compaction rewrites the file through a temporary file and rename.
//
// Thread-safety: a Session is used by the agent loop's thread only.
#ifndef CLAWDIE_CONTAINER_SESSION_H_
#define CLAWDIE_CONTAINER_SESSION_H_

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace clawdie::agent {

// True for ids the agent creates and accepts: 1-128 of [A-Za-z0-9_-].
bool IsValidSessionId(const std::string& id);

// A fresh id: UTC time plus 64 random bits, e.g. "20260314T101500Z-9f3a0c1d2b4e5f60".
std::string NewSessionId();

// A rough token estimate (4 bytes per token) of a JSON value's serialization.
size_t EstimateTokens(const nlohmann::json& value);

// The index of the first message to keep so that the kept messages estimate at most
// `keep_tokens`. Cuts only before a user message that carries no tool_result, so tool_use /
// tool_result pairs stay together; keeps at least the last such turn. 0 = nothing to cut.
size_t ChooseCompactionCut(const nlohmann::json& messages, size_t keep_tokens);

class Session {
 public:
  // Continues `requested_id` from `dir` when its file exists and is readable; otherwise starts
  // a new session (an empty, unknown, invalid or unreadable id is logged, never fatal).
  // `*continued` tells which happened. A directory that cannot be written leaves the session
  // in memory only, with an error logged.
  static Session OpenOrCreate(const std::filesystem::path& dir, const std::string& requested_id,
                              bool* continued);

  const std::string& id() const { return id_; }
  const std::filesystem::path& path() const { return path_; }
  const nlohmann::json& messages() const { return messages_; }
  const std::string& summary() const { return summary_; }
  // EstimateTokens of messages() and the summary, kept up to date without serializing.
  size_t estimated_tokens() const { return (message_bytes_ + summary_.size()) / 4 + 1; }

  // Appends one message (an object with `role` and `content`) and writes it out.
  absl::Status Append(nlohmann::json message);

  // Replaces messages [0, first_kept) by `summary` (which may be empty) and rewrites the file.
  absl::Status Compact(size_t first_kept, std::string summary);

  // The messages as a model request needs them: the summary in front, consecutive messages of
  // the same role merged, and tool_use blocks left without a result (after a crash) answered
  // with an error result.
  nlohmann::json RequestMessages() const;

 private:
  Session(std::filesystem::path dir, std::string id);
  absl::Status Load();
  absl::Status WriteLine(const std::string& line);

  std::filesystem::path path_;
  std::string id_;
  nlohmann::json messages_ = nlohmann::json::array();
  std::string summary_;
  size_t message_bytes_ = 0;  // serialized size of messages_
  bool persist_ = true;
};

}  // namespace clawdie::agent

#endif  // CLAWDIE_CONTAINER_SESSION_H_
