// adagio-dashboard: the dashboard as a standalone binary (`adagio dashboard` takes the same flags).
#include <CLI/CLI.hpp>

#include "adagio/dashboard/dashboard.hpp"

int main(int argc, char** argv) {
  adagio::dashboard::Options options;
  CLI::App app{"adagio dashboard: web UI, JSON API (/api) and Prometheus metrics (/metrics)"};
  app.add_option("--dsn", options.dsn, "libpq connection string (default: the PG* environment variables)");
  app.add_option("--host", options.host, "address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "port to listen on (0 = any free port)")->capture_default_str()->check(CLI::Range(0, 65535));
  app.add_option("--token", options.token, "token that state-changing calls must present (Bearer or X-Adagio-Token)")
      ->envname("ADAGIO_DASHBOARD_TOKEN");
  app.add_flag("--allow-actions", options.allow_unauthenticated_actions,
               "allow starting, cancelling and retrying runs without a token");
  app.add_option("--assets", options.assets_dir, "directory of the built web UI (default: found next to the binary)");
  app.add_option("--db-connections", options.db_connections, "database connections in the pool")
      ->capture_default_str()->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  return adagio::dashboard::serve(options);
}
