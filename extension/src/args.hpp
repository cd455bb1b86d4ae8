// Reading SQL arguments into C++ values and building SQL results, all through pg_guard.
#pragma once

#include "pg_includes.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace adagio::pg {

// Any argument as its text output form (jsonb, uuid, interval, text, ...); nullopt for NULL.
std::optional<std::string> arg_as_text(FunctionCallInfo fcinfo, int index);
std::optional<std::int64_t> arg_int64(FunctionCallInfo fcinfo, int index);
std::optional<std::int32_t> arg_int32(FunctionCallInfo fcinfo, int index);
// An interval argument in seconds, a month counted as 30 days (as interval comparisons count it).
std::optional<double> arg_interval_seconds(FunctionCallInfo fcinfo, int index);

// A timestamptz argument as microseconds since the Unix epoch (its text form would follow the
// session's DateStyle and time zone abbreviations); nullopt for NULL. Infinity is refused (22008),
// naming the argument.
std::optional<std::int64_t> arg_timestamp_unix_us(FunctionCallInfo fcinfo, int index, const char* name);
// A server timestamp (microseconds since 2000-01-01) as microseconds since the Unix epoch.
std::int64_t unix_us(TimestampTz at);

// The elements of a uuid[] or text[] argument, flattened in storage order (as unnest() reads
// them), each as its text form (nullopt for a NULL element); nullopt for a NULL array. Read from
// the Datum itself: printing the array for a statement to parse again cost a statement per call.
std::optional<std::vector<std::optional<std::string>>> arg_array_elements(FunctionCallInfo fcinfo, int index);

// What the run inputs of a call hold, read from the argument itself: elements counted over all
// dimensions, and the first (from 1, in storage order) that is neither NULL nor a JSON object
// (0: none). Checking in SQL would parse the array's text form once more per reference.
struct RunInputsShape {
  long long elements = 0;
  long long first_non_object = 0;
};
RunInputsShape arg_jsonb_array_shape(FunctionCallInfo fcinfo, int index);  // a jsonb[]; not NULL
RunInputsShape arg_jsonb_shape(FunctionCallInfo fcinfo, int index);        // one jsonb: one element

// Results are built in the caller's memory context: call these after SpiSession::finish().
Datum jsonb_result(const std::string& json);
// A json value is its text: unlike jsonb_result(), nothing is parsed or printed again. For
// documents the engine built itself (a claim array of 100 nodes took 1.6 ms to pass through jsonb).
Datum json_result(const std::string& json);
Datum int64_result(std::int64_t value);
Datum int64_array_result(const std::vector<std::int64_t>& values);
Datum text_array_result(const std::vector<std::string>& values);

}  // namespace adagio::pg
