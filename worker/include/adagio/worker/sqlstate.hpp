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

}  // namespace adagio
