#include "attempts.hpp"

#include "graph_store.hpp"
#include "notify.hpp"
#include "pg_guard.hpp"

#include "adagio/graph_json.hpp"
#include "adagio/retry.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>

namespace adagio::pg {
namespace {

// Marks the nodes `names` (downstream of `node`) never reached, those still waiting; returns how
// many.
long long mark_never_reached(SpiSession& spi, const HeldNode& node, const std::vector<std::string>& names) {
  if (names.empty()) return 0;
  auto rows = spi.query(
      "WITH marked AS ("
      "   UPDATE adagio.nodes SET state = 'completed', conclusion = 'never_reached', finished_at = clock_timestamp()"
      "   WHERE run_id = $1::bigint AND name = ANY ((SELECT $3::text[])::text[]) AND state = 'waiting'"
      "   RETURNING name, position)"
      " INSERT INTO adagio.events (run_id, node, kind, detail)"
      " SELECT $1::bigint, name, 'node_never_reached', jsonb_build_object('because', $2::text)"
      " FROM (SELECT name FROM marked ORDER BY position) m RETURNING node",
      {node.run_id, node.name, array_literal(names)});
  return static_cast<long long>(rows.size());
}

}  // namespace

NodeSpec node_spec_from(const std::string& spec_json) {
  nlohmann::json graph = {{"nodes", nlohmann::json::array({nlohmann::json::parse(spec_json)})}};
  return graph_from_json(graph).nodes.at(0);
}

std::optional<HeldNode> lock_held_node(SpiSession& spi, const std::string& token) {
  auto held = spi.query(
      "SELECT id, run_id, name, spec::text, graph_id FROM adagio.nodes"
      // By primary key; a node holds a token only while running (see successes.cpp).
      " WHERE id = adagio.claim_token_node($1::uuid) AND claim_token = $1::uuid FOR UPDATE",
      {token});
  if (held.empty()) return std::nullopt;
  return HeldNode{held[0].text(0), held[0].text(1), held[0].integer(4), held[0].text(2), node_spec_from(held[0].text(3))};
}

void refuse_stale_claim(SpiSession& spi, const std::string& token) {
  auto concluded = spi.query(
      "SELECT n.name, n.run_id::text, t.attempt::text, t.conclusion, t.reason"
      " FROM adagio.attempts t JOIN adagio.nodes n ON n.id = t.node_id"
      " WHERE t.node_id = adagio.claim_token_node($1::uuid) AND t.claim_token = $1::uuid",
      {token});
  if (!concluded.empty()) {
    const Row& a = concluded[0];
    const std::string which = "attempt " + a.text(2) + " of node \"" + a.text(0) + "\" in run " + a.text(1);
    // A success with a reason is one retry_run() ran again; any other reason is the engine's verdict.
    const std::string detail = !a[4]                   ? which + " was already reported (" + a.text(3) + ")"
                               : a.text(3) == "success" ? which + " was already reported (success), then " + a.text(4)
                                                        : which + " was concluded by the engine: " + a.text(4);
    throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "claim " + token + " is no longer held", detail,
                   "drop this result: a worker must not report a claim it no longer holds");
  }
  throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "claim " + token + " is no longer held",
                 "no claim with this token was ever handed out",
                 "drop this result: a worker must not report a claim it no longer holds");
}

