// Reporting many attempts in one call and one transaction. A worker that runs many small functions
// spends most of its time on round trips and commits if it reports them one by one; here the
// successes (the common case) are applied set-based in one statement whatever their number,
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
#include "downstream.hpp"
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

// Successes, set-based, in one statement whatever their number. It completes the nodes still
// held, each keeping its successful attempt in its row (sorted by id, which its nested loop
// keeps; two reports never share a node anyway, as a node has one claim at a time), follows their
// edges (adagio.downstream_nodes(), from the graph the session keeps in memory), writes the
// events, and drops the run counters. Locks are taken in the order nodes held, nodes downstream,
// runs (in id order): every reader of the completed nodes below aggregates or sorts them, so the
// completing update has run to its end before the first downstream node is locked. With a
// hand-off, downstream nodes that become ready and that the agent runs are claimed for it, up to
// its limit, in the same update.
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
      // The agent a hand-off goes to ($3 NULL: none), seen as a claim would see it.
      " agent AS ("
      "   UPDATE adagio.agents SET last_seen_at = now(), status = 'active'"
      "   WHERE id = $3::bigint RETURNING runtimes),"
      " downstream AS ("
      "   SELECT c.run_id, e.destination, count(*)::int AS arrived,"
      "          jsonb_object_agg(c.name, coalesce(c.output, '')) AS outputs"
      "   FROM completed c CROSS JOIN LATERAL unnest(adagio.downstream_nodes(c.graph_id, c.name)) AS e(destination)"
      "   GROUP BY c.run_id, e.destination),"
      ADAGIO_PASS_DOWNSTREAM ","
      " finished AS (SELECT run_id, count(*)::int AS n FROM completed GROUP BY run_id),"
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
      " UNION ALL SELECT 'handed', json_agg(" ADAGIO_CLAIM_DOCUMENT " ORDER BY c.id)::text, count(*)"
      "   FROM passed c JOIN locked_runs r ON r.id = c.run_id WHERE c.state = 'running' HAVING count(*) > 0"
      " UNION ALL SELECT 'succeeded', NULL, count(*) FROM completed"
      // The reports whose claim was no longer held, by their number (k).
      " UNION ALL SELECT 'not_held', k::text, NULL FROM generate_series(1, cardinality($1::uuid[])) AS k"
      "   WHERE k NOT IN (SELECT c.k FROM completed c)",
      {array_literal(tokens), array_literal(outputs), handoff ? Value(std::to_string(handoff->agent)) : Value(),
       std::to_string(handoff ? handoff->max_nodes : 0), handoff ? Value(handoff->lease) : Value()});

  std::set<std::string> ready_runtimes;
  std::vector<std::int64_t> touched, finished;
  for (const Row& row : applied) {
    const std::string kind = row.text(0);
    if (kind == "ready") {
      ready_runtimes.insert(row.text(1));
    } else if (kind == "handed") {
      tally.handed = Claims{row.text(1), row.integer(2)};
    } else if (kind == "succeeded") {
      tally.succeeded += row.integer(2);
    } else if (kind == "not_held") {
      tally.not_held.push_back(items.at(static_cast<std::size_t>(row.integer(1)) - 1)->token);
    } else {
      touched.push_back(row.integer(1));
      if (kind == "completed") finished.push_back(row.integer(1));
    }
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
