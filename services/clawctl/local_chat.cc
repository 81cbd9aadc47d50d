#include "services/clawctl/local_chat.h"

#include <algorithm>
#include <chrono>

#include "common/status.h"

namespace clawdie::clawctl {

LocalChatStream::LocalChatStream(const std::shared_ptr<grpc::Channel>& channel,
                                 const std::string& name)
    : stub_(v1::Gateway::NewStub(channel)), name_(name) {
  stream_ = stub_->LocalChat(&context_);
  reader_ = std::thread([this] { ReadLoop(); });
}

LocalChatStream::~LocalChatStream() { Close().IgnoreError(); }

absl::Status LocalChatStream::Send(const std::string& text) {
  v1::LocalChatRequest request;
  request.set_as(name_);
  request.set_text(text);
  if (closed_ || !stream_->Write(request)) {
    return absl::UnavailableError("local chat local:" + name_ + ": the stream is closed");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::LocalChatEvent>> LocalChatStream::Next(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  // Waits are capped at a day so an infinite deadline does not overflow the clock.
  absl::Duration wait = std::clamp(deadline - absl::Now(), absl::ZeroDuration(), absl::Hours(24));
  auto until =
      std::chrono::system_clock::now() + std::chrono::milliseconds(absl::ToInt64Milliseconds(wait));
  ready_.wait_until(lock, until, [this] { return !events_.empty() || ended_; });
  if (!events_.empty()) {
    v1::LocalChatEvent event = std::move(events_.front());
    events_.pop_front();
    return event;
  }
  if (!ended_) return std::nullopt;
  return absl::UnavailableError("local chat local:" + name_ + ": the gateway ended the stream");
}

absl::Status LocalChatStream::Close() {
  if (closed_) return final_status_;
  closed_ = true;
  bool ended_by_gateway = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ended_by_gateway = ended_;
  }
  if (!ended_by_gateway) {
    stream_->WritesDone();
    context_.TryCancel();
  }
  reader_.join();
  grpc::Status status = stream_->Finish();
  // Our own cancel is how a chat normally ends; anything the gateway ended with is reported.
  if (ended_by_gateway && !status.ok()) {
    final_status_ = Annotate(FromGrpcStatus(status), "local chat local:" + name_);
  }
  return final_status_;
}

void LocalChatStream::ReadLoop() {
  v1::LocalChatEvent event;
  while (stream_->Read(&event)) {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(event);
    ready_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  ended_ = true;
  ready_.notify_all();
}

}  // namespace clawdie::clawctl
