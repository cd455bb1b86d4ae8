#include "database.hpp"

#include <adagio/worker/sqlstate.hpp>
#include <libpq-fe.h>

#include <cstdlib>

namespace adagio::cli {
namespace {

// A readable "database "x" on host h port p as user u" for the target of a connection string,
// filled in from the PG* variables and libpq's defaults the way libpq itself does.
std::string describe_target(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(dsn.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  PQconninfoOption* defaults = PQconndefaults();
  auto value = [&](const char* key) -> std::string {
    for (PQconninfoOption* o = parsed; o != nullptr && o->keyword != nullptr; ++o)
      if (std::string(o->keyword) == key && o->val != nullptr && *o->val != '\0') return o->val;
    for (PQconninfoOption* o = defaults; o != nullptr && o->keyword != nullptr; ++o)
      if (std::string(o->keyword) == key && o->val != nullptr && *o->val != '\0') return o->val;
    return {};
  };
  std::string host = value("host");
  if (host.empty()) host = value("hostaddr");
  const std::string port = value("port"), user = value("user"), service = value("service");
  std::string dbname = value("dbname");
  if (parsed != nullptr) PQconninfoFree(parsed);
  if (defaults != nullptr) PQconninfoFree(defaults);
  std::string where = dbname.empty() ? "the database" : "database \"" + dbname + "\"";
  where += " on " + (host.empty() ? std::string("the default Unix socket") : "host " + host);
  if (!port.empty()) where += " port " + port;
  if (!user.empty()) where += " as user " + user;
  if (!service.empty()) where += " (service " + service + ")";
  return where;
}

}  // namespace

std::string server_message(const std::string& what) {
  std::string line = what.substr(0, what.find('\n'));
  for (const char* prefix : {"ERROR:  ", "ERROR: ", "FATAL:  "})
    if (line.rfind(prefix, 0) == 0) line.erase(0, std::string(prefix).size());
  return line;
}

std::string server_hint(const std::string& what) {
  const auto at = what.find("\nHINT:  ");
  if (at == std::string::npos) return "";
  const std::string rest = what.substr(at + 8);
  return rest.substr(0, rest.find('\n'));
}

std::string resolve_dsn(const ConnectionOptions& options) {
  if (!options.dsn.empty()) return options.dsn;
  if (!options.service.empty()) return "service=" + options.service;
  if (const char* env = std::getenv("ADAGIO_DSN"); env != nullptr && *env != '\0') return env;
  return "";
}

std::unique_ptr<pqxx::connection> connect(const ConnectionOptions& options) {
  const std::string dsn = resolve_dsn(options);
  try {
    auto connection = std::make_unique<pqxx::connection>(dsn);
    return connection;
  } catch (const pqxx::broken_connection& e) {
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    // libpq's text spans lines ("connection to server ... failed: Connection refused\n\tIs the server...").
    for (auto pos = why.find('\n'); pos != std::string::npos; pos = why.find('\n')) why.replace(pos, 1, "; ");
    for (auto pos = why.find('\t'); pos != std::string::npos; pos = why.find('\t')) why.erase(pos, 1);
    throw CliError(exit_code::database, "cannot connect to " + describe_target(dsn) + ": " + why,
                   "pass --dsn 'host=... dbname=... user=...', --service NAME, or set PGHOST, PGPORT, PGDATABASE, PGUSER");
  } catch (const pqxx::failure& e) {
    throw CliError(exit_code::database, "cannot connect to " + describe_target(dsn) + ": " + server_message(e.what()));
  }
}

CliError to_cli_error(const pqxx::sql_error& error) {
  const std::string state = sqlstate_of(error);
  const std::string message = server_message(error.what());
  if (state == "3F000" || (state == "42883" && message.find("adagio.") != std::string::npos))
    return CliError(exit_code::database, message, "is the adagio extension installed? run: CREATE EXTENSION adagio");
  const std::string hint = server_hint(error.what());
  if (state.rfind("22", 0) == 0) return CliError(exit_code::invalid_input, message, hint);
  if (state == "42704") return CliError(exit_code::not_found, message, hint);
  // 42809: deciding a node that is not an approval gate, a wrong target like a wrong state
  if (state == "55000" || state == "42809") return CliError(exit_code::wrong_state, message, hint);
  if (state == "42501")
    return CliError(exit_code::database, message,
                    "grant the connecting role adagio_reader (to look), adagio_operator (to start, cancel, retry, approve)");
  return CliError(exit_code::database, message + (state.empty() ? "" : " (SQLSTATE " + state + ")"), hint);
}

CliError to_cli_error(const pqxx::transaction_rollback& error) {
  const std::string state = sqlstate_of(error);
  return CliError(exit_code::database, server_message(error.what()) + " (SQLSTATE " + state + ")",
                  state == "40003" ? "the database cannot say whether the command took effect: look before running it again"
                                   : "the database rolled the command back and changed nothing: run it again");
}

}  // namespace adagio::cli
