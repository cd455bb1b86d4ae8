// The worker proper: a dispatcher thread that talks to PostgreSQL (register,
// LISTEN, claim, heartbeat, complete, deregister) and a fixed pool of
// executor threads that run the claimed tasks.
#pragma once

#include <adagio/worker/runtime.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace adagio::worker {

inline constexpr const char* worker_version = "0.1.0";

struct WorkerOptions {
  std::string dsn;                    ///< empty: libpq uses PG* environment variables
  std::string name;                   ///< agent name; empty: "<hostname>:<pid>"
  int concurrency = 4;                ///< executor threads / max claims held
  std::vector<std::string> runtimes;  ///< enabled runtimes; empty: all registered
  /// Runtimes served under another name: alias -> registered runtime that runs its nodes
  /// (`--runtimes gpu=exec`). Nodes of runtime "gpu" then go only to workers that serve "gpu",
  /// which is how a fleet splits into pools. Aliases are served, and listed in `runtimes`.
  std::map<std::string, std::string> runtime_aliases;
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds heartbeat_interval{3000};
  std::chrono::milliseconds shutdown_grace{30000};
  bool once_idle = false;  ///< exit once no work was available for idle_exit
  std::chrono::milliseconds idle_exit{5000};
  /// `dsn` leads to a pooler in transaction mode (PgBouncer before 1.21): no prepared statements,
  /// and no LISTEN on that connection (see listen_dsn).
  bool transaction_pooling = false;
  /// A direct connection for LISTEN alone, when `dsn` goes through a pooler; empty: LISTEN on the
  /// `dsn` connection, or, with transaction_pooling, poll only.
  std::string listen_dsn;
  /// What an attempt may print into its node's log (adagio.node_logs); 0: send no logs at all.
  std::size_t max_log_bytes = std::size_t{8} << 20;
};

/// Result of parsing the command line.
struct CliParse {
  std::optional<WorkerOptions> options;  ///< set when the worker should run
  int exit_code = 0;                     ///< otherwise: exit with this (0 for --help)
};

/// Parses the command line (see README.md); applies ADAGIO_DSN and the log
/// level. Usage errors (including an unknown runtime) give exit_code 2.
CliParse parse_cli(int argc, const char* const* argv, const Registry& registry);

class Worker {
 public:
  /// Keeps a copy of `registry`, with options.runtime_aliases added. Throws std::invalid_argument
  /// if an enabled runtime, or an alias's target, is not in the registry.
  Worker(WorkerOptions options, const Registry& registry);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Runs until stopped; returns the exit code (0 on a clean shutdown).
  int run();

  /// Asks the worker to shut down gracefully; a second call forces it
  /// (running executions are cancelled). Async-signal-safe.
  void request_stop() noexcept;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace adagio::worker
