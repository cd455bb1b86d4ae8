// Tests of the worker's executor pool: every queued job runs, slow jobs each get a thread although
// a batch wakes (or starts) only one, threads start only when jobs need them, and the dispatcher
// is woken once per batch of results it takes.
#include <gtest/gtest.h>

#include "executor_pool.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using adagio::worker::Function;
using adagio::worker::Result;
using adagio::worker::Task;
using adagio::worker::detail::ExecutorPool;
using namespace std::chrono_literals;

namespace {

// Deadlines only keep a broken pool from hanging the suite; a working one never comes near them.
constexpr auto deadline = 30s;

std::vector<ExecutorPool::Job> jobs(const Function& fn, int first, int count) {
  std::vector<ExecutorPool::Job> out;
  for (int i = first; i < first + count; ++i)
    out.push_back(ExecutorPool::Job{"t" + std::to_string(i), Task{}, &fn, nullptr});
  return out;
}

template <class Predicate>
bool eventually(Predicate done) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace

TEST(WorkerExecutorPool, SlowJobsOfOneBatchRunAtOnce) {
  // Each job waits until all of them have started: they finish only if every one got a thread.
  constexpr int n = 16;
  std::mutex m;
  std::condition_variable cv;
  int started = 0;
  Function all_together = [&](const Task&) {
    std::unique_lock<std::mutex> lock(m);
    ++started;
    cv.notify_all();
    const bool met = cv.wait_for(lock, deadline, [&] { return started == n; });
    return Result{met ? adagio::worker::Conclusion::success : adagio::worker::Conclusion::fail, ""};
  };
  std::atomic<int> wakes{0};
  ExecutorPool pool(n, [&] { ++wakes; });
  pool.submit(jobs(all_together, 0, n));
  std::vector<ExecutorPool::Done> done;
  ASSERT_TRUE(eventually([&] {
    for (auto& d : pool.take_done()) done.push_back(std::move(d));
    return done.size() == n;
  }));
  for (const auto& d : done) EXPECT_EQ(d.result.conclusion, adagio::worker::Conclusion::success) << d.token;
}

TEST(WorkerExecutorPool, ResultsNotTakenWakeTheDispatcherOnce) {
  std::atomic<int> ran{0};
  Function quick = [&](const Task&) {
    ++ran;
    return Result{};
  };
  std::atomic<int> wakes{0};
  {
    ExecutorPool pool(4, [&] { ++wakes; });
    pool.submit(jobs(quick, 0, 200));
    ASSERT_TRUE(eventually([&] { return ran == 200; }));
  }  // joined: every result is in
  EXPECT_EQ(wakes, 1);
}

TEST(WorkerExecutorPool, EachResultAfterATakeWakesAgain) {
  Function quick = [](const Task&) { return Result{}; };
  std::atomic<int> wakes{0};
  ExecutorPool pool(2, [&] { ++wakes; });
  for (int round = 1; round <= 3; ++round) {
    pool.submit(jobs(quick, round, 1));
    ASSERT_TRUE(eventually([&] { return wakes == round; })) << "round " << round;
    std::vector<ExecutorPool::Done> done;
    ASSERT_TRUE(eventually([&] {
      for (auto& d : pool.take_done()) done.push_back(std::move(d));
      return !done.empty();
    }));
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].token, "t" + std::to_string(round));
  }
}

TEST(WorkerExecutorPool, EveryJobOfManyBatchesRunsOnce) {
  std::atomic<int> ran{0};
  Function quick = [&](const Task&) {
    ++ran;
    return Result{};
  };
  ExecutorPool pool(8, [] {});
  for (int batch = 0; batch < 10; ++batch) pool.submit(jobs(quick, batch * 100, 100));
  pool.submit({});  // an empty batch is fine
  std::multiset<std::string> tokens;
  ASSERT_TRUE(eventually([&] {
    for (auto& d : pool.take_done()) tokens.insert(d.token);
    return tokens.size() >= 1000;
  }));
  EXPECT_EQ(ran, 1000);
  EXPECT_EQ(tokens.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(tokens.count("t" + std::to_string(i)), 1u) << i;
}

TEST(WorkerExecutorPool, ThreadsStartOnlyWhenJobsNeedThem) {
  Function quick = [](const Task&) { return Result{}; };
  ExecutorPool pool(500, [] {});
  EXPECT_EQ(pool.threads_started(), 0u);
  for (int round = 0; round < 3; ++round) {
    pool.submit(jobs(quick, round, 1));
    std::size_t taken = 0;
    ASSERT_TRUE(eventually([&] { return (taken += pool.take_done().size()) == 1; })) << "round " << round;
    ASSERT_TRUE(eventually([&] { return pool.threads_idle() == pool.threads_started(); })) << "round " << round;
    // One job at a time: the first started a thread, the later ones woke it again.
    EXPECT_EQ(pool.threads_started(), 1u) << "round " << round;
  }
}

TEST(WorkerExecutorPool, NeverMoreThreadsThanTheLimit) {
  constexpr int limit = 3;
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> running{0}, most{0};
  Function held = [&](const Task&) {
    const int now = ++running;
    for (int seen = most; now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    std::unique_lock<std::mutex> lock(m);
    cv.wait_for(lock, deadline, [&] { return release; });
    --running;
    return Result{};
  };
  ExecutorPool pool(limit, [] {});
  pool.submit(jobs(held, 0, 10));
  ASSERT_TRUE(eventually([&] { return running == limit; }));
  EXPECT_EQ(pool.threads_started(), static_cast<std::size_t>(limit));
  {
    std::lock_guard<std::mutex> lock(m);
    release = true;
  }
  cv.notify_all();
  std::size_t taken = 0;
  ASSERT_TRUE(eventually([&] { return (taken += pool.take_done().size()) == 10; }));
  EXPECT_EQ(most, limit);
}
