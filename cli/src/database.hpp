// Connecting like every Postgres tool (--dsn, --service, $ADAGIO_DSN, the PG* variables), and
// turning database errors into messages and exit codes a person or a script can act on.
#pragma once

#include <pqxx/pqxx>

#include <memory>
#include <stdexcept>
#include <string>

namespace adagio::cli {

// Exit codes scripts can rely on (docs/cli.md lists them).
namespace exit_code {
constexpr int ok = 0;
constexpr int run_failed = 1;     // --wait: the run completed failed, or was cancelled
constexpr int usage = 2;          // bad flags or arguments, unreadable file
constexpr int invalid_input = 3;  // a graph or JSON the engine rejects
constexpr int not_found = 4;      // unknown run or workflow
constexpr int wrong_state = 5;    // e.g. cancelling a finished run
constexpr int database = 6;       // cannot connect, permission denied, other database errors
constexpr int timed_out = 7;      // --wait --timeout: the run had not finished in time
}  // namespace exit_code

// An error to print as "adagio: <message>" (plus an optional hint) before exiting with `code`.
class CliError : public std::runtime_error {
 public:
  CliError(int code, const std::string& message, std::string hint = {})
      : std::runtime_error(message), code_(code), hint_(std::move(hint)) {}
  int code() const { return code_; }
  const std::string& hint() const { return hint_; }

 private:
  int code_;
  std::string hint_;
};

struct ConnectionOptions {
  std::string dsn;      // --dsn: a libpq connection string or URI
  std::string service;  // --service: a name from pg_service.conf
};

// The connection string to use: --dsn, else service=NAME, else $ADAGIO_DSN, else "" (PG* variables).
std::string resolve_dsn(const ConnectionOptions& options);

// Connects or throws CliError(database) naming where it tried to connect and why it failed.
std::unique_ptr<pqxx::connection> connect(const ConnectionOptions& options);

// The CliError for a server error: 22xxx -> invalid_input, 42704 -> not_found, 55000 ->
// wrong_state (and 42809, not an approval gate), a missing adagio schema -> a hint to CREATE EXTENSION, the rest -> database.
CliError to_cli_error(const pqxx::sql_error& error);
// A deadlock or serialization failure (libpqxx 6 throws them apart from sql_error).
CliError to_cli_error(const pqxx::transaction_rollback& error);

// The first line of a server message, without the "ERROR:" prefix.
std::string server_message(const std::string& what);
// The server's HINT line in a libpq error text, or "".
std::string server_hint(const std::string& what);

}  // namespace adagio::cli
