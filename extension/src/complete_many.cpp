// Reporting many attempts in one call and one transaction. A worker that runs many small functions
// spends most of its time on round trips and commits if it reports them one by one; here the
// successes (the common case) are applied set-based in two statements whatever their number,
// and the rest go through the same record_attempt() as complete(). Same fencing: only claims still
// held count; a claim no longer held is returned as such instead of failing the whole batch.
//
// complete_and_claim() is the same report followed by a claim for the reporting agent's free
// slots. The nodes its report makes ready that the agent can run are handed to it in the report's
// own statement (as Temporal hands a worker the activities its workflow task scheduled): each goes
// from waiting to running in one update, without a trip through the queue, and a chain's next
// node is already claimed when the call returns. Older ready nodes fill the slots left.
#include "args.hpp"
#include "attempts.hpp"
#include "claims.hpp"
#include "graph_store.hpp"
#include "notify.hpp"
#include "pg_guard.hpp"
#include "spi.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace adagio::pg {
namespace {

struct Report {
  std::string token;
  Conclusion conclusion;
  Value output;
};

struct Tally {
  long long succeeded = 0, retrying = 0, failed = 0;
  std::vector<std::string> not_held;
  Claims handed;  // nodes the reports made ready, claimed for the reporting agent
};

// Successes, set-based, in two statements whatever their number: one completes the nodes still
// held, each keeping its successful attempt in its row (sorted by id, which its nested loop keeps;
// two reports never share a node anyway, as a node has one claim at a time); the other applies
// the rest: events are written, outputs flow downstream (the graph, cached, says where) and run
// counters drop. Locks are taken in the order nodes held, nodes downstream, runs (in id order).
// With a hand-off, downstream nodes that become ready and that the agent runs are claimed for it,
// up to its limit, in the same update.
void complete_successes(SpiSession& spi, const std::vector<const Report*>& items, const ClaimRequest* handoff,
                        Tally& tally) {
  std::vector<Value> tokens, outputs;
  for (const Report* item : items) tokens.push_back(item->token), outputs.push_back(item->output);
  // The update locks the rows it completes: no statement before it locks them (a lock first wrote
  // a lock record and read each node twice). A token names its node: found by primary key
  // (claim_token.hpp), then the whole token must match. No condition on state: a node holds a
  // token only while running (a CHECK says so), and one would let a generic plan read every
  // running node through nodes_running_lease.
  auto completed = spi.query(
      "UPDATE adagio.nodes n SET state = 'completed', conclusion = 'success', output = i.output,"
      "   success_token = i.token, claim_token = NULL, lease_expires_at = NULL, finished_at = clock_timestamp()"
      " FROM (SELECT adagio.claim_token_node(r.token) AS id, r.token, r.output, r.k"
      "       FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS r(token, output, k) ORDER BY 1) AS i"
      " WHERE n.id = i.id AND n.claim_token = i.token"
      // i.k: which report (1-based), so neither the token nor the output comes back.
      " RETURNING i.k, n.run_id::text, n.graph_id, n.name, n.position::text, n.attempt_count::text,"
      "   n.claimed_by::text, round(extract(epoch FROM n.finished_at - n.claimed_at) * 1000)::bigint::text",
      {array_literal(tokens), array_literal(outputs)});

  std::vector<bool> held(items.size());
  // The completed nodes' columns, aligned, for their events and run counters; and one element
  // per edge leaving a completed node.
  std::vector<Value> runs, names, positions, attempts, agents, durations;
  std::vector<Value> edge_runs, edge_sources, edge_destinations, edge_outputs;
  for (const Row& row : completed) {
    const std::size_t k = static_cast<std::size_t>(row.integer(0)) - 1;
    held.at(k) = true;
    runs.push_back(row[1]), names.push_back(row[3]), positions.push_back(row[4]), attempts.push_back(row[5]);
    agents.push_back(row[6]), durations.push_back(row[7]);
    for (const std::string& destination : stored_graph(spi, row.integer(2)).downstream(row.text(3))) {
      edge_runs.push_back(row[1]), edge_sources.push_back(row[3]), edge_destinations.push_back(destination);
      edge_outputs.push_back(items[k]->output);
    }
  }
  for (std::size_t k = 0; k < items.size(); ++k)
    if (!held[k]) tally.not_held.push_back(items[k]->token);
  if (completed.empty()) return;
  tally.succeeded += static_cast<long long>(completed.size());

  auto applied = spi.query(
      // The nodes the statement before completed.
      "WITH done AS ("
      "   SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::int[], $5::bigint[], $6::bigint[])"
      "     AS d(run_id, name, position, attempt_count, claimed_by, duration_ms)),"
      // The agent a hand-off goes to ($11 NULL: none), seen as a claim would see it.
      " agent AS ("
      "   UPDATE adagio.agents SET last_seen_at = now(), status = 'active'"
      "   WHERE id = $11::bigint RETURNING runtimes),"
      " downstream AS ("
      "   SELECT e.run_id, e.destination, count(*)::int AS arrived,"
      "          jsonb_object_agg(e.source, coalesce(e.output, '')) AS outputs"
      "   FROM unnest($7::bigint[], $8::text[], $9::text[], $10::text[]) AS e(run_id, source, destination, output)"
      "   GROUP BY e.run_id, e.destination),"
      " locked_downstream AS ("
      "   SELECT d.id, d.runtime, d.upstream_pending = s.arrived AS ready, s.arrived, s.outputs"
      "   FROM downstream s JOIN adagio.nodes d"
      "     ON d.run_id = s.run_id AND d.name = s.destination AND d.state = 'waiting'"
      "   ORDER BY d.id FOR UPDATE OF d),"
      " eligible AS ("
      "   SELECT l.*, coalesce(l.ready AND l.runtime = ANY ((SELECT a.runtimes FROM agent a)::text[]), false)"
      "     AS runnable FROM locked_downstream l),"
      " handing AS ("
      "   SELECT e.*, e.runnable AND row_number() OVER (PARTITION BY e.runnable ORDER BY e.id) <= $12::int AS handed"
      "   FROM eligible e),"
      " passed AS ("
      "   UPDATE adagio.nodes d"
      "   SET upstream_pending = d.upstream_pending - l.arrived, inputs = d.inputs || l.outputs,"
      "       state = CASE WHEN l.handed THEN 'running' WHEN l.ready THEN 'ready' ELSE d.state END,"
      "       ready_at = CASE WHEN l.ready THEN clock_timestamp() ELSE d.ready_at END,"
      "       claim_token = CASE WHEN l.handed THEN adagio.new_claim_token(d.id) END,"
      "       claimed_by = CASE WHEN l.handed THEN $11::bigint ELSE d.claimed_by END,"
      "       claimed_at = CASE WHEN l.handed THEN clock_timestamp() ELSE d.claimed_at END,"
      "       lease_expires_at = CASE WHEN l.handed THEN clock_timestamp()"
      "         + coalesce(make_interval(secs => (d.spec ->> 'lease_seconds')::float8), $13::interval) END,"
      "       attempt_count = d.attempt_count + CASE WHEN l.handed THEN 1 ELSE 0 END"
      "   FROM handing l WHERE d.id = l.id AND d.state = 'waiting'"
      "   RETURNING d.id, d.run_id, d.name, d.runtime, d.state, d.position, d.spec, d.inputs, d.attempt_count,"
      "     d.claim_token, d.lease_expires_at),"
      " finished AS (SELECT run_id, count(*)::int AS n FROM done GROUP BY run_id),"
      // Each locked run carries its count, so the update joins one list on the primary key (a
      // join of two lists here was planned as a nested loop: quadratic in the batch). And its
      // inputs, for the claim documents of the nodes handed over (each in the run of a node
      // completed here): read from runs once per run, not once per document.
      " locked_runs AS ("
      "   SELECT r.id, f.n, r.inputs FROM finished f JOIN adagio.runs r ON r.id = f.run_id ORDER BY r.id FOR UPDATE OF r),"
      " counted AS ("
      "   UPDATE adagio.runs r SET nodes_remaining = r.nodes_remaining - l.n,"
      "     status = CASE WHEN r.nodes_remaining = l.n AND r.status <> 'cancelled' THEN 'completed' ELSE r.status END,"
      "     conclusion = CASE WHEN r.nodes_remaining = l.n AND r.status <> 'cancelled' THEN"
      "       CASE WHEN r.nodes_failed = 0 THEN 'success' ELSE 'failed' END::adagio.run_conclusion ELSE r.conclusion END,"
      "     finished_at = CASE WHEN r.nodes_remaining = l.n THEN now() ELSE r.finished_at END"
      "   FROM locked_runs l WHERE r.id = l.id"
      "   RETURNING r.id, r.status, r.conclusion),"
      // One insertion for every event, sorted, so each run's timeline reads: the attempts, the
      // nodes they made ready (and, handed off, claimed), the run's completion; each group in the
      // run's topological order (positions are unique within a run, so names are never compared).
      " logged AS ("
      "   INSERT INTO adagio.events (run_id, node, kind, agent_id, attempt, detail)"
      "   SELECT e.run_id, e.node, e.kind, e.agent_id, e.attempt, e.detail FROM ("
      "     SELECT 1 AS step, run_id, name AS node, 'attempt_finished'::adagio.event_kind AS kind, claimed_by AS agent_id,"
      "            attempt_count AS attempt, position,"
      "            jsonb_build_object('conclusion', 'success', 'duration_ms', duration_ms) AS detail"
      "     FROM done"
      "     UNION ALL"
      // A handed-over node was never claimable by anyone else: it logs its claim, not a node_ready.
      "     SELECT 2, run_id, name, 'node_ready', NULL, NULL, position, NULL FROM passed WHERE state = 'ready'"
      "     UNION ALL"
      "     SELECT 3, run_id, name, 'node_claimed', $11::bigint, attempt_count, position,"
      "            jsonb_build_object('lease_expires_at', lease_expires_at, 'handed_over', true)"
      "     FROM passed WHERE state = 'running'"
      "     UNION ALL"
      "     SELECT 4, id, NULL, 'run_completed', NULL, NULL, 0, jsonb_build_object('conclusion', conclusion)"
      "     FROM counted WHERE status = 'completed') e"
      "   ORDER BY e.step, e.run_id, e.position)"
      " SELECT 'ready', runtime, NULL::bigint FROM passed WHERE state = 'ready'"
      " UNION ALL SELECT status::text, id::text, NULL FROM counted"
      " UNION ALL SELECT 'handed', json_agg(" ADAGIO_CLAIM_DOCUMENT " ORDER BY c.id)::text, count(*)"
      "   FROM passed c JOIN locked_runs r ON r.id = c.run_id WHERE c.state = 'running' HAVING count(*) > 0",
      {array_literal(runs), array_literal(names), array_literal(positions), array_literal(attempts),
       array_literal(agents), array_literal(durations), array_literal(edge_runs), array_literal(edge_sources),
       array_literal(edge_destinations), array_literal(edge_outputs),
       handoff ? Value(std::to_string(handoff->agent)) : Value(), std::to_string(handoff ? handoff->max_nodes : 0),
       handoff ? Value(handoff->lease) : Value()});

  std::set<std::string> ready_runtimes;
  std::vector<std::int64_t> touched, finished;
  for (const Row& row : applied) {
    if (row.text(0) == "ready") {
      ready_runtimes.insert(row.text(1));
      continue;
    }
    if (row.text(0) == "handed") {
      tally.handed = Claims{row.text(1), row.integer(2)};
      continue;
    }
    touched.push_back(row.integer(1));
    if (row.text(0) == "completed") finished.push_back(row.integer(1));
  }
  notify_runs_finished(finished);
  notify_events(touched);
  for (const std::string& runtime : ready_runtimes) notify_ready(runtime);
}

// Anything but success: one by one, exactly as complete() does it (retry rules, never_reached).
void complete_one(SpiSession& spi, const Report& item, Tally& tally) {
  const std::optional<HeldNode> held = lock_held_node(spi, item.token);
  if (!held) {
    tally.not_held.push_back(item.token);
    return;
  }
  const AttemptOutcome result = record_attempt(spi, *held, {item.conclusion, item.output, std::nullopt});
  if (result.outcome == "succeeded") ++tally.succeeded;
  else if (result.outcome == "retrying") ++tally.retrying;
  else ++tally.failed;
}

// The reports of one call, read from the arguments (claim tokens, conclusions, outputs at
// `first` and the next two) and checked before anything is applied; a NULL outputs array means no
// output for any of them.
std::vector<Report> read_reports(FunctionCallInfo fcinfo, int first) {
  const auto tokens = arg_array_elements(fcinfo, first);
  const auto conclusions = arg_array_elements(fcinfo, first + 1);
  const auto outputs = arg_array_elements(fcinfo, first + 2);
  if (!tokens || !conclusions)
    throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "claim_tokens and conclusions must not be NULL");
  const std::size_t count = std::max({tokens->size(), conclusions->size(), outputs ? outputs->size() : 0});
  if (count > 10000)
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "at most 10000 reports per call, got " + std::to_string(count));
  if (tokens->size() != conclusions->size() || (outputs && outputs->size() != tokens->size()))
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "claim_tokens, conclusions and outputs differ in length");
  std::vector<Report> items;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < count; ++i) {
    const Value& token = (*tokens)[i];
    const Value& conclusion_name = (*conclusions)[i];
    if (!token) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "a claim token must not be NULL");
    auto conclusion = conclusion_name ? adagio::parse_conclusion(*conclusion_name) : std::nullopt;
    if (!conclusion)
      throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "unknown conclusion \"" + conclusion_name.value_or("NULL") + "\"",
                     {}, "a conclusion is one of success, fail, error");
    if (!seen.insert(*token).second)
      throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "claim " + *token + " is reported twice in one call");
    items.push_back(Report{*token, *conclusion, outputs ? (*outputs)[i] : Value()});
  }
  return items;
}

