// Handing out ready nodes. One statement picks up to N ready nodes of the agent's runtimes with
// FOR UPDATE SKIP LOCKED, so concurrent claimers never wait on each other and never get the same
// node; each claim gets a fresh token that fences off reports from anyone but its holder.
#include "args.hpp"
#include "notify.hpp"
#include "pg_guard.hpp"
#include "settings.hpp"
#include "spi.hpp"

#include <algorithm>
#include <set>
#include <string>

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_claim);

// adagio.claim(agent_id bigint, max_nodes int, lease interval) -> jsonb array of claims.
Datum adagio_claim(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    auto agent = arg_int64(fcinfo, 0);
    if (!agent) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "agent_id must not be NULL");
    const int max_nodes = arg_int32(fcinfo, 1).value_or(1);
    if (max_nodes < 1 || max_nodes > 10000)
      throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                     "max_nodes must be between 1 and 10000, got " + std::to_string(max_nodes));
    auto lease = arg_as_text(fcinfo, 2);
    if (!lease) lease = std::to_string(default_lease_seconds) + " seconds";

    SpiSession spi;
    auto claimed = spi.query(
        // The agent is seen (and its runtimes read) in the same statement. The runtimes come from
        // an uncorrelated subquery (evaluated once) rather than a join, so the plan walks
        // nodes_ready in (ready_at, id) order and stops after LIMIT rows instead of sorting every
        // ready node on each claim.
        "WITH agent AS ("
        "   UPDATE adagio.agents SET last_seen_at = now(), status = 'active'"
        "   WHERE id = $1::bigint RETURNING runtimes),"
        " picked AS ("
        "   SELECT n.id FROM adagio.nodes n"
        "   WHERE n.state = 'ready'"
        "     AND n.runtime = ANY ((SELECT a.runtimes FROM agent a)::text[])"
        "   ORDER BY n.ready_at, n.id"
        "   LIMIT $2::int"
        "   FOR UPDATE OF n SKIP LOCKED),"
        " claimed AS ("
        "   UPDATE adagio.nodes n"
        "   SET state = 'running', claim_token = gen_random_uuid(), claimed_by = $1::bigint,"
        "       claimed_at = clock_timestamp(), lease_expires_at = clock_timestamp()"
        "         + coalesce(make_interval(secs => (n.spec ->> 'lease_seconds')::float8), $3::interval),"
        "       attempt_count = n.attempt_count + 1"
        "   WHERE n.id = ANY (ARRAY(SELECT id FROM picked))"  // the primary key, not a hash of all nodes
        "   RETURNING n.id, n.run_id, n.name, n.runtime, n.spec, n.inputs, n.attempt_count, n.claim_token,"
        "     n.lease_expires_at, n.ready_at),"
        " started AS ("
        "   UPDATE adagio.runs r SET status = 'running', started_at = now()"
        "   WHERE r.id = ANY (ARRAY(SELECT run_id FROM claimed)) AND r.status = 'waiting'),"
        " logged AS ("
        "   INSERT INTO adagio.events (run_id, node, kind, agent_id, attempt, detail)"
        "   SELECT run_id, name, 'node_claimed', $1::bigint, attempt_count,"
        "          jsonb_build_object('lease_expires_at', lease_expires_at) FROM claimed)"
        // json, not jsonb: the result is handed out as text, and building jsonb values only to
        // print them again cost more than the rest of the claim. The subqueries run only for the
        // nodes that need them (metadata given, earlier attempts made).
        " SELECT coalesce(json_agg(json_build_object("
        "   'node_id', c.id, 'run_id', c.run_id, 'name', c.name, 'runtime', c.runtime,"
        "   'metadata', CASE WHEN c.spec ? 'metadata' THEN"
        "     coalesce((SELECT jsonb_object_agg(m.key, m.value -> 'values')"
        "               FROM jsonb_each(c.spec -> 'metadata') m), '{}'::jsonb) ELSE '{}'::jsonb END,"
        "   'retry', c.spec -> 'retry', 'inputs', c.inputs, 'run_inputs', r.inputs,"
        "   'attempt', c.attempt_count,"
        "   'attempts', CASE WHEN c.attempt_count > 1 THEN"
        "     coalesce((SELECT json_agg(json_build_object("
        "        'attempt', t.attempt, 'conclusion', t.conclusion, 'output', t.output, 'reason', t.reason,"
        "        'agent_id', t.agent_id, 'started_at', t.started_at, 'finished_at', t.finished_at)"
        "        ORDER BY t.attempt) FROM adagio.attempts t WHERE t.node_id = c.id), '[]'::json)"
        "     ELSE '[]'::json END,"
        "   'claim_token', c.claim_token, 'lease_expires_at', c.lease_expires_at) ORDER BY c.ready_at, c.id),"
        "   '[]'::json)::text,"
        "   string_agg(c.run_id::text, ','),"  // the runs whose timelines grew, to notify
        "   (SELECT count(*) FROM agent)"
        " FROM claimed c JOIN adagio.runs r ON r.id = c.run_id",
        {std::to_string(*agent), std::to_string(max_nodes), *lease});
    if (claimed.at(0).integer(2) == 0)
      throw SqlError(ERRCODE_UNDEFINED_OBJECT, "agent " + std::to_string(*agent) + " is not registered", {},
                     "register with adagio.register_agent(name, runtimes) first");
    std::string result = claimed.at(0).text(0);
    const std::string runs = claimed.at(0).text(1);
    std::set<std::int64_t> run_ids;  // a run appears once per node claimed
    for (std::size_t start = 0; start < runs.size();) {
      const std::size_t comma = std::min(runs.find(',', start), runs.size());
      run_ids.insert(std::stoll(runs.substr(start, comma - start)));
      start = comma + 1;
    }
    notify_events(std::vector<std::int64_t>(run_ids.begin(), run_ids.end()));
    spi.finish();
    return jsonb_result(result);
  });
}

}  // extern "C"
