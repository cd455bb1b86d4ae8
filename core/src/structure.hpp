#pragma once
// Internal to the core: the pieces validate() and build_topology() share, so both report the
// same structural problems with the same messages.

#include "adagio/graph.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace adagio::detail {

// `text` as a JSON string literal, so names with quotes or control characters stay readable.
std::string in_quotes(std::string_view text);

[[noreturn]] void invalid(std::string message);

struct Structure {
  std::vector<std::vector<std::size_t>> upstream;
  std::vector<std::vector<std::size_t>> downstream;
};

// Resolves edges to node indices. Throws GraphError(invalid_graph) for duplicate node names,
// edge endpoints that are not nodes and duplicate edges. Cycles are left to find_cycle.
Structure resolve_structure(const Graph& graph);

// One cycle as node indices, starting at its node listed first in the input and repeating it
// at the end; nullopt for a DAG. Iterative, so deep graphs cannot overflow the stack.
std::optional<std::vector<std::size_t>> find_cycle(const std::vector<std::vector<std::size_t>>& downstream);

// Throws GraphError(cycle) naming the nodes of `cycle` in order.
[[noreturn]] void throw_cycle(const Graph& graph, const std::vector<std::size_t>& cycle);

}  // namespace adagio::detail
