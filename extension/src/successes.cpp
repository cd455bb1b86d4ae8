#include "successes.hpp"

#include "engine_runtimes.hpp"
#include "graph_store.hpp"
#include "notify.hpp"

#include <algorithm>
#include <set>

namespace adagio::pg {
namespace {

// The outputs of the nodes just completed in run `run_id` (by their claim tokens) to the nodes
// patches added below them since their rows were written (the run's graph is `run_graph`, newer
// than theirs): what the main statement did for the edges their own graph has. Rare: only runs
// patched while these nodes waited or ran. Returns the runtimes of the nodes made ready.
std::vector<std::string> pass_to_patched_nodes(SpiSession& spi, const std::string& run_id, std::int64_t run_graph,
                                               const std::vector<Value>& tokens) {
  std::vector<std::string> ready;
  for (const Row& done : spi.query(
           "SELECT name, output, graph_id FROM adagio.nodes"
           " WHERE id = ANY (ARRAY(SELECT adagio.claim_token_node(t) FROM unnest($2::uuid[]) t))"
           "   AND run_id = $1::bigint AND success_token = ANY ($2::uuid[]) AND graph_id <> $3::bigint",
           {run_id, array_literal(tokens), std::to_string(run_graph)})) {
    const std::string node = done.text(0);
    const std::vector<std::string> before = stored_graph(spi, done.integer(2)).downstream(node);
    std::vector<Value> added;
    for (const std::string& name : stored_graph(spi, run_graph).downstream(node))
      if (std::find(before.begin(), before.end(), name) == before.end()) added.push_back(name);
    if (added.empty()) continue;
    for (const Row& row : spi.query(
             "WITH target AS ("
             "   SELECT id FROM adagio.nodes WHERE run_id = $1::bigint AND name = ANY ($2::text[]) AND state = 'waiting'"
             "   ORDER BY id FOR UPDATE),"
             " passed AS ("
             "   UPDATE adagio.nodes d SET upstream_pending = d.upstream_pending - 1,"
             "     inputs = d.inputs || jsonb_build_object($3::text, coalesce($4, '')),"
             "     state = CASE WHEN d.upstream_pending = 1 THEN 'ready' ELSE d.state END,"
             "     ready_at = CASE WHEN d.upstream_pending = 1 THEN clock_timestamp() ELSE d.ready_at END"
             "   FROM target t WHERE d.id = t.id RETURNING d.name, d.state, d.position, d.runtime),"
             " logged AS ("
             "   INSERT INTO adagio.events (run_id, node, kind)"
             "   SELECT $1::bigint, name, 'node_ready' FROM passed WHERE state = 'ready' ORDER BY position)"
             " SELECT runtime FROM passed WHERE state = 'ready'",
             {run_id, array_literal(added), node, done[1]}))
      ready.push_back(row.text(0));
  }
  return ready;
}

}  // namespace

// One statement: it completes the nodes still held, each keeping its successful attempt in its
// row (sorted by id, which its nested loop keeps; two reports never share a node anyway, as a node
// has one claim at a time), follows their edges (adagio.downstream_nodes(), from the graph the
// session keeps in memory), writes the events, and drops the run counters. Locks are taken in the
// order nodes held, nodes downstream, runs (in id order): every reader of the completed nodes
// below aggregates or sorts them, so the completing update has run to its end before the first
// downstream node is locked. With a hand-off, downstream nodes that become ready and that the
// agent runs are claimed for it, up to its limit, in the same update.
void complete_successes(SpiSession& spi, const std::vector<const Report*>& items, const ClaimRequest* handoff,
                        Tally& tally) {
  std::vector<Value> tokens, outputs;
  for (const Report* item : items) tokens.push_back(item->token), outputs.push_back(item->output);
  auto applied = spi.query(
      // The update locks the rows it completes: no statement before it locks them (a lock first
      // wrote a lock record and read each node twice). A token names its node: found by primary
      // key (claim_token.hpp), then the whole token must match. No condition on state: a node
      // holds a token only while running (a CHECK says so), and one would let a generic plan read
      // every running node through nodes_running_lease.
      "WITH completed AS ("
      "   UPDATE adagio.nodes n SET state = 'completed', conclusion = 'success', output = i.output,"
      "     success_token = i.token, claim_token = NULL, lease_expires_at = NULL, finished_at = clock_timestamp()"
      "   FROM (SELECT adagio.claim_token_node(r.token) AS id, r.token, r.output, r.k"
      "         FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS r(token, output, k) ORDER BY 1) AS i"
      "   WHERE n.id = i.id AND n.claim_token = i.token"
      "   RETURNING i.k, i.output, n.run_id, n.graph_id, n.name, n.position, n.attempt_count, n.claimed_by,"
      "     round(extract(epoch FROM n.finished_at - n.claimed_at) * 1000)::bigint AS duration_ms),"
      // The agent a hand-off goes to ($3 NULL: none), seen as a claim would see it (and, as
      // there, only if it is this login's: else the claim that follows refuses it).
      " agent AS ("
      "   UPDATE adagio.agents SET last_seen_at = now(), status = 'active'"
      "   WHERE id = $3::bigint AND db_user = session_user RETURNING runtimes),"
      " downstream AS ("
      "   SELECT c.run_id, e.destination, count(*)::int AS arrived,"
      "          jsonb_object_agg(c.name, coalesce(c.output, '')) AS outputs"
      "   FROM completed c CROSS JOIN LATERAL unnest(adagio.downstream_nodes(c.graph_id, c.name)) AS e(destination)"
      "   GROUP BY c.run_id, e.destination),"
      " locked_downstream AS ("
      "   SELECT d.id, d.runtime, d.priority, d.upstream_pending = s.arrived AS ready, s.arrived, s.outputs"
      "   FROM downstream s JOIN adagio.nodes d"
      "     ON d.run_id = s.run_id AND d.name = s.destination AND d.state = 'waiting'"
      "   ORDER BY d.id FOR UPDATE OF d),"
      // A node is handed over only if no ready node the agent runs has a higher priority: the
      // queue's first, found as a claim would find it (an empty queue: no bound).
      // (A CASE, not an AND: without an agent its runtimes are NULL, and AND would go on to the
      // subquery, which would then walk every ready node.)
      " eligible AS ("
      "   SELECT l.*, CASE WHEN l.ready AND l.runtime = ANY ((SELECT a.runtimes FROM agent a)::text[])"
      "     THEN l.priority >= coalesce((SELECT q.priority FROM adagio.nodes q WHERE q.state = 'ready'"
      "       AND " ADAGIO_WORKER_RUNTIME("q") " AND q.runtime = ANY ((SELECT a.runtimes FROM agent a)::text[])"
      "       ORDER BY q.priority DESC, q.ready_at, q.id LIMIT 1), l.priority) ELSE false END"
      "     AS runnable FROM locked_downstream l),"
      " handing AS ("
      "   SELECT e.*, e.runnable AND row_number() OVER (PARTITION BY e.runnable ORDER BY e.priority DESC, e.id) <= $4::int AS handed"
      "   FROM eligible e),"
      " passed AS ("
      "   UPDATE adagio.nodes d"
      "   SET upstream_pending = d.upstream_pending - l.arrived, inputs = d.inputs || l.outputs,"
      "       state = CASE WHEN l.handed THEN 'running' WHEN l.ready THEN 'ready' ELSE d.state END,"
      "       ready_at = CASE WHEN l.ready THEN clock_timestamp() ELSE d.ready_at END,"
      "       claim_token = CASE WHEN l.handed THEN adagio.new_claim_token(d.id) END,"
      "       claimed_by = CASE WHEN l.handed THEN $3::bigint ELSE d.claimed_by END,"
      "       claimed_at = CASE WHEN l.handed THEN clock_timestamp() ELSE d.claimed_at END,"
      "       lease_expires_at = CASE WHEN l.handed THEN clock_timestamp()"
      "         + coalesce(make_interval(secs => (d.spec ->> 'lease_seconds')::float8), $5::interval) END,"
      "       attempt_count = d.attempt_count + CASE WHEN l.handed THEN 1 ELSE 0 END"
      "   FROM handing l WHERE d.id = l.id AND d.state = 'waiting'"
      "   RETURNING d.id, d.run_id, d.name, d.runtime, d.state, d.position, d.spec, d.inputs, d.attempt_count,"
      "     d.claim_token, d.lease_expires_at),"
      // The graphs the completed nodes' rows were written with: a run patched since (its row,
      // locked below, has a newer graph) needs the edges the patches added followed too.
      " finished AS (SELECT run_id, count(*)::int AS n, min(graph_id) AS low_graph, max(graph_id) AS high_graph"
      "   FROM completed GROUP BY run_id),"
      // Each locked run carries its count, so the update joins one list on the primary key (a
      // join of two lists here was planned as a nested loop: quadratic in the batch). And its
      // inputs, for the claim documents of the nodes handed over (each in the run of a node
      // completed here): read from runs once per run, not once per document.
      " locked_runs AS ("
      "   SELECT r.id, f.n, r.inputs, r.graph_id, f.low_graph, f.high_graph FROM finished f JOIN adagio.runs r ON r.id = f.run_id"
      "   ORDER BY r.id FOR UPDATE OF r),"
      " counted AS ("
      "   UPDATE adagio.runs r SET nodes_remaining = r.nodes_remaining - l.n,"
      "     status = CASE WHEN r.nodes_remaining = l.n AND r.status <> 'cancelled' THEN 'completed' ELSE r.status END,"
      "     conclusion = CASE WHEN r.nodes_remaining = l.n AND r.status <> 'cancelled' THEN"
      "       CASE WHEN r.nodes_failed = 0 THEN 'success' ELSE 'failed' END::adagio.run_conclusion ELSE r.conclusion END,"
      "     finished_at = CASE WHEN r.nodes_remaining = l.n THEN now() ELSE r.finished_at END"
      "   FROM locked_runs l WHERE r.id = l.id"
      "   RETURNING r.id, r.status, r.conclusion, r.concurrency_key IS NOT NULL AS keyed),"
      // One insertion for every event, sorted, so each run's timeline reads: the attempts, the
      // nodes they made ready (and, handed off, claimed), the run's completion; each group in the
      // run's topological order (positions are unique within a run, so names are never compared).
      " logged AS ("
      "   INSERT INTO adagio.events (run_id, node, kind, agent_id, attempt, detail)"
      "   SELECT e.run_id, e.node, e.kind, e.agent_id, e.attempt, e.detail FROM ("
      "     SELECT 1 AS step, run_id, name AS node, 'attempt_finished'::adagio.event_kind AS kind, claimed_by AS agent_id,"
      "            attempt_count AS attempt, position,"
      "            jsonb_build_object('conclusion', 'success', 'duration_ms', duration_ms) AS detail"
      "     FROM completed"
      "     UNION ALL"
      // A handed-over node was never claimable by anyone else: it logs its claim, not a node_ready.
      "     SELECT 2, run_id, name, 'node_ready', NULL, NULL, position, NULL FROM passed WHERE state = 'ready'"
      "     UNION ALL"
      "     SELECT 3, run_id, name, 'node_claimed', $3::bigint, attempt_count, position,"
      "            jsonb_build_object('lease_expires_at', lease_expires_at, 'handed_over', true)"
      "     FROM passed WHERE state = 'running'"
      "     UNION ALL"
      "     SELECT 4, id, NULL, 'run_completed', NULL, NULL, 0, jsonb_build_object('conclusion', conclusion)"
      "     FROM counted WHERE status = 'completed') e"
      "   ORDER BY e.step, e.run_id, e.position)"
      " SELECT 'ready', runtime, NULL::bigint FROM passed WHERE state = 'ready'"
      " UNION ALL SELECT status::text, id::text, NULL FROM counted"
      " UNION ALL SELECT 'keyed_finished', id::text, NULL FROM counted WHERE status = 'completed' AND keyed"
      " UNION ALL SELECT 'handed', json_agg(" ADAGIO_CLAIM_DOCUMENT " ORDER BY c.id)::text, count(*)"
      "   FROM passed c JOIN locked_runs r ON r.id = c.run_id WHERE c.state = 'running' HAVING count(*) > 0"
      " UNION ALL SELECT 'succeeded', NULL, count(*) FROM completed"
      // Runs patched after some of these nodes' rows were written (the locked run row is the
      // newest, with the newest graph): the edges the patches added are followed next.
      " UNION ALL SELECT 'patched', id::text, graph_id FROM locked_runs"
      "   WHERE low_graph <> graph_id OR high_graph <> graph_id"
      // The reports whose claim was no longer held, by their number (k).
      " UNION ALL SELECT 'not_held', k::text, NULL FROM generate_series(1, cardinality($1::uuid[])) AS k"
      "   WHERE k NOT IN (SELECT c.k FROM completed c)",
      {array_literal(tokens), array_literal(outputs), handoff ? Value(std::to_string(handoff->agent)) : Value(),
       std::to_string(handoff ? handoff->max_nodes : 0), handoff ? Value(handoff->lease) : Value()});

  std::set<std::string> ready_runtimes;
  std::vector<std::int64_t> touched, finished;
  std::vector<Value> keyed_finished;  // runs whose concurrency key the next run in line may take
  for (const Row& row : applied) {
    const std::string kind = row.text(0);
    if (kind == "ready") {
      ready_runtimes.insert(row.text(1));
    } else if (kind == "handed") {
      tally.handed = Claims{row.text(1), row.integer(2)};
    } else if (kind == "succeeded") {
      tally.succeeded += row.integer(2);
    } else if (kind == "keyed_finished") {
      keyed_finished.push_back(row.text(1));
    } else if (kind == "patched") {
      for (const std::string& runtime : pass_to_patched_nodes(spi, row.text(1), row.integer(2), tokens))
        ready_runtimes.insert(runtime);
    } else if (kind == "not_held") {
      tally.not_held.push_back(items.at(static_cast<std::size_t>(row.integer(1)) - 1)->token);
    } else {
      touched.push_back(row.integer(1));
      if (kind == "completed") finished.push_back(row.integer(1));
    }
  }
  if (!keyed_finished.empty())
    spi.query("SELECT adagio.release_concurrency_keys($1::bigint[])", {array_literal(keyed_finished)});
  notify_runs_finished(finished);
  notify_events(touched);
  for (const std::string& runtime : ready_runtimes) notify_ready(runtime);
}

}  // namespace adagio::pg
