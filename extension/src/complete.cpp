// Reporting an attempt. The claim token is the fence: only the current holder of a running node
// can report, and a stale token changes nothing. The attempt is recorded, then the core's retry
// rules decide: hand the output downstream, make the node ready again, or finish it as failed and
// mark everything downstream never reached. The run's counters decide when it is complete.
#include "args.hpp"
#include "notify.hpp"
#include "pg_guard.hpp"
#include "spi.hpp"

#include "adagio/conclusion.hpp"
#include "adagio/graph_json.hpp"
#include "adagio/retry.hpp"

#include <nlohmann/json.hpp>

#include <set>
#include <string>

namespace adagio::pg {
namespace {

NodeSpec node_spec_from(const std::string& spec_json) {
  nlohmann::json graph = {{"nodes", nlohmann::json::array({nlohmann::json::parse(spec_json)})}};
  return graph_from_json(graph).nodes.at(0);
}

[[noreturn]] void refuse_stale_claim(SpiSession& spi, const std::string& token) {
  auto reported = spi.query(
      "SELECT n.name, n.run_id::text, t.attempt::text FROM adagio.attempts t JOIN adagio.nodes n ON n.id = t.node_id"
      " WHERE t.claim_token = $1::uuid",
      {token});
  if (!reported.empty()) {
    throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "claim " + token + " is no longer held",
                   "attempt " + reported[0].text(2) + " of node \"" + reported[0].text(0) + "\" in run " +
                       reported[0].text(1) + " was already reported with this claim");
  }
  throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "claim " + token + " is no longer held",
                 "the claim does not exist, its lease lapsed and the node was handed to another agent, "
                 "or the run was cancelled",
                 "drop this result: a worker must not report a claim it lost");
}

// Marks every node downstream of `node` never reached; returns how many.
long long mark_never_reached(SpiSession& spi, const std::string& run_id, const std::string& node) {
  auto rows = spi.query(
      "WITH RECURSIVE downstream(name) AS ("
      "   SELECT destination FROM adagio.edges WHERE run_id = $1::bigint AND source = $2"
      "   UNION SELECT e.destination FROM adagio.edges e JOIN downstream d"
      "         ON e.run_id = $1::bigint AND e.source = d.name)"
      " UPDATE adagio.nodes SET state = 'completed', conclusion = 'never_reached', finished_at = now()"
      " WHERE run_id = $1::bigint AND name IN (SELECT name FROM downstream) AND state = 'waiting'"
      " RETURNING name",
      {run_id, node});
  return static_cast<long long>(rows.size());
}

// Hands the output to every downstream node; returns the runtimes of nodes that became ready.
std::set<std::string> pass_output_downstream(SpiSession& spi, const std::string& run_id, const std::string& node,
                                             const std::optional<std::string>& output) {
  auto rows = spi.query(
      "UPDATE adagio.nodes d"
      " SET upstream_pending = d.upstream_pending - 1,"
      "     inputs = d.inputs || jsonb_build_object($2::text, coalesce($3, '')),"
      "     state = CASE WHEN d.upstream_pending = 1 THEN 'ready' ELSE d.state END,"
      "     ready_at = CASE WHEN d.upstream_pending = 1 THEN clock_timestamp() ELSE d.ready_at END"
      " FROM adagio.edges e"
      " WHERE e.run_id = $1::bigint AND e.source = $2 AND d.run_id = $1::bigint AND d.name = e.destination"
      " RETURNING d.runtime, d.state",
      {run_id, node, output});
  std::set<std::string> ready;
  for (const Row& row : rows)
    if (row.text(1) == "ready") ready.insert(row.text(0));
  return ready;
}

}  // namespace
}  // namespace adagio::pg

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_complete);

