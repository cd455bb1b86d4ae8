#pragma once

#include "adagio/graph.hpp"

namespace adagio {

// Checks every rule of the graph model in O(V+E); throws GraphError with kind invalid_graph, or
// cycle when the edges form one. A cycle message names one concrete cycle, starting at its node
// listed first in the input: "graph has a cycle: a -> b -> c -> a".
// Rules: at least one node; names 1..128 bytes without control characters, unique; runtime
// matching ^[A-Za-z0-9_.-]{1,48}$; retry only for fail / error with max_attempts >= 1; edge
// endpoints are nodes; no duplicate edges; no cycles (a self-loop is one).
void validate(const Graph& graph);

}  // namespace adagio
