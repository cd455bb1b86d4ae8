#include "spi.hpp"

#include "pg_guard.hpp"

#include <string>
#include <unordered_map>

namespace adagio::pg {
namespace {

// Plans kept for the life of the backend, keyed by the statement literal.
std::unordered_map<const char*, SPIPlanPtr>& plan_cache() {
  static std::unordered_map<const char*, SPIPlanPtr> plans;
  return plans;
}

// Every parameter travels as text (cast in the statement); palloc'd, so call it under pg_guard.
Oid* text_parameter_types(int nparams) {
  Oid* types = static_cast<Oid*>(palloc(sizeof(Oid) * (nparams > 0 ? nparams : 1)));
  for (int i = 0; i < nparams; ++i) types[i] = TEXTOID;
  return types;
}

SPIPlanPtr plan_for(const char* sql, int nparams) {
  auto& plans = plan_cache();
  auto found = plans.find(sql);
  if (found != plans.end()) return found->second;
  SPIPlanPtr plan = nullptr;
  pg_guard([&] {
    Oid* types = text_parameter_types(nparams);
    // Generic plans only: the engine's statements run with different values every time, and
    // planning each call afresh (a custom plan, which the plan cache otherwise keeps choosing
    // because it can see how long the arrays are) cost a third of a chain hop. The statements are
    // written so their generic plans walk indexes whatever the table sizes.
    plan = SPI_prepare_cursor(sql, nparams, types, CURSOR_OPT_GENERIC_PLAN);
    if (plan == nullptr) elog(ERROR, "adagio: SPI_prepare failed (%s) for: %s", SPI_result_code_string(SPI_result), sql);
    if (SPI_keepplan(plan) != 0) elog(ERROR, "adagio: SPI_keepplan failed");
  });
  plans.emplace(sql, plan);
  return plan;
}

}  // namespace

std::string array_literal(const std::vector<Value>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string array_literal(const std::vector<std::string>& values) {
  return array_literal(std::vector<Value>(values.begin(), values.end()));
}

long long Row::integer(std::size_t i) const {
  const Value& v = columns.at(i);
  return v ? std::stoll(*v) : 0;
}

SpiSession::SpiSession() {
  pg_guard([] {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "adagio: SPI_connect failed");
  });
}

void SpiSession::finish() {
  if (finished_) return;
  finished_ = true;
  pg_guard([] { SPI_finish(); });
}

std::vector<Row> SpiSession::query(const char* sql, const Params& params, Planning planning) {
  const int nparams = static_cast<int>(params.size());
  SPIPlanPtr plan = planning == Planning::once ? plan_for(sql, nparams) : nullptr;

  // Plain arrays for the guarded region: C strings owned by `params`, which outlives it.
  std::vector<const char*> raw(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) raw[i] = params[i] ? params[i]->c_str() : nullptr;

  uint64 nrows = 0;
  int ncols = 0;
  char** cells = nullptr;  // row-major, palloc'd in the SPI context
  pg_guard([&] {
    Datum* values = static_cast<Datum*>(palloc0(sizeof(Datum) * (nparams > 0 ? nparams : 1)));
    char* nulls = static_cast<char*>(palloc0(nparams + 1));
    for (int i = 0; i < nparams; ++i) {
      if (raw[i] == nullptr) {
        nulls[i] = 'n';
      } else {
        values[i] = CStringGetTextDatum(raw[i]);
        nulls[i] = ' ';
      }
    }
    int rc = 0;
    if (plan != nullptr) {
      rc = SPI_execute_plan(plan, values, nulls, false, 0);
    } else {
      rc = SPI_execute_with_args(sql, nparams, text_parameter_types(nparams), values, nulls, false, 0);
    }
    if (rc < 0) elog(ERROR, "adagio: executing a statement failed (%s)", SPI_result_code_string(rc));
    if (SPI_tuptable == nullptr) return;
    nrows = SPI_processed;
    ncols = SPI_tuptable->tupdesc->natts;
    cells = static_cast<char**>(palloc0(sizeof(char*) * (nrows * ncols + 1)));
    for (uint64 r = 0; r < nrows; ++r)
      for (int c = 0; c < ncols; ++c)
        cells[r * ncols + c] = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1);
  });

  std::vector<Row> rows;
  rows.reserve(nrows);
  for (uint64 r = 0; r < nrows; ++r) {
    Row row;
    row.columns.reserve(ncols);
    for (int c = 0; c < ncols; ++c) {
      const char* cell = cells[r * ncols + c];
      row.columns.push_back(cell ? Value(cell) : std::nullopt);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace adagio::pg
