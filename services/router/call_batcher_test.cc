#include "services/router/call_batcher.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace clawdie::router {
namespace {

// Plays the store's batch call: answers request n with n + 1000, refuses `refused`, and holds
// the first call until Release() so that other requests can queue behind it.
class FakeBatchCalls {
 public:
  std::vector<absl::StatusOr<int>> Send(const std::vector<const int*>& requests) {
    std::unique_lock<std::mutex> lock(mu_);
    call_sizes_.push_back(static_cast<int>(requests.size()));
    changed_.notify_all();
    if (call_sizes_.size() == 1) changed_.wait(lock, [this] { return released_; });
    std::vector<absl::StatusOr<int>> answers;
    for (const int* request : requests) {
      if (!call_error_.ok()) {
        answers.push_back(call_error_);
      } else if (*request == refused_) {
        answers.push_back(absl::InvalidArgumentError("request " + std::to_string(*request)));
      } else {
        answers.push_back(*request + 1000);
      }
    }
    if (drop_an_answer_) answers.pop_back();
    return answers;
  }

  void WaitForFirstCall() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return !call_sizes_.empty(); });
  }

  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    changed_.notify_all();
  }

  std::vector<int> call_sizes() {
    std::lock_guard<std::mutex> lock(mu_);
    return call_sizes_;
  }

  void Refuse(int request) { refused_ = request; }
  void FailCalls(absl::Status status) { call_error_ = std::move(status); }
  void DropAnAnswer() { drop_an_answer_ = true; }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<int> call_sizes_;
  bool released_ = false;
  int refused_ = -1;
  absl::Status call_error_;
  bool drop_an_answer_ = false;
};

class CallBatcherTest : public ::testing::Test {
 protected:
  void MakeBatcher(int max_batch) {
    batcher_ = std::make_unique<CallBatcher<int, int>>(
        [this](const std::vector<const int*>& requests) { return store_.Send(requests); },
        max_batch);
  }

  // Request 0 opens a call the store holds; requests 1..n queue behind it. Then the store
  // answers, and every request's answer is returned, by request.
  std::vector<absl::StatusOr<int>> CallWhileACallIsUnderWay(int n) {
    std::vector<int> requests;
    for (int i = 0; i <= n; ++i) requests.push_back(i);
    std::vector<absl::StatusOr<int>> answers(n + 1, absl::UnknownError("not answered"));
    std::vector<std::thread> callers;
    callers.emplace_back([&] { answers[0] = batcher_->Call(requests[0]); });
    store_.WaitForFirstCall();
    for (int i = 1; i <= n; ++i) {
      callers.emplace_back([&, i] { answers[i] = batcher_->Call(requests[i]); });
    }
    while (batcher_->queued() < static_cast<size_t>(n)) std::this_thread::yield();
    store_.Release();
    for (std::thread& caller : callers) caller.join();
    return answers;
  }

  FakeBatchCalls store_;
  std::unique_ptr<CallBatcher<int, int>> batcher_;
};

TEST_F(CallBatcherTest, LoneRequestIsSentAtOnceAndAnswered) {
  MakeBatcher(256);
  store_.Release();
  absl::StatusOr<int> answer = batcher_->Call(7);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(*answer, 1007);
  EXPECT_EQ(store_.call_sizes(), std::vector<int>{1});
}

TEST_F(CallBatcherTest, RequestsArrivingDuringACallShareTheNextCall) {
  MakeBatcher(256);
  std::vector<absl::StatusOr<int>> answers = CallWhileACallIsUnderWay(5);
  EXPECT_EQ(store_.call_sizes(), (std::vector<int>{1, 5}));
  for (int i = 0; i <= 5; ++i) {
    ASSERT_TRUE(answers[i].ok()) << i << ": " << answers[i].status();
    EXPECT_EQ(*answers[i], i + 1000);
  }
}

TEST_F(CallBatcherTest, ACallCarriesAtMostMaxBatchRequests) {
  MakeBatcher(2);
  std::vector<absl::StatusOr<int>> answers = CallWhileACallIsUnderWay(5);
  EXPECT_EQ(store_.call_sizes(), (std::vector<int>{1, 2, 2, 1}));
  for (int i = 0; i <= 5; ++i) EXPECT_EQ(answers[i].value_or(-1), i + 1000);
}

TEST_F(CallBatcherTest, ARefusedRequestFailsAlone) {
  MakeBatcher(256);
  store_.Refuse(2);
  std::vector<absl::StatusOr<int>> answers = CallWhileACallIsUnderWay(3);
  EXPECT_EQ(answers[2].status(), absl::InvalidArgumentError("request 2"));
  EXPECT_EQ(answers[1].value_or(-1), 1001);
  EXPECT_EQ(answers[3].value_or(-1), 1003);
}

TEST_F(CallBatcherTest, ACallThatFailsFailsEveryRequestInIt) {
  MakeBatcher(256);
  store_.FailCalls(absl::UnavailableError("store UpdateRuns: connection refused"));
  for (const absl::StatusOr<int>& answer : CallWhileACallIsUnderWay(3)) {
    EXPECT_EQ(answer.status(), absl::UnavailableError("store UpdateRuns: connection refused"));
  }
}

TEST_F(CallBatcherTest, ARequestLeftWithoutAnAnswerGetsAnError) {
  MakeBatcher(256);
  store_.Release();
  store_.DropAnAnswer();
  EXPECT_EQ(batcher_->Call(1).status(), absl::InternalError("batch call: no answer for a request"));
}

}  // namespace
}  // namespace clawdie::router
