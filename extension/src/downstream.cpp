#include "downstream.hpp"

#include "graph_store.hpp"

#include <vector>

namespace adagio::pg {

Passed pass_output_downstream(SpiSession& spi, std::int64_t run_id, std::int64_t graph_id, const std::string& node,
                              const Value& output, const ClaimRequest* handoff) {
  const std::vector<std::string> names = stored_graph(spi, graph_id).downstream(node);
  if (names.empty()) return {};
  auto rows = spi.query(
      "WITH agent AS ("
      "   UPDATE adagio.agents SET last_seen_at = now(), status = 'active'"
      "   WHERE id = $3::bigint RETURNING runtimes),"
      " downstream AS ("
      "   SELECT $1::bigint AS run_id, e.destination, 1 AS arrived, jsonb_build_object($2::text, coalesce($6, '')) AS outputs"
      "   FROM unnest($7::text[]) AS e(destination)),"
      ADAGIO_PASS_DOWNSTREAM ","
      // The nodes made ready first, then those handed over (which log their claim and no
      // node_ready: no one else could have claimed them), each group in topological order.
      " logged AS ("
      "   INSERT INTO adagio.events (run_id, node, kind, agent_id, attempt, detail)"
      "   SELECT run_id, name, CASE WHEN h THEN 'node_claimed' ELSE 'node_ready' END::adagio.event_kind,"
      "          CASE WHEN h THEN $3::bigint END, CASE WHEN h THEN attempt_count END,"
      "          CASE WHEN h THEN jsonb_build_object('lease_expires_at', lease_expires_at, 'handed_over', true) END"
      "   FROM (SELECT *, state = 'running' AS h FROM passed WHERE state IN ('ready', 'running')) p"
      "   ORDER BY h, position)"
      " SELECT c.state::text, c.runtime, CASE WHEN c.state = 'running' THEN " ADAGIO_CLAIM_DOCUMENT "::text END"
      " FROM passed c JOIN adagio.runs r ON r.id = c.run_id ORDER BY c.id",
      {std::to_string(run_id), node, handoff ? Value(std::to_string(handoff->agent)) : Value(),
       std::to_string(handoff ? handoff->max_nodes : 0), handoff ? Value(handoff->lease) : Value(), output,
       array_literal(names)});
  Passed passed;
  std::string documents;
  for (const Row& row : rows) {
    if (row.text(0) == "ready") {
      passed.ready_runtimes.insert(row.text(1));
    } else if (row.text(0) == "running") {
      documents += (documents.empty() ? "" : ", ") + row.text(2);
      ++passed.handed.count;
    }
  }
  if (passed.handed.count > 0) passed.handed.json = "[" + documents + "]";
  return passed;
}

}  // namespace adagio::pg
