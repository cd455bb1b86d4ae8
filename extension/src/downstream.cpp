#include "downstream.hpp"

#include "graph_store.hpp"

#include <vector>

namespace adagio::pg {

std::set<std::string> pass_output_downstream(SpiSession& spi, std::int64_t run_id, std::int64_t graph_id,
                                             const std::string& node, const Value& output) {
  const std::vector<std::string> names = stored_graph(spi, graph_id).downstream(node);
  if (names.empty()) return {};
  auto rows = spi.query(
      // No agent, so nothing is handed over ($4, the most to hand, is 0).
      "WITH agent AS (SELECT NULL::text[] AS runtimes WHERE false),"
      " downstream AS ("
      "   SELECT $1::bigint AS run_id, e.destination, 1 AS arrived, jsonb_build_object($2::text, coalesce($6, '')) AS outputs"
      "   FROM unnest($7::text[]) AS e(destination)),"
      ADAGIO_PASS_DOWNSTREAM ","
      " logged AS ("
      "   INSERT INTO adagio.events (run_id, node, kind)"
      "   SELECT run_id, name, 'node_ready' FROM passed WHERE state = 'ready' ORDER BY position)"
      " SELECT runtime FROM passed WHERE state = 'ready'",
      {std::to_string(run_id), node, Value(), "0", Value(), output, array_literal(names)});
  std::set<std::string> ready;
  for (const Row& row : rows) ready.insert(row.text(0));
  return ready;
}

}  // namespace adagio::pg
