// Graphs are stored once (adagio.graphs, by the digest of their canonical form) and runs point at
// them. A stored graph never changes, so each backend keeps the ones it has used in memory, as
// node names and topology loaded from the graph's shape: completions follow edges in memory
// instead of reading edge rows.
#pragma once

#include "spi.hpp"

#include "adagio/graph.hpp"
#include "adagio/topology.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace adagio::pg {

struct StoredGraph {
  std::vector<std::string> names;  // node names, in the graph's order
  Topology topology;
  std::unordered_map<std::string, std::size_t> index;  // node name -> position in names

  // Direct downstream node names of `node` (empty for an unknown name).
  std::vector<std::string> downstream(const std::string& node) const;
  // Every node transitively downstream of `node`, each once.
  std::vector<std::string> descendants(const std::string& node) const;
};

// The id of the stored graph whose canonical JSON text is `canonical`, storing it (with its shape)
// first if it is new. `graph` and `topology` are its already validated form (kept in the
// session's cache).
std::int64_t store_graph(SpiSession& spi, const std::string& canonical, const Graph& graph, const Topology& topology);

// The stored graph `graph_id`, parsed once per session.
const StoredGraph& stored_graph(SpiSession& spi, std::int64_t graph_id);

// The stored graph `graph_id` if this session has it in memory already, else nullptr: a look-up
// that needs no SPI connection.
const StoredGraph* cached_graph(std::int64_t graph_id);

}  // namespace adagio::pg
