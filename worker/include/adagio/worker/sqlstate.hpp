// The SQLSTATE of a libpqxx SQL error. libpqxx throws some of its error classes without the code
// the server sent (insufficient_privilege above all), so sqlstate() is empty for them and callers
// matching on "42501" never matched: the class names the code instead. Header-only, for the
// worker, the CLI and the dashboard alike.
#pragma once

#include <pqxx/except>

#include <string>

namespace adagio {

inline std::string sqlstate_of(const pqxx::sql_error& e) {
  std::string state = e.sqlstate();
  if (!state.empty()) return state;
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&e)) return "42501";
  if (dynamic_cast<const pqxx::undefined_function*>(&e)) return "42883";
  if (dynamic_cast<const pqxx::undefined_table*>(&e)) return "42P01";
  if (dynamic_cast<const pqxx::undefined_column*>(&e)) return "42703";
  if (dynamic_cast<const pqxx::syntax_error*>(&e)) return "42601";
  return state;
}

// libpqxx 6 throws a transaction rollback (deadlock, serialization failure) as a class of its own
// beside sql_error, not under it, and without the code: a handler of sql_error never sees one, and
// one of pqxx::failure would take it for a lost connection.
inline std::string sqlstate_of(const pqxx::transaction_rollback& e) {
  if (dynamic_cast<const pqxx::deadlock_detected*>(&e)) return "40P01";
  if (dynamic_cast<const pqxx::serialization_failure*>(&e)) return "40001";
  if (dynamic_cast<const pqxx::statement_completion_unknown*>(&e)) return "40003";
  return "40000";
}

}  // namespace adagio
