#include "services/router/executor.h"

#include <chrono>

namespace clawdie::router {

ThreadPoolExecutor::ThreadPoolExecutor(int threads, const Clock* clock) : clock_(clock) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  threads_.emplace_back([this] { TimerLoop(); });
}

ThreadPoolExecutor::~ThreadPoolExecutor() { Shutdown(); }

void ThreadPoolExecutor::Post(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    work_.push_back(std::move(work));
  }
  work_cv_.notify_one();
}

void ThreadPoolExecutor::PostAt(absl::Time when, std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    timers_.emplace(when, std::move(work));
  }
  timer_cv_.notify_one();
}

void ThreadPoolExecutor::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    work_.clear();
    timers_.clear();
  }
  work_cv_.notify_all();
  timer_cv_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void ThreadPoolExecutor::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return stopping_ || !work_.empty(); });
    if (stopping_) return;
    std::function<void()> work = std::move(work_.front());
    work_.pop_front();
    lock.unlock();
    work();
    lock.lock();
  }
}

void ThreadPoolExecutor::TimerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      timer_cv_.wait(lock);
      continue;
    }
    absl::Time next = timers_.begin()->first;
    absl::Time now = clock_->Now();
    if (next > now) {
      // Wake at least once a second so a clock that is not the system clock is followed too.
      absl::Duration wait = std::min(next - now, absl::Seconds(1));
      timer_cv_.wait_for(lock, absl::ToChronoMilliseconds(wait) + std::chrono::milliseconds(1));
      continue;
    }
    std::function<void()> work = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    work_.push_back(std::move(work));
    work_cv_.notify_one();
  }
}

}  // namespace clawdie::router
