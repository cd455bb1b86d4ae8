#pragma once

#include "adagio/conclusion.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace adagio {

// The graph model of proto/adagio.proto. These are plain values: parse_graph/graph_from_json
// only check their shape, validate() checks the rules.

// Delay before a retry: initial_delay_seconds * multiplier^(n-1) for the n-th retry, at most
// max_delay_seconds.
struct Backoff {
  double initial_delay_seconds = 0;
  double multiplier = 2;
  double max_delay_seconds = 3600;
};

struct RetryPolicy {
  // Total attempts allowed to end in the conclusion this policy is keyed by (see retry.hpp).
  int max_attempts = 0;
  // Without one, a retry is ready at once.
  std::optional<Backoff> backoff;
};

struct NodeSpec {
  std::string name;
  std::string runtime;
  std::map<std::string, std::vector<std::string>> metadata;
  // Keys are fail / error; success is never a valid key.
  std::map<Conclusion, RetryPolicy> retry;
  // Lease of each claim of this node; unset means the claimer's or the server's default.
  std::optional<int> lease_seconds;
  // Longest an attempt may run; unset means no limit. Workers cancel an attempt that runs longer
  // and report it as an error; the server takes the claim back if no report comes.
  std::optional<int> timeout_seconds;
};

// The engine's own runtimes, which no worker runs. Approval gates are nodes that people decide
// (adagio.approve(), adagio.reject()); timeout_seconds is then the time a gate stays open for a
// decision. A timer succeeds once its metadata "seconds" have passed since it became ready.
inline constexpr const char* approval_runtime = "approval";
inline constexpr const char* timer_runtime = "timer";
inline bool is_engine_runtime(const std::string& runtime) {
  return runtime == approval_runtime || runtime == timer_runtime;
}
// Whether `name` may name a runtime: 1 to 48 of [A-Za-z0-9_.-] (it is part of a NOTIFY channel).
bool is_runtime_name(std::string_view name);

// Bounds of a timer's "seconds": more than 0, at most 365 days.
inline constexpr double max_timer_seconds = 365.0 * 86400;

// Bounds of NodeSpec::timeout_seconds: at most 30 days.
inline constexpr int max_timeout_seconds = 30 * 24 * 3600;

// `destination` runs after `source` succeeded.
struct Edge {
  std::string source;
  std::string destination;
};

struct Graph {
  std::vector<NodeSpec> nodes;
  std::vector<Edge> edges;
  // The longest a run of this graph may take, from its start; the sweep then cancels it.
  std::optional<int> timeout_seconds;
};

// Bounds of Graph::timeout_seconds: at most 365 days (a run may wait long for people).
inline constexpr int max_run_timeout_seconds = 365 * 24 * 3600;

}  // namespace adagio
