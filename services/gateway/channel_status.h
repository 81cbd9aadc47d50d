// What Gateway.Status reports for one channel.
//
// Thread-safety: a value type; ChannelHealth is safe to update from any thread.
#ifndef CLAWDIE_SERVICES_GATEWAY_CHANNEL_STATUS_H_
#define CLAWDIE_SERVICES_GATEWAY_CHANNEL_STATUS_H_

#include <cstdint>
#include <mutex>
#include <string>

#include "absl/time/time.h"

namespace clawdie::gateway {

struct ChannelStatus {
  std::string channel;  // "telegram", "whatsapp", "local"
  bool enabled = false;
  bool connected = false;  // the last call to the platform succeeded
  std::string identity;    // "@andy_home_bot", the WhatsApp phone number id, ...
  std::string last_error;  // empty when none since the last success
  absl::Time last_error_time = absl::InfinitePast();
  int64_t queue_depth = 0;  // inbound updates waiting for Ingest, or replies in flight
  int64_t sent = 0;
  int64_t received = 0;
};

// Shared, updatable status of a channel.
class ChannelHealth {
 public:
  explicit ChannelHealth(std::string channel) { status_.channel = std::move(channel); }

  void SetIdentity(const std::string& identity) {
    std::lock_guard<std::mutex> lock(mu_);
    status_.identity = identity;
    status_.enabled = true;
  }
  void Connected() {
    std::lock_guard<std::mutex> lock(mu_);
    status_.connected = true;
    status_.last_error.clear();
  }
  void Failed(const std::string& error, absl::Time when) {
    std::lock_guard<std::mutex> lock(mu_);
    status_.connected = false;
    status_.last_error = error;
    status_.last_error_time = when;
  }
  void SetQueueDepth(int64_t depth) {
    std::lock_guard<std::mutex> lock(mu_);
    status_.queue_depth = depth;
  }
  void CountReceived() {
    std::lock_guard<std::mutex> lock(mu_);
    ++status_.received;
  }
  void CountSent(int64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    status_.sent += n;
  }
  ChannelStatus Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

 private:
  mutable std::mutex mu_;
  ChannelStatus status_;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_CHANNEL_STATUS_H_
