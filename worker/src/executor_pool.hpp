// Internal: a fixed pool of executor threads running claimed tasks.
#pragma once

#include <adagio/worker/runtime.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace adagio::worker::detail {

class ExecutorPool {
 public:
  struct Job {
    std::string token;
    Task task;  // task.cancelled points into `cancel`
    const Function* fn = nullptr;
    std::shared_ptr<std::atomic<bool>> cancel;
  };
  struct Done {
    std::string token;
    Result result;
    std::chrono::milliseconds elapsed{0};
  };

  /// `notify` is called (from an executor thread) when a job finishes and no earlier result is
  /// waiting to be taken.
  ExecutorPool(int threads, std::function<void()> notify) : notify_(std::move(notify)) {
    threads_.reserve(static_cast<std::size_t>(threads));
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
  }

  /// Finishes queued jobs, then joins the threads.
  ~ExecutorPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  ExecutorPool(const ExecutorPool&) = delete;
  ExecutorPool& operator=(const ExecutorPool&) = delete;

  /// Queues a batch of jobs with one lock and at most one thread wake-up; see loop().
  void submit(std::vector<Job> jobs) {
    if (jobs.empty()) return;
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& job : jobs) jobs_.push_back(std::move(job));
      wake = take_wake_locked();
    }
    if (wake) cv_.notify_one();
  }

  /// The finished jobs so far. `notify` fires again for the next one finished after this call.
  std::vector<Done> take_done() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Done> out(std::make_move_iterator(done_.begin()), std::make_move_iterator(done_.end()));
    done_.clear();
    return out;
  }

 private:
  // Wake-ups are relayed: a batch wakes one thread, and a thread that takes a job while more
  // are queued wakes the next. Slow jobs still each get a thread within a few wake-ups' time,
  // while a burst of quick ones is drained by the few threads already awake; one futex call per
  // job on the dispatcher's side was most of a worker's CPU on small functions.
  bool take_wake_locked() {
    if (wake_pending_ || sleeping_ == 0) return false;
    wake_pending_ = true;
    return true;
  }

  void loop() {
    for (;;) {
      Job job;
      bool wake_next = false;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stopping_ && jobs_.empty()) {
          ++sleeping_;
          cv_.wait(lock);
          --sleeping_;
          wake_pending_ = false;  // this thread (or a spurious wake) took the pending wake-up
        }
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        if (!jobs_.empty()) wake_next = take_wake_locked();
      }
      if (wake_next) cv_.notify_one();
      const auto t0 = std::chrono::steady_clock::now();
      Result r = call_function(*job.fn, job.task);
      const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
      bool first_done = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        first_done = done_.empty();
        done_.push_back(Done{std::move(job.token), std::move(r), elapsed});
      }
      // The dispatcher takes every result at once: it needs waking only for the first one.
      if (first_done) notify_();
    }
  }

  std::function<void()> notify_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::deque<Done> done_;
  bool stopping_ = false;
  int sleeping_ = 0;           // threads waiting for a job
  bool wake_pending_ = false;  // a notify_one() not yet taken by a sleeping thread
  std::vector<std::thread> threads_;  // last: started after the rest is built
};

}  // namespace adagio::worker::detail
