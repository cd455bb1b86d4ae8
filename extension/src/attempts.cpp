#include "attempts.hpp"

#include "downstream.hpp"
#include "graph_store.hpp"
#include "notify.hpp"
#include "pg_guard.hpp"

#include "adagio/graph_json.hpp"
#include "adagio/retry.hpp"

#include <nlohmann/json.hpp>

#include <set>

namespace adagio::pg {
namespace {

// Marks every node downstream of `node` never reached; returns how many.
long long mark_never_reached(SpiSession& spi, const HeldNode& node) {
  const std::vector<std::string> names = stored_graph(spi, node.graph_id).descendants(node.name);
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
      // By primary key; a node holds a token only while running (see complete_many.cpp).
      " WHERE id = adagio.claim_token_node($1::uuid) AND claim_token = $1::uuid FOR UPDATE",
      {token});
  if (held.empty()) return std::nullopt;
  return HeldNode{held[0].text(0), held[0].text(1), held[0].integer(4), held[0].text(2), node_spec_from(held[0].text(3))};
}

AttemptOutcome record_attempt(SpiSession& spi, const HeldNode& node, const AttemptReport& report) {
  const std::string conclusion_name = to_string(report.conclusion);
  // An attempt that did not succeed gets its row in failed_attempts; a successful one stays in the
  // node's row, which the succeeded step below completes.
  auto recorded = spi.query(
      "WITH node AS (SELECT *, clock_timestamp() AS reported_at FROM adagio.nodes WHERE id = $1::bigint),"
      " attempt AS ("
      "   INSERT INTO adagio.failed_attempts"
      "     (node_id, run_id, attempt, conclusion, output, reason, agent_id, claim_token, ready_at, started_at,"
      "      finished_at)"
      "   SELECT id, run_id, attempt_count, $2::adagio.attempt_conclusion, $3, $4, claimed_by, claim_token, ready_at,"
      "          claimed_at, reported_at FROM node WHERE $2::adagio.attempt_conclusion <> 'success'),"
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
  std::set<std::string> ready_runtimes;
  long long finished = 0;       // nodes of this run completed by this attempt
  long long not_succeeded = 0;  // ... of which did not succeed
  switch (next_step(node.spec, report.conclusion, same_conclusion)) {
    case NextStep::succeeded:
      spi.query(
          "UPDATE adagio.nodes SET state = 'completed', conclusion = 'success', output = $2,"
          " success_token = claim_token, claim_token = NULL, lease_expires_at = NULL, finished_at = clock_timestamp()"
          " WHERE id = $1::bigint",
          {node.node_id, report.output});
      ready_runtimes = pass_output_downstream(spi, std::stoll(node.run_id), node.graph_id, node.name, report.output);
      finished = 1;
      result.outcome = "succeeded";
      break;
    case NextStep::retry: {
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
      if (retried.at(0).text(0) == "ready") {
        ready_runtimes.insert(node.spec.runtime);
      } else {
        result.retry_at = retried.at(0).text(1);
      }
      result.outcome = "retrying";
      break;
    }
    case NextStep::failed:
      spi.query(
          "UPDATE adagio.nodes SET state = 'completed', conclusion = $2::adagio.node_conclusion, output = $3,"
          " claim_token = NULL, lease_expires_at = NULL, finished_at = clock_timestamp() WHERE id = $1::bigint",
          {node.node_id, conclusion_name, report.output});
      finished = 1 + mark_never_reached(spi, node);
      not_succeeded = finished;
      result.outcome = "failed";
      break;
  }

  // Last, so the run row (shared by every node of the run) stays locked as briefly as possible.
  result.run_status = "running";
  if (finished > 0) {
    const RunCount run = count_finished(spi, std::stoll(node.run_id), finished, not_succeeded);
    result.run_status = run.status;
    result.run_conclusion = run.conclusion;
  }
  notify_events({std::stoll(node.run_id)});
  for (const std::string& runtime : ready_runtimes) notify_ready(runtime);
  return result;
}

RunCount count_finished(SpiSession& spi, std::int64_t run_id, long long finished, long long not_succeeded) {
  auto run = spi.query(
      "UPDATE adagio.runs SET nodes_remaining = nodes_remaining - $2::int,"
      "   nodes_failed = nodes_failed + $3::int,"
      "   status = CASE WHEN nodes_remaining = $2::int AND status <> 'cancelled' THEN 'completed' ELSE status END,"
      "   conclusion = CASE WHEN nodes_remaining = $2::int AND status <> 'cancelled' THEN"
      "       CASE WHEN nodes_failed + $3::int = 0 THEN 'success' ELSE 'failed' END::adagio.run_conclusion ELSE conclusion END,"
      "   finished_at = CASE WHEN nodes_remaining = $2::int THEN now() ELSE finished_at END"
      " WHERE id = $1::bigint RETURNING status, conclusion",
      {std::to_string(run_id), std::to_string(finished), std::to_string(not_succeeded)});
  const RunCount count{run.at(0).text(0), run.at(0)[1]};
  if (count.status == "completed") {
    spi.query(
        "INSERT INTO adagio.events (run_id, kind, detail)"
        " VALUES ($1::bigint, 'run_completed', jsonb_build_object('conclusion', $2::text))",
        {std::to_string(run_id), count.conclusion});
    notify_runs_finished({run_id});
  }
  return count;
}

}  // namespace adagio::pg
