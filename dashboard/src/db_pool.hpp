// A small pool of libpqxx connections: a connection is not thread-safe and httplib serves each
// request on a thread of its own, so every request borrows one for its duration.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace adagio::dashboard {

// Thrown when no connection can be had (the database is down or the pool stays exhausted).
class DatabaseUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConnectionPool {
 public:
  ConnectionPool(std::string dsn, std::size_t max_connections);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A borrowed connection, returned to the pool on destruction unless marked broken.
  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<pqxx::connection> conn);
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& operator*() { return *conn_; }
    pqxx::connection* operator->() { return conn_.get(); }
    void mark_broken() { broken_ = true; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
    bool broken_ = false;
  };

  // Waits up to `wait` for a free slot; connects lazily. Throws DatabaseUnavailable.
  Lease acquire(std::chrono::milliseconds wait = std::chrono::seconds(5));

 private:
  void give_back(std::unique_ptr<pqxx::connection> conn, bool broken);

  const std::string dsn_;
  const std::size_t max_connections_;
  std::mutex mutex_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t in_use_ = 0;
};

}  // namespace adagio::dashboard
