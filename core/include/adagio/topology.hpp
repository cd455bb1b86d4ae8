#pragma once

#include "adagio/graph.hpp"

#include <cstddef>
#include <vector>

namespace adagio {

// Node indices refer to positions in Graph::nodes.
struct Topology {
  // Every node once, each after all of its upstream nodes.
  std::vector<std::size_t> order;
  // Per node, its direct upstream / downstream nodes in edge input order.
  std::vector<std::vector<std::size_t>> upstream;
  std::vector<std::vector<std::size_t>> downstream;
};

// Kahn's algorithm; among nodes ready at the same time the one earlier in the input goes first,
// so the order is deterministic. Checks the structural rules the topology depends on (unique
// names, known edge endpoints, no duplicate edges: GraphError invalid_graph; acyclic: GraphError
// cycle) but not the per-node rules; call validate() for those.
Topology build_topology(const Graph& graph);

// All nodes transitively downstream of `node` (not `node` itself), each once, in the order of
// topology.order. Throws std::out_of_range for an index that is not a node.
std::vector<std::size_t> descendants(const Topology& topology, std::size_t node);

}  // namespace adagio
