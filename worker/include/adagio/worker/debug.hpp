// The "debug" runtime: sleeps, then concludes as told (or by chance).
#pragma once

#include <adagio/worker/runtime.hpp>
#include <chrono>
#include <optional>
#include <string_view>

namespace adagio::worker {

/// metadata:
///   conclusion  success|fail|error (default success)
///   sleep       a duration ("250ms", "2s", "1m", "1m30s", "500us"); a bare
///               integer is nanoseconds
///   chances     entries "<probability> <success|fail|error|panic>", tried
///               in order; the first whose uniform draw in [0,1) falls below
///               its probability decides the result (panic -> error with
///               output "debug: panic")
///   output      text to return (default "debug: <conclusion>")
///   patch       a patch (proto GraphPatch's JSON, or JSON Patch operations):
///               with a success, nodes to add to the run (Result::patch)
/// Bad metadata -> Result{error, message naming the bad value}.
/// Cancellation during the sleep -> Result{error, "cancelled"}.
Result run_debug(const Task& task);

/// Parses a Go-style duration: an optional sign then one or more
/// <decimal><unit> with units ns, us (or µs), ms, s, m, h; or a bare
/// integer meaning nanoseconds. nullopt if unparsable.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

}  // namespace adagio::worker
