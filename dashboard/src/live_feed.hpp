// Live updates for the pages: one connection LISTENs on "adagio.events" (the engine notifies it
// with the ids of the runs whose timelines grew) and hands each notification to the pages'
// event streams (GET /api/live), so a page refreshes when its run changes instead of on a timer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace adagio::dashboard {

class LiveFeed {
 public:
  // What a stream receives: runs that changed, or "resync" after the feed's connection was
  // (re)made, when notifications may have been missed.
  struct Message {
    std::vector<std::int64_t> runs;
    bool resync = false;
  };

  // One page's stream: messages about `run` (every run if unset), queued until taken.
  class Subscription {
   public:
    explicit Subscription(std::optional<std::int64_t> run) : run_(run) {}
    // Waits up to `wait` for messages; an empty result means none came (or the feed stopped).
    std::vector<Message> take(std::chrono::milliseconds wait);
    bool stopped();

   private:
    friend class LiveFeed;
    void offer(const Message& message);
    void stop();

    const std::optional<std::int64_t> run_;
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::deque<Message> queue_;
    bool stopped_ = false;
  };

  LiveFeed(std::string dsn, std::size_t max_streams);
  ~LiveFeed();
  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;

  // A new stream, or nullptr when max_streams are open already (each holds one of the server's
  // threads: the rest must stay free for the API).
  std::shared_ptr<Subscription> subscribe(std::optional<std::int64_t> run);
  void unsubscribe(const std::shared_ptr<Subscription>& subscription);
  // Ends every stream and the listening thread; before the server stops, which waits for them.
  void stop();

 private:
  void listen_loop();
  void publish(const Message& message);
  bool stopping() const;

  const std::string dsn_;
  const std::size_t max_streams_;
  mutable std::mutex mutex_;
  std::condition_variable stopping_;
  std::vector<std::shared_ptr<Subscription>> subscriptions_;
  bool stopped_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace adagio::dashboard
