#include "live_feed.hpp"

#include <algorithm>
#include <iostream>

#include <pqxx/pqxx>

namespace adagio::dashboard {
namespace {

// The run ids of one notification: "12,15" (the engine's payload), malformed parts skipped.
std::vector<std::int64_t> run_ids(const std::string& payload) {
  std::vector<std::int64_t> ids;
  std::size_t start = 0;
  while (start <= payload.size()) {
    const std::size_t comma = std::min(payload.find(',', start), payload.size());
    try {
      ids.push_back(std::stoll(payload.substr(start, comma - start)));
    } catch (const std::exception&) {
    }
    start = comma + 1;
  }
  return ids;
}

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& connection, std::vector<std::string>& payloads)
      : pqxx::notification_receiver(connection, "adagio.events"), payloads_(payloads) {}
  void operator()(const std::string& payload, int) override { payloads_.push_back(payload); }

 private:
  std::vector<std::string>& payloads_;
};

}  // namespace

std::vector<LiveFeed::Message> LiveFeed::Subscription::take(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  arrived_.wait_for(lock, wait, [this] { return stopped_ || !queue_.empty(); });
  std::vector<Message> out(queue_.begin(), queue_.end());
  queue_.clear();
  return out;
}

bool LiveFeed::Subscription::stopped() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopped_;
}

void LiveFeed::Subscription::offer(const Message& message) {
  Message mine{{}, message.resync};
  if (run_) {
    if (std::find(message.runs.begin(), message.runs.end(), *run_) != message.runs.end()) mine.runs.push_back(*run_);
  } else {
    mine.runs = message.runs;
  }
  if (mine.runs.empty() && !mine.resync) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // A page that is slow to read needs only to know that something changed: keep the queue short.
    if (queue_.size() >= 64) queue_.pop_front();
    queue_.push_back(std::move(mine));
  }
  arrived_.notify_one();
}

void LiveFeed::Subscription::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
  }
  arrived_.notify_all();
}

LiveFeed::LiveFeed(std::string dsn, std::size_t max_streams)
    : dsn_(std::move(dsn)), max_streams_(max_streams), thread_([this] { listen_loop(); }) {}

LiveFeed::~LiveFeed() {
  stop();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<LiveFeed::Subscription> LiveFeed::subscribe(std::optional<std::int64_t> run) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_ || subscriptions_.size() >= max_streams_) return nullptr;
  subscriptions_.push_back(std::make_shared<Subscription>(run));
  return subscriptions_.back();
}

void LiveFeed::unsubscribe(const std::shared_ptr<Subscription>& subscription) {
  std::lock_guard<std::mutex> lock(mutex_);
  subscriptions_.erase(std::remove(subscriptions_.begin(), subscriptions_.end(), subscription), subscriptions_.end());
}

void LiveFeed::stop() {
  std::vector<std::shared_ptr<Subscription>> subscriptions;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    subscriptions.swap(subscriptions_);
  }
  stopping_.notify_all();
  for (const auto& s : subscriptions) s->stop();
}

bool LiveFeed::stopping() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopped_;
}

void LiveFeed::publish(const Message& message) {
  std::vector<std::shared_ptr<Subscription>> subscriptions;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    subscriptions = subscriptions_;
  }
  for (const auto& s : subscriptions) s->offer(message);
}

// Connects, LISTENs and relays until stopped; a lost connection is made again after a pause
// (doubling to 10 s), and the streams are told to resync, having perhaps missed notifications.
void LiveFeed::listen_loop() {
  auto pause = std::chrono::milliseconds(500);
  bool said_down = false;  // one line per outage, not one per attempt
  while (!stopping()) {
    try {
      pqxx::connection connection(dsn_);
      std::vector<std::string> payloads;
      Receiver receiver(connection, payloads);
      pause = std::chrono::milliseconds(500);
      if (said_down) std::cerr << "adagio-dashboard: live updates: connected again" << std::endl;
      said_down = false;
      publish(Message{{}, true});
      while (!stopping()) {
        connection.await_notification(0, 250'000);  // wake now and then to see stop()
        for (const std::string& payload : payloads) publish(Message{run_ids(payload), false});
        payloads.clear();
      }
    } catch (const std::exception& e) {
      if (!said_down) {
        std::string why = e.what();
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
        std::cerr << "adagio-dashboard: live updates: " << why << "; trying again (pages poll meanwhile)" << std::endl;
      }
      said_down = true;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    stopping_.wait_for(lock, pause, [this] { return stopped_; });
    pause = std::min(pause * 2, std::chrono::milliseconds(10000));
  }
}

}  // namespace adagio::dashboard
