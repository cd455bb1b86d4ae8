#include "db_pool.hpp"

#include <iostream>

namespace adagio::dashboard {

ConnectionPool::ConnectionPool(std::string dsn, std::size_t max_connections)
    : dsn_(std::move(dsn)), max_connections_(max_connections == 0 ? 1 : max_connections) {}

ConnectionPool::Lease::Lease(ConnectionPool& pool, std::unique_ptr<pqxx::connection> conn)
    : pool_(&pool), conn_(std::move(conn)) {}

ConnectionPool::Lease::~Lease() {
  if (conn_) pool_->give_back(std::move(conn_), broken_);
}

ConnectionPool::Lease ConnectionPool::acquire(std::chrono::milliseconds wait) {
  std::unique_ptr<pqxx::connection> conn;
  {
    std::unique_lock lock(mutex_);
    if (!released_.wait_for(lock, wait, [&] { return !idle_.empty() || in_use_ < max_connections_; }))
      throw DatabaseUnavailable("all database connections are busy");
    ++in_use_;
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  // Connect outside the lock: a slow server must not stall requests holding idle connections.
  if (!conn || !conn->is_open()) {
    try {
      conn = std::make_unique<pqxx::connection>(dsn_);
      // Every statement the dashboard runs is short; a runaway one must not pin a connection.
      pqxx::nontransaction(*conn).exec("SET statement_timeout = '30s'; SET application_name = 'adagio-dashboard'");
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(mutex_);
        --in_use_;
      }
      released_.notify_one();
      std::cerr << "adagio-dashboard: cannot connect to the database: " << e.what() << std::endl;
      throw DatabaseUnavailable("cannot connect to the database");
    }
  }
  return Lease(*this, std::move(conn));
}

void ConnectionPool::give_back(std::unique_ptr<pqxx::connection> conn, bool broken) {
  {
    std::lock_guard lock(mutex_);
    --in_use_;
    if (!broken && conn->is_open()) idle_.push_back(std::move(conn));
  }
  released_.notify_one();
}

}  // namespace adagio::dashboard
