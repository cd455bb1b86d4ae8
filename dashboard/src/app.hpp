// What the pieces of the server share: the options, the connection pool and the helpers that turn
// handlers' results and failures into HTTP responses.
#pragma once

#include <functional>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "adagio/dashboard/dashboard.hpp"
#include "db_pool.hpp"
#include "live_feed.hpp"
#include "params.hpp"

namespace adagio::dashboard {

// The server's threads: the API's, plus one for each live stream (GET /api/live) at most.
constexpr std::size_t api_threads = 8;
constexpr std::size_t max_live_streams = 32;

struct App {
  App(Options opts)
      : options(std::move(opts)),
        pool(options.dsn, static_cast<std::size_t>(options.db_connections)),
        live(options.dsn, max_live_streams) {}
  Options options;
  ConnectionPool pool;
  LiveFeed live;
};

using Json = nlohmann::json;
using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

// Wraps a handler: HttpError, SQL errors (by SQLSTATE), an unreachable database and anything
// unexpected become JSON error responses; unexpected ones are logged and answered generically.
Handler guarded(Handler handler);

void send_json(httplib::Response& res, const Json& body, int status = 200);
void send_error(httplib::Response& res, int status, const std::string& message);

// Runs `work` on a pooled connection; a connection that broke is dropped, not reused.
template <typename Work>
auto with_db(App& app, Work&& work) {
  auto lease = app.pool.acquire();
  try {
    return work(*lease);
  } catch (const pqxx::broken_connection&) {
    lease.mark_broken();
    throw;
  } catch (const pqxx::in_doubt_error&) {
    lease.mark_broken();
    throw;
  }
}

// For reads only: an idle pooled connection may have died with a server restart, which shows
// only when it is used; a read can safely run again on a fresh one. (A write cannot: it may have
// committed before the connection broke.)
template <typename Work>
auto with_db_read(App& app, Work&& work) {
  try {
    return with_db(app, work);
  } catch (const pqxx::broken_connection&) {
    return with_db(app, work);
  }
}

void install_api(httplib::Server& server, App& app);
void install_metrics(httplib::Server& server, App& app);
void install_live(httplib::Server& server, App& app);
const std::string& openapi_document();
// The directory holding the built front end (its index.html), or "" if none is found.
std::string find_assets_dir(const std::string& configured);

}  // namespace adagio::dashboard
