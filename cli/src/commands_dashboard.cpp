// adagio dashboard: the web UI, JSON API and metrics (dashboard/), served from this process.
#include "commands.hpp"

#include "adagio/dashboard/dashboard.hpp"

#include <memory>

namespace adagio::cli {

void add_dashboard_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<adagio::dashboard::Options>();
  auto* dashboard = app.add_subcommand("dashboard", "serve the web dashboard, its JSON API (/api) and Prometheus metrics (/metrics)");
  dashboard->add_option("--host", options->host, "address to listen on (loopback unless told otherwise)")->capture_default_str();
  dashboard->add_option("--port,-p", options->port, "port to listen on (0 = any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  dashboard->add_option("--token", options->token, "token that starting, cancelling and retrying runs must present (Bearer or X-Adagio-Token)")
      ->envname("ADAGIO_DASHBOARD_TOKEN");
  dashboard->add_flag("--allow-actions", options->allow_unauthenticated_actions,
                      "allow starting, cancelling and retrying runs without a token");
  dashboard->add_option("--assets", options->assets_dir, "directory of the built web UI (default: found next to the binary)");
  dashboard->add_option("--db-connections", options->db_connections, "database connections in the pool")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  dashboard->callback([&context, options] {
    options->dsn = resolve_dsn(context.connection);
    context.exit_code = adagio::dashboard::serve(*options);
  });
}

}  // namespace adagio::cli
