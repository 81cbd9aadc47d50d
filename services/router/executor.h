// Where the router runs its background work: starting runs, delivering replies,
// retry timers, the scheduler's polling. Production uses a small thread pool
// with a timer thread; unit tests use a manual executor that runs work only when
// the test asks and fires timers against a fake clock.
//
// Thread-safety: Post and PostAt may be called from any thread, including from
// inside posted work.
#ifndef CLAWDIE_SERVICES_ROUTER_EXECUTOR_H_
#define CLAWDIE_SERVICES_ROUTER_EXECUTOR_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "services/router/clock.h"

namespace clawdie::router {

class Executor {
 public:
  virtual ~Executor() = default;

  // Runs `work` soon on some thread.
  virtual void Post(std::function<void()> work) = 0;

  // Runs `work` at or after `when` (as the executor's clock tells time).
  virtual void PostAt(absl::Time when, std::function<void()> work) = 0;
};

// A fixed pool of worker threads plus one timer thread. Work posted after
// Shutdown is dropped.
class ThreadPoolExecutor : public Executor {
 public:
  // `clock` is not owned and must outlive the executor.
  ThreadPoolExecutor(int threads, const Clock* clock);
  ~ThreadPoolExecutor() override;

  void Post(std::function<void()> work) override;
  void PostAt(absl::Time when, std::function<void()> work) override;

  // Lets running work finish, drops queued work and timers, joins the threads.
  void Shutdown();

 private:
  void WorkerLoop();
  void TimerLoop();

  const Clock* clock_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable timer_cv_;
  std::deque<std::function<void()>> work_;
  std::multimap<absl::Time, std::function<void()>> timers_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_EXECUTOR_H_
