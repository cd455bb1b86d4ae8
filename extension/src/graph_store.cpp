#include "graph_store.hpp"

#include "pg_guard.hpp"

#include "adagio/graph_shape.hpp"

#include <memory>
#include <utility>

namespace adagio::pg {
namespace {

// Bounded: a session that meets very many distinct graphs starts over rather than growing.
constexpr std::size_t max_cached_graphs = 512;

std::unordered_map<std::int64_t, std::unique_ptr<StoredGraph>>& cache() {
  static std::unordered_map<std::int64_t, std::unique_ptr<StoredGraph>> graphs;
  return graphs;
}

// Ids are only stable while adagio.graphs is the same table: the extension dropped and created
// again (or the table truncated) hands out the same ids for other graphs. The cache is emptied on
// any relation-cache invalidation of that table, which Postgres sends for both, in this session
// as in others.
Oid cached_table = InvalidOid;  // adagio.graphs as of the cached entries; InvalidOid: unknown

void forget_graphs(Datum, Oid relid) noexcept {
  if (relid != InvalidOid && relid != cached_table) return;
  cache().clear();
  cached_table = InvalidOid;
}

// Before the cache is used: the table it belongs to is known, and the callback is registered.
void check_cache_table(SpiSession& spi) {
  static bool callback_registered = false;
  if (!callback_registered) {
    pg_guard([] { CacheRegisterRelcacheCallback(forget_graphs, static_cast<Datum>(0)); });
    callback_registered = true;
  }
  if (cached_table != InvalidOid) return;
  cache().clear();
  auto rows = spi.query("SELECT 'adagio.graphs'::regclass::oid");
  cached_table = static_cast<Oid>(std::stoul(rows.at(0).text(0)));
}

// The cached entry for graph_id, if there is one.
const StoredGraph* cached(std::int64_t graph_id) {
  auto& graphs = cache();
  const auto found = graphs.find(graph_id);
  return found == graphs.end() ? nullptr : found->second.get();
}

// A new cache entry for graph_id (the caller found none), from `graph` (its names) and its
// topology, which is moved in: copying that of a 20,000-node graph took several ms of a backend's
// first report.
const StoredGraph& remember(std::int64_t graph_id, const Graph& graph, Topology topology) {
  auto& graphs = cache();
  if (graphs.size() >= max_cached_graphs) graphs.clear();
  auto stored = std::make_unique<StoredGraph>();
  stored->names.reserve(graph.nodes.size());
  for (const NodeSpec& node : graph.nodes) stored->names.push_back(node.name);
  stored->topology = std::move(topology);
  stored->index.reserve(stored->names.size());
  for (std::size_t i = 0; i < stored->names.size(); ++i) stored->index.emplace(stored->names[i], i);
  return *graphs.emplace(graph_id, std::move(stored)).first->second;
}

}  // namespace

std::vector<std::string> StoredGraph::downstream(const std::string& node) const {
  std::vector<std::string> found_names;
  auto found = index.find(node);
  if (found == index.end()) return found_names;
  for (std::size_t i : topology.downstream[found->second]) found_names.push_back(names[i]);
  return found_names;
}

std::vector<std::string> StoredGraph::descendants(const std::string& node) const {
  std::vector<std::string> found_names;
  auto found = index.find(node);
  if (found == index.end()) return found_names;
  for (std::size_t i : adagio::descendants(topology, found->second)) found_names.push_back(names[i]);
  return found_names;
}

std::int64_t store_graph(SpiSession& spi, const std::string& canonical, const Graph& graph, const Topology& topology) {
  check_cache_table(spi);
  // Found in one index look-up when known (the common case: runs of a stored workflow).
  auto found = spi.query("SELECT id FROM adagio.graphs WHERE digest = sha256(convert_to($1::jsonb::text, 'UTF8'))", {canonical});
  std::int64_t id = 0;
  if (!found.empty()) {
    id = found[0].integer(0);
  } else {
    // Two sessions storing the same new graph at once: the second waits for the first and then
    // takes its row (the no-op update returns it), so both runs point at one graph.
    auto stored = spi.query(
        "INSERT INTO adagio.graphs (digest, graph, shape) VALUES (sha256(convert_to($1::jsonb::text, 'UTF8')), $1::jsonb, $2)"
        " ON CONFLICT (digest) DO UPDATE SET digest = excluded.digest RETURNING id",
        {canonical, shape_text(graph)});
    id = stored.at(0).integer(0);
  }
  // A start of an already cached graph copies nothing.
  if (!cached(id)) remember(id, graph, topology);
  return id;
}

const StoredGraph* cached_graph(std::int64_t graph_id) {
  return cached_table == InvalidOid ? nullptr : cached(graph_id);
}

const StoredGraph& stored_graph(SpiSession& spi, std::int64_t graph_id) {
  check_cache_table(spi);
  if (const StoredGraph* found = cached(graph_id)) return *found;
  auto rows = spi.query("SELECT shape FROM adagio.graphs WHERE id = $1::bigint", {std::to_string(graph_id)});
  if (rows.empty()) throw SqlError(ERRCODE_DATA_CORRUPTED, "graph " + std::to_string(graph_id) + " is missing");
  // Validated when it was stored; the topology is rebuilt from names and edges alone.
  const Graph shape = graph_from_shape(rows[0].text(0));
  return remember(graph_id, shape, build_topology(shape));
}

}  // namespace adagio::pg