AttemptOutcome record_attempt(SpiSession& spi, const HeldNode& node, const AttemptReport& report) {
  if (report.conclusion == Conclusion::success)  // successes.hpp completes those, set-based
    throw std::logic_error("record_attempt() called for a successful attempt");
  const std::string conclusion_name = to_string(report.conclusion);
  // The attempt gets its row in failed_attempts (a successful one stays in its node's row).
  auto recorded = spi.query(
      "WITH node AS (SELECT *, clock_timestamp() AS reported_at FROM adagio.nodes WHERE id = $1::bigint),"
      " attempt AS ("
      "   INSERT INTO adagio.failed_attempts"
      "     (node_id, run_id, attempt, conclusion, output, reason, agent_id, claim_token, ready_at, started_at,"
      "      finished_at)"
      "   SELECT id, run_id, attempt_count, $2::adagio.attempt_conclusion, $3, $4, claimed_by, claim_token, ready_at,"
      "          claimed_at, reported_at FROM node),"
      " logged AS ("
      "   INSERT INTO adagio.events (run_id, node, kind, agent_id, attempt, detail)"
      "   SELECT run_id, $5, CASE WHEN $4 LIKE 'orphaned:%' THEN 'node_orphaned' ELSE 'attempt_finished' END::adagio.event_kind,"
      "          claimed_by, attempt_count, jsonb_strip_nulls(jsonb_build_object('conclusion', $2::text, 'reason', $4::text,"
      "          'duration_ms', round(extract(epoch FROM reported_at - claimed_at) * 1000)))"
      "   FROM node)"
      " SELECT (SELECT count(*) FROM adagio.failed_attempts a, node n"
      "         WHERE a.node_id = $1::bigint AND a.conclusion = $2::adagio.attempt_conclusion AND a.attempt > n.retry_base) + 1",
      {node.node_id, conclusion_name, report.output, report.reason, node.name});
  const int same_conclusion = static_cast<int>(recorded.at(0).integer(0));

  AttemptOutcome result;
  result.run_status = "running";
  if (next_step(node.spec, report.conclusion, same_conclusion) == NextStep::retry) {
    const double delay = retry_delay_seconds(node.spec, report.conclusion, same_conclusion);
    // A retry with a backoff waits in "scheduled" until the sweeper finds it due.
    auto retried = spi.query(
        "WITH retried AS ("
        "   UPDATE adagio.nodes SET state = CASE WHEN $3::float8 > 0 THEN 'scheduled' ELSE 'ready' END::adagio.node_state,"
        "   ready_at = clock_timestamp() + make_interval(secs => $3::float8), output = $2,"
        "   claim_token = NULL, lease_expires_at = NULL WHERE id = $1::bigint"
        "   RETURNING run_id, name, state, ready_at, attempt_count),"
        " logged AS ("
        "   INSERT INTO adagio.events (run_id, node, kind, attempt, detail)"
        "   SELECT run_id, name, 'node_retried', attempt_count,"
        "          jsonb_build_object('after', $4::text, 'ready_at', ready_at) FROM retried)"
        " SELECT state, ready_at FROM retried",
        {node.node_id, report.output, std::to_string(delay), conclusion_name});
    result.outcome = "retrying";
    notify_events({std::stoll(node.run_id)});
    if (retried.at(0).text(0) == "ready") notify_ready(node.spec.runtime);
    else result.retry_at = retried.at(0).text(1);
    return result;
  }

  spi.query(
      "UPDATE adagio.nodes SET state = 'completed', conclusion = $2::adagio.node_conclusion, output = $3,"
      " claim_token = NULL, lease_expires_at = NULL, finished_at = clock_timestamp() WHERE id = $1::bigint",
      {node.node_id, conclusion_name, report.output});
  const std::vector<std::string> below = stored_graph(spi, node.graph_id).descendants(node.name);
  const long long finished = 1 + mark_never_reached(spi, node, below);  // all without success
  result.outcome = "failed";
  // Last, so the run row (shared by every node of the run) stays locked as briefly as possible.
  const auto count_down = [&](long long nodes) {
    return spi.query(
        "UPDATE adagio.runs SET nodes_remaining = nodes_remaining - $2::int, nodes_failed = nodes_failed + $2::int,"
        "   status = CASE WHEN nodes_remaining = $2::int AND status <> 'cancelled' THEN 'completed' ELSE status END,"
        "   conclusion = CASE WHEN nodes_remaining = $2::int AND status <> 'cancelled' THEN 'failed'::adagio.run_conclusion"
        "     ELSE conclusion END,"
        "   finished_at = CASE WHEN nodes_remaining = $2::int THEN now() ELSE finished_at END"
        " WHERE id = $1::bigint RETURNING status, conclusion, concurrency_key IS NOT NULL, graph_id",
        {node.run_id, std::to_string(nodes)});
  };
  auto run = count_down(finished);
  // A patch since this node's row was written may have added nodes below it (patch_run.cpp):
  // they are never reached either. The run's row, locked now, has the newest graph.
  if (run.at(0).integer(3) != node.graph_id) {
    const std::vector<std::string> now_below = stored_graph(spi, run.at(0).integer(3)).descendants(node.name);
    std::vector<std::string> added;
    for (const std::string& name : now_below)
      if (std::find(below.begin(), below.end(), name) == below.end()) added.push_back(name);
    if (const long long more = mark_never_reached(spi, node, added)) run = count_down(more);
  }
  result.run_status = run.at(0).text(0);
  result.run_conclusion = run.at(0)[1];
  if (result.run_status == "completed") {
    spi.query(
        "INSERT INTO adagio.events (run_id, kind, detail)"
        " VALUES ($1::bigint, 'run_completed', jsonb_build_object('conclusion', $2::text))",
        {node.run_id, result.run_conclusion});
    if (run.at(0).text(2) == "t") spi.query("SELECT adagio.release_concurrency_keys(ARRAY[$1::bigint])", {node.run_id});
    notify_runs_finished({std::stoll(node.run_id)});
  }
  notify_events({std::stoll(node.run_id)});
  return result;
}

}  // namespace adagio::pg
