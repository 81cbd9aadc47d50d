// Group commit one hop before the store: calls of one kind made at the same time by several
// threads (Ingest appends, run updates) share one batch call to the store instead of making
// one call each. While a batch call is under way new requests queue; when it returns, the
// first waiting caller sends everything queued in the next batch call. A lone request is sent
// at once, so nothing waits for a timer, and every caller gets its own answer only after the
// store answered (and, for writes, committed) its request.
//
// Each waiting caller sleeps on its own semaphore and is woken once, when its answer is there
// or when it is its turn to send: no caller wakes for another's answer.
//
// Thread-safety: Call may be called from any number of threads at once.
#ifndef CLAWDIE_SERVICES_ROUTER_CALL_BATCHER_H_
#define CLAWDIE_SERVICES_ROUTER_CALL_BATCHER_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <semaphore>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace clawdie::router {

template <typename Request, typename Response>
class CallBatcher {
 public:
  // Makes one batch call for `requests` and returns one answer per request, in order (the
  // call's own error for every request when the call failed).
  using SendFn = std::function<std::vector<absl::StatusOr<Response>>(
      const std::vector<const Request*>& requests)>;

  // `max_batch` caps the requests of one batch call.
  explicit CallBatcher(SendFn send, int max_batch = 256)
      : send_(std::move(send)), max_batch_(max_batch) {}

  // Sends `request` with the next batch call and returns its answer.
  absl::StatusOr<Response> Call(const Request& request) {
    Pending mine(&request);
    bool my_turn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(&mine);
      // Whoever finds no call under way sends the queue, its own request among it.
      my_turn = !sending_;
      sending_ = true;
    }
    if (!my_turn) {
      mine.woken.acquire();
      if (mine.done) return std::move(mine.result);
    }
    SendQueued(&mine);
    return std::move(mine.result);
  }

  // Requests queued for the next batch call (for tests and diagnostics).
  size_t queued() {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
  }

 private:
  // One waiting caller. `result` and `done` are written by the sender before it releases
  // `woken`, and read by the caller after acquiring it; woken without `done`, it is the
  // caller's turn to send.
  struct Pending {
    explicit Pending(const Request* r) : request(r) {}
    const Request* request;
    absl::StatusOr<Response> result = absl::UnknownError("not sent");
    bool done = false;
    std::binary_semaphore woken{0};
  };

  // Called by `self`, the one caller whose turn it is (first in the queue): sends what is
  // queued (up to max_batch_), answers it, and hands the turn to the first caller still
  // queued, if any.
  void SendQueued(Pending* self) {
    std::vector<Pending*> batch;
    std::vector<const Request*> requests;
    {
      std::lock_guard<std::mutex> lock(mu_);
      while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
        batch.push_back(queue_.front());
        requests.push_back(queue_.front()->request);
        queue_.pop_front();
      }
    }
    std::vector<absl::StatusOr<Response>> answers = send_(requests);

    Pending* next = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) {
        sending_ = false;
      } else {
        next = queue_.front();
      }
    }
    // A woken caller may return at once: nothing of its Pending is touched after the release.
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->result = i < answers.size()
                             ? std::move(answers[i])
                             : absl::InternalError("batch call: no answer for a request");
      batch[i]->done = true;
      if (batch[i] != self) batch[i]->woken.release();
    }
    if (next != nullptr) next->woken.release();
  }

  SendFn send_;
  int max_batch_;
  std::mutex mu_;
  std::deque<Pending*> queue_;  // callers waiting for a batch call, oldest first
  bool sending_ = false;        // a caller is sending; the queue waits for it
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_CALL_BATCHER_H_
