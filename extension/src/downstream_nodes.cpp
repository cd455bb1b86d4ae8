// adagio.downstream_nodes(graph_id, node): the nodes directly downstream of a node of a stored
// graph, from the session's graph cache. The engine's own: it lets the statement that completes
// nodes also follow their edges, where C++ had to read the completed nodes back first and send
// their edges into a second statement.
#include "args.hpp"
#include "graph_store.hpp"
#include "pg_guard.hpp"

#include <string>
#include <vector>

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_downstream_nodes);

// adagio.downstream_nodes(graph_id bigint, node text) -> text[] (empty for a node with none, or
// a name the graph does not have). STRICT: neither argument is NULL here.
Datum adagio_downstream_nodes(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    const std::int64_t graph_id = *arg_int64(fcinfo, 0);
    const std::string node = *arg_as_text(fcinfo, 1);
    if (const StoredGraph* graph = cached_graph(graph_id)) return text_array_result(graph->downstream(node));
    // Not in memory yet (a session's first report of this graph): read it, once.
    SpiSession spi;
    const std::vector<std::string> names = stored_graph(spi, graph_id).downstream(node);
    spi.finish();
    return text_array_result(names);
  });
}

}  // extern "C"