// Successes first, set-based (with the hand-off, if any); then the rest one by one.
Tally apply_reports(SpiSession& spi, const std::vector<Report>& items, const ClaimRequest* handoff) {
  Tally tally;
  std::vector<const Report*> successes;
  for (const Report& item : items)
    if (item.conclusion == adagio::Conclusion::success) successes.push_back(&item);
  if (!successes.empty()) complete_successes(spi, successes, handoff, tally);
  for (const Report& item : items)
    if (item.conclusion != adagio::Conclusion::success) complete_one(spi, item, tally);
  return tally;
}

std::string summary_json(const Tally& tally) {
  return nlohmann::json{{"succeeded", tally.succeeded},
                        {"retrying", tally.retrying},
                        {"failed", tally.failed},
                        {"not_held", tally.not_held}}
      .dump();
}

}  // namespace
}  // namespace adagio::pg

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_complete_many);
PG_FUNCTION_INFO_V1(adagio_complete_and_claim);

// adagio.complete_many(claim_tokens uuid[], conclusions text[], outputs text[]) -> jsonb summary.
Datum adagio_complete_many(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    const std::vector<Report> reports = read_reports(fcinfo, 0);
    SpiSession spi;
    const Tally tally = apply_reports(spi, reports, nullptr);
    spi.finish();
    return jsonb_result(summary_json(tally));
  });
}

