// Internal: a pool of executor threads running claimed tasks, started as they are needed.
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
#include <system_error>
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

  /// At most `max_threads` run at once. `notify` is called (from an executor thread) when a job
  /// finishes and no earlier result is waiting to be taken.
  ExecutorPool(int max_threads, std::function<void()> notify)
      : notify_(std::move(notify)), max_threads_(static_cast<std::size_t>(max_threads > 0 ? max_threads : 1)) {}

  /// Finishes queued jobs, then joins the threads.
  ~ExecutorPool() {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;  // no thread is started after this
      threads.swap(threads_);
    }
    cv_.notify_all();
    for (auto& t : threads) t.join();
  }

  /// Threads started so far (they are kept once started).
  std::size_t threads_started() {
    std::lock_guard<std::mutex> lock(mutex_);
    return threads_.size();
  }

  /// Threads waiting for a job.
  std::size_t threads_idle() {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<std::size_t>(sleeping_);
  }

  ExecutorPool(const ExecutorPool&) = delete;
  ExecutorPool& operator=(const ExecutorPool&) = delete;

  /// Queues a batch of jobs with one lock and at most one thread wake-up (or start); see loop().
  void submit(std::vector<Job> jobs) {
    if (jobs.empty()) return;
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& job : jobs) jobs_.push_back(std::move(job));
      wake = next_thread_locked();
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
  // are queued wakes the next, or starts one while fewer than max_threads run. Slow jobs still
  // each get a thread within a few wake-ups' time, while a burst of quick ones is drained by the
  // few threads already awake: one futex call per job on the dispatcher's side was most of a
  // worker's CPU on small functions, and starting every thread up front most of an idle one's.
  // Returns whether to notify the condition variable (after unlocking).
  bool next_thread_locked() {
    if (wake_pending_) return false;
    if (sleeping_ > 0) {
      wake_pending_ = true;
      return true;
    }
    if (!stopping_ && threads_.size() < max_threads_) {
      try {
        threads_.emplace_back([this] { loop(); });
      } catch (const std::system_error&) {
        // Out of threads: the ones running take the jobs in turn. With none, nothing could run.
        if (threads_.empty()) throw;
      }
    }
    return false;
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
        if (!jobs_.empty()) wake_next = next_thread_locked();
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
  const std::size_t max_threads_;
  std::vector<std::thread> threads_;  // started under mutex_, as jobs need them
};

}  // namespace adagio::worker::detail
