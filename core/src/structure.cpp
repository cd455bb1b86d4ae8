#include "structure.hpp"

#include "adagio/graph_error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <utility>

namespace adagio::detail {

std::string in_quotes(std::string_view text) {
  // replace: a message about bad input must not itself fail on invalid UTF-8.
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void invalid(std::string message) { throw GraphError(GraphErrorKind::invalid_graph, std::move(message)); }

Structure resolve_structure(const Graph& graph) {
  const std::size_t n = graph.nodes.size();
  std::unordered_map<std::string_view, std::size_t> index;
  index.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto [it, inserted] = index.emplace(graph.nodes[i].name, i);
    if (!inserted)
      invalid("duplicate node name " + in_quotes(graph.nodes[i].name) + " (nodes[" + std::to_string(it->second) +
              "] and nodes[" + std::to_string(i) + "])");
  }

  Structure s{std::vector<std::vector<std::size_t>>(n), std::vector<std::vector<std::size_t>>(n)};
  std::unordered_map<std::uint64_t, std::size_t> seen;  // source * n + destination -> edge index
  seen.reserve(graph.edges.size());
  for (std::size_t k = 0; k < graph.edges.size(); ++k) {
    const Edge& e = graph.edges[k];
    // Built only for a message: a string per edge was a good part of loading a large graph.
    auto label = [&] { return "edge " + e.source + " -> " + e.destination; };
    auto source = index.find(e.source);
    if (source == index.end()) invalid(label() + ": source " + in_quotes(e.source) + " is not a node");
    auto destination = index.find(e.destination);
    if (destination == index.end()) invalid(label() + ": destination " + in_quotes(e.destination) + " is not a node");
    const std::size_t u = source->second, v = destination->second;
    auto [first, inserted] = seen.emplace(static_cast<std::uint64_t>(u) * n + v, k);
    if (!inserted)
      invalid("duplicate " + label() + " (edges[" + std::to_string(first->second) + "] and edges[" +
              std::to_string(k) + "])");
    s.downstream[u].push_back(v);
    s.upstream[v].push_back(u);
  }
  return s;
}

std::optional<std::vector<std::size_t>> find_cycle(const std::vector<std::vector<std::size_t>>& downstream) {
  enum : unsigned char { unvisited, on_path, finished };
  const std::size_t n = downstream.size();
  std::vector<unsigned char> state(n, unvisited);
  std::vector<std::size_t> path_position(n);
  // The current DFS path, with the next outgoing edge to try for each node on it.
  std::vector<std::pair<std::size_t, std::size_t>> path;
  for (std::size_t root = 0; root < n; ++root) {
    if (state[root] != unvisited) continue;
    state[root] = on_path;
    path_position[root] = 0;
    path.emplace_back(root, 0);
    while (!path.empty()) {
      auto& [u, next] = path.back();
      if (next == downstream[u].size()) {
        state[u] = finished;
        path.pop_back();
        continue;
      }
      const std::size_t v = downstream[u][next++];
      if (state[v] == on_path) {
        std::vector<std::size_t> cycle;
        for (std::size_t p = path_position[v]; p < path.size(); ++p) cycle.push_back(path[p].first);
        // Start at the node listed first, so the message does not depend on where the search
        // happened to enter the cycle.
        std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
        cycle.push_back(cycle.front());
        return cycle;
      }
      if (state[v] == unvisited) {
        state[v] = on_path;
        path_position[v] = path.size();
        path.emplace_back(v, 0);  // invalidates u and next; they are not used again this round
      }
    }
  }
  return std::nullopt;
}

void throw_cycle(const Graph& graph, const std::vector<std::size_t>& cycle) {
  std::string message = "graph has a cycle: ";
  for (std::size_t i = 0; i < cycle.size(); ++i) {
    if (i > 0) message += " -> ";
    message += graph.nodes[cycle[i]].name;
  }
  throw GraphError(GraphErrorKind::cycle, std::move(message));
}

}  // namespace adagio::detail