// adagio.complete_and_claim(agent_id bigint, max_nodes int, claim_tokens uuid[], conclusions text[],
// outputs text[], lease interval) -> json: complete_many()'s summary plus "claims", as claim()'s.
Datum adagio_complete_and_claim(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    // 0 slots allowed: the reports of a worker whose slots are all busy.
    const ClaimRequest handoff = read_claim_request(fcinfo, 5, 0);
    const std::vector<Report> reports = read_reports(fcinfo, 2);

    SpiSession spi;
    const Tally tally = apply_reports(spi, reports, &handoff);
    // The queue fills the slots the hand-off left. Run even for none left when nothing was handed:
    // it sees the agent, and refuses one that is not registered (the reports roll back with it).
    // After a hand-off (which saw the agent), only if the queue holds a node for it: a claim
    // statement that finds nothing made each hop of a chain on a worker of a few slots about a
    // tenth slower.
    Claims claims = tally.handed;
    if (claims.count == 0 || (claims.count < handoff.max_nodes && ready_nodes_for(spi, handoff.agent)))
      claims = concatenate(claims, claim_ready_nodes(spi, handoff.agent,
                                                     handoff.max_nodes - static_cast<int>(claims.count), handoff.lease));
    spi.finish();
    std::string result = summary_json(tally);
    result.pop_back();  // the summary's closing brace: the claims go in as they were built
    return json_result(result + ", \"claims\": " + claims.json + "}");
  });
}

}  // extern "C"
