// SPI from C++: statements are prepared once per backend, every parameter travels as text and
// every result comes back as text copied into C++ strings, so nothing points into SPI memory.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace adagio::pg {

using Value = std::optional<std::string>;  // nullopt is SQL NULL
using Params = std::vector<Value>;

struct Row {
  std::vector<Value> columns;
  const Value& operator[](std::size_t i) const { return columns.at(i); }
  // The column as text; a NULL becomes the empty string.
  std::string text(std::size_t i) const { return columns.at(i).value_or(std::string()); }
  long long integer(std::size_t i) const;
};

// A Postgres array literal of the values, each quoted, so any text survives the round trip: how an
// array travels as one text parameter (cast with $n::type[] in the statement).
std::string array_literal(const std::vector<Value>& values);
std::string array_literal(const std::vector<std::string>& values);

// One SPI connection for the life of a SQL-callable function. finish() must be called on the
// success path before returning a value; on an error the aborting transaction cleans up.
class SpiSession {
 public:
  SpiSession();
  SpiSession(const SpiSession&) = delete;
  SpiSession& operator=(const SpiSession&) = delete;
  void finish();

  // once: planned on first use in the backend and kept (a generic plan); for the hot paths.
  // each_call: planned afresh on every call, for the current table sizes; for statements that
  // run rarely (the sweep), where a plan kept from when a table was empty could cost a scan of
  // every row until the next ANALYZE.
  enum class Planning { once, each_call };

  // Runs a statement; `sql` must be a string literal: its address keys the plan cache.
  std::vector<Row> query(const char* sql, const Params& params = {}, Planning planning = Planning::once);

 private:
  bool finished_ = false;
};

}  // namespace adagio::pg
