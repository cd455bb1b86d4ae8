// The adagio dashboard: a JSON API over the SQL functions, Prometheus metrics and the web UI,
// served from one process. `adagio dashboard` and the standalone `adagio-dashboard` both call
// serve().
#pragma once

#include <string>

namespace adagio::dashboard {

struct Options {
  std::string dsn;               // libpq connection string ("" = PG* environment variables)
  std::string host = "127.0.0.1";
  int port = 8080;               // 0 = any free port (the chosen one is printed)
  std::string token;             // required (Bearer or X-Adagio-Token) for state-changing calls, if set
  bool allow_unauthenticated_actions = false;  // the explicit flag alternative
  std::string assets_dir;        // built front-end; default: next to the binary / install share dir
  int db_connections = 4;        // size of the connection pool
};

// Blocks until SIGINT/SIGTERM; returns a process exit code (0 after a clean shutdown).
int serve(const Options& options);

}  // namespace adagio::dashboard