// adagio.complete(claim_token uuid, conclusion text, output text) -> jsonb summary.
Datum adagio_complete(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    auto token = arg_as_text(fcinfo, 0);
    if (!token) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "claim_token must not be NULL");
    auto conclusion_text = arg_as_text(fcinfo, 1);
    auto conclusion = adagio::parse_conclusion(conclusion_text.value_or(""));
    if (!conclusion)
      throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                     "unknown conclusion \"" + conclusion_text.value_or("NULL") + "\"",
                     {}, "a conclusion is one of success, fail, error");
    auto output = arg_as_text(fcinfo, 2);

    SpiSession spi;
    auto held = spi.query(
        "SELECT id, run_id, name, spec::text, attempt_count FROM adagio.nodes"
        " WHERE claim_token = $1::uuid AND state = 'running' FOR UPDATE",
        {*token});
    if (held.empty()) refuse_stale_claim(spi, *token);
    const std::string node_id = held[0].text(0);
    const std::string run_id = held[0].text(1);
    const std::string name = held[0].text(2);
    const adagio::NodeSpec spec = node_spec_from(held[0].text(3));
    const std::string conclusion_name = adagio::to_string(*conclusion);

    auto recorded = spi.query(
        "WITH node AS (SELECT * FROM adagio.nodes WHERE id = $1::bigint)"
        " INSERT INTO adagio.attempts (node_id, run_id, attempt, conclusion, output, agent_id, claim_token, started_at)"
        " SELECT id, run_id, attempt_count, $2, $3, claimed_by, claim_token, claimed_at FROM node"
        " RETURNING (SELECT count(*) FROM adagio.attempts WHERE node_id = $1::bigint AND conclusion = $2) + 1",
        {node_id, conclusion_name, output});
    const int same_conclusion = static_cast<int>(recorded.at(0).integer(0));

    const adagio::NextStep step = adagio::next_step(spec, *conclusion, same_conclusion);
    std::set<std::string> ready_runtimes;
    long long finished = 0;  // nodes of this run that reached "completed" now
    long long not_succeeded = 0;
    const char* outcome = "";
    switch (step) {
      case adagio::NextStep::succeeded:
        spi.query(
            "UPDATE adagio.nodes SET state = 'completed', conclusion = 'success', output = $2,"
            " claim_token = NULL, lease_expires_at = NULL, finished_at = clock_timestamp() WHERE id = $1::bigint",
            {node_id, output});
        ready_runtimes = pass_output_downstream(spi, run_id, name, output);
        finished = 1;
        outcome = "succeeded";
        break;
      case adagio::NextStep::retry:
        spi.query(
            "UPDATE adagio.nodes SET state = 'ready', ready_at = clock_timestamp(), output = $2,"
            " claim_token = NULL, lease_expires_at = NULL WHERE id = $1::bigint",
            {node_id, output});
        ready_runtimes.insert(spec.runtime);
        outcome = "retrying";
        break;
      case adagio::NextStep::failed:
        spi.query(
            "UPDATE adagio.nodes SET state = 'completed', conclusion = $2, output = $3,"
            " claim_token = NULL, lease_expires_at = NULL, finished_at = clock_timestamp() WHERE id = $1::bigint",
            {node_id, conclusion_name, output});
        finished = 1 + mark_never_reached(spi, run_id, name);
        not_succeeded = finished;
        outcome = "failed";
        break;
    }

    // Last, so the run row (shared by every node of the run) stays locked as briefly as possible.
    std::string run_status = "running";
    std::optional<std::string> run_conclusion;
    if (finished > 0) {
      auto run = spi.query(
          "UPDATE adagio.runs SET nodes_remaining = nodes_remaining - $2::int,"
          "   nodes_failed = nodes_failed + $3::int,"
          "   status = CASE WHEN nodes_remaining = $2::int AND status <> 'cancelled' THEN 'completed' ELSE status END,"
          "   conclusion = CASE WHEN nodes_remaining = $2::int AND status <> 'cancelled' THEN"
          "       CASE WHEN nodes_failed + $3::int = 0 THEN 'success' ELSE 'failed' END ELSE conclusion END,"
          "   finished_at = CASE WHEN nodes_remaining = $2::int THEN now() ELSE finished_at END"
          " WHERE id = $1::bigint RETURNING status, conclusion",
          {run_id, std::to_string(finished), std::to_string(not_succeeded)});
      run_status = run.at(0).text(0);
      run_conclusion = run.at(0)[1];
      if (run_status == "completed") notify_run_finished(std::stoll(run_id));
    }
    for (const std::string& runtime : ready_runtimes) notify_ready(runtime);
    spi.finish();

    nlohmann::json summary = {{"run_id", std::stoll(run_id)},
                              {"node", name},
                              {"conclusion", conclusion_name},
                              {"outcome", outcome},
                              {"run_status", run_status},
                              {"run_conclusion", run_conclusion ? nlohmann::json(*run_conclusion) : nlohmann::json()}};
    return jsonb_result(summary.dump());
  });
}

}  // extern "C"
