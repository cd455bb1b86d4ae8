// adagio.downstream_nodes(graph_id, node): the nodes directly downstream of a node of a stored
// graph, from the session's graph cache. The engine's own: it lets the statement that completes
// nodes also follow their edges, where C++ had to read the completed nodes back first and send
// their edges into a second statement.
#include "graph_store.hpp"
#include "pg_guard.hpp"

#include <string>
#include <vector>

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_downstream_nodes);

// adagio.downstream_nodes(graph_id bigint, node text) -> text[] (empty for a node with none, or
// a name the graph does not have).
Datum adagio_downstream_nodes(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    const std::int64_t graph_id = PG_GETARG_INT64(0);
    const char* raw_node = nullptr;  // palloc'd in the call's context
    pg_guard([&] { raw_node = text_to_cstring(PG_GETARG_TEXT_PP(1)); });
    const std::string node(raw_node);
    std::vector<std::string> names;
    if (const StoredGraph* graph = cached_graph(graph_id)) {
      names = graph->downstream(node);
    } else {
      // Not in memory yet (a session's first report of this graph): read it, once.
      SpiSession spi;
      names = stored_graph(spi, graph_id).downstream(node);
      spi.finish();
    }
    ArrayType* result = nullptr;
    std::vector<const char*> raw(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) raw[i] = names[i].c_str();
    pg_guard([&] {
      Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * (raw.size() > 0 ? raw.size() : 1)));
      for (std::size_t i = 0; i < raw.size(); ++i) elements[i] = CStringGetTextDatum(raw[i]);
      result = construct_array(elements, static_cast<int>(raw.size()), TEXTOID, -1, false, TYPALIGN_INT);
    });
    return PointerGetDatum(result);
  });
}

}  // extern "C"
