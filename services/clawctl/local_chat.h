// A client of the gateway's local chat (Gateway.LocalChat) for `clawctl chat`
// and `clawctl send`: messages go out on the stream, and a reader thread
// queues the events that come back (acknowledgements and replies) so the
// caller can wait for them with a deadline.
//
// Thread-safety: Send and Close are called from one thread; Next may be called from one other
// thread at a time. Close ends the stream and joins the reader.
#ifndef CLAWDIE_SERVICES_CLAWCTL_LOCAL_CHAT_H_
#define CLAWDIE_SERVICES_CLAWCTL_LOCAL_CHAT_H_

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clawdie/v1/gateway.grpc.pb.h"
#include "grpcpp/channel.h"

namespace clawdie::clawctl {

class LocalChatStream {
 public:
  // Opens the stream as chat `local:<name>` and subscribes to its replies. The stream has no
  // deadline. Errors surface on the first Send or Next.
  LocalChatStream(const std::shared_ptr<grpc::Channel>& channel, const std::string& name);
  ~LocalChatStream();

  LocalChatStream(const LocalChatStream&) = delete;
  LocalChatStream& operator=(const LocalChatStream&) = delete;

  // Sends `text` as a message typed in the chat. Unavailable when the stream is closed.
  absl::Status Send(const std::string& text);

  // The next event, or nothing when `deadline` passed first. Unavailable once the gateway
  // ended the stream and every event was taken (Close then tells why).
  absl::StatusOr<std::optional<v1::LocalChatEvent>> Next(absl::Time deadline);

  // Ends the stream and joins the reader (idempotent; call from the Send thread). Returns
  // the error the gateway ended the stream with, or OK when it was still open.
  absl::Status Close();

 private:
  void ReadLoop();

  std::unique_ptr<v1::Gateway::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::LocalChatRequest, v1::LocalChatEvent>> stream_;
  std::string name_;
  bool closed_ = false;
  absl::Status final_status_;

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<v1::LocalChatEvent> events_;
  bool ended_ = false;
  std::thread reader_;
};

}  // namespace clawdie::clawctl

#endif  // CLAWDIE_SERVICES_CLAWCTL_LOCAL_CHAT_H_
