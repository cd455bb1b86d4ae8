#include "adagio/topology.hpp"

#include "structure.hpp"

#include <functional>
#include <queue>
#include <stdexcept>
#include <string>
#include <utility>

namespace adagio {

Topology build_topology(const Graph& graph) {
  detail::Structure structure = detail::resolve_structure(graph);
  const std::size_t n = graph.nodes.size();

  std::vector<std::size_t> pending(n);
  // A min-heap of indices: the earliest ready node in input order goes first.
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t i = 0; i < n; ++i) {
    pending[i] = structure.upstream[i].size();
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<std::size_t> order;
  order.reserve(n);
  while (!ready.empty()) {
    const std::size_t u = ready.top();
    ready.pop();
    order.push_back(u);
    for (std::size_t v : structure.downstream[u])
      if (--pending[v] == 0) ready.push(v);
  }
  if (order.size() != n) {
    // Kahn stalls only on a cycle, so find_cycle finds one.
    if (auto cycle = detail::find_cycle(structure.downstream)) detail::throw_cycle(graph, *cycle);
  }
  return Topology{std::move(order), std::move(structure.upstream), std::move(structure.downstream)};
}

std::vector<std::size_t> descendants(const Topology& topology, std::size_t node) {
  const std::size_t n = topology.downstream.size();
  if (node >= n)
    throw std::out_of_range("descendants: node " + std::to_string(node) + " is not in a topology of " +
                            std::to_string(n) + " nodes");
  std::vector<char> reached(n, 0);
  std::vector<std::size_t> stack{node};
  while (!stack.empty()) {
    const std::size_t u = stack.back();
    stack.pop_back();
    for (std::size_t v : topology.downstream[u]) {
      if (!reached[v]) {
        reached[v] = 1;
        stack.push_back(v);
      }
    }
  }
  std::vector<std::size_t> result;
  for (std::size_t u : topology.order)
    if (reached[u] && u != node) result.push_back(u);
  return result;
}

}  // namespace adagio
