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

  /// `notify` is called (from an executor thread) after each finished job.
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

  void submit(Job job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

  std::vector<Done> take_done() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Done> out(std::make_move_iterator(done_.begin()), std::make_move_iterator(done_.end()));
    done_.clear();
    return out;
  }

 private:
  void loop() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      const auto t0 = std::chrono::steady_clock::now();
      Result r = call_function(*job.fn, job.task);
      const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.push_back(Done{std::move(job.token), std::move(r), elapsed});
      }
      notify_();
    }
  }

  std::function<void()> notify_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::deque<Done> done_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started after the rest is built
};

}  // namespace adagio::worker::detail
