#include "claims.hpp"

#include "args.hpp"
#include "engine_runtimes.hpp"
#include "notify.hpp"
#include "pg_guard.hpp"
#include "settings.hpp"

#include <algorithm>
#include <stdexcept>
#include <set>
#include <vector>

namespace adagio::pg {

ClaimRequest read_claim_request(FunctionCallInfo fcinfo, int lease_index, int min_nodes) {
  auto agent = arg_int64(fcinfo, 0);
  if (!agent) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "agent_id must not be NULL");
  const auto max_nodes = arg_int32(fcinfo, 1);
  if (!max_nodes) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "max_nodes must not be NULL");
  if (*max_nodes < min_nodes || *max_nodes > 10000)
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "max_nodes must be between " + std::to_string(min_nodes) +
                                                        " and 10000, got " + std::to_string(*max_nodes));
  auto lease = arg_as_text(fcinfo, lease_index);
  // A lease already lapsed would have the next sweep orphan the claim (spending an attempt), and one
  // of years would hide a dead worker for as long; a node's lease_seconds is at most a day too.
  const auto lease_seconds = arg_interval_seconds(fcinfo, lease_index);
  if (lease_seconds && !(*lease_seconds > 0 && *lease_seconds <= SECS_PER_DAY))
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "lease must be positive and at most 1 day, got " + *lease);
  return ClaimRequest{*agent, *max_nodes, lease ? *lease : std::to_string(default_lease_seconds) + " seconds"};
}

// One statement picks up to N ready nodes of the agent's runtimes with FOR UPDATE SKIP LOCKED, so
// concurrent claimers never wait on each other and never get the same node; each claim gets a
// fresh token that fences off reports from anyone but its holder.
Claims claim_ready_nodes(SpiSession& spi, std::int64_t agent, int max_nodes, const std::string& lease) {
  auto claimed = spi.query(
      // The agent is seen (and its runtimes read) in the same statement. The runtimes come from
      // an uncorrelated subquery (evaluated once) rather than a join, so the plan walks
      // nodes_ready in (priority DESC, ready_at, id) order and stops after LIMIT rows instead of
      // sorting every ready node on each claim.
      // An agent is its registering login's: another may not claim in its name (see below).
      "WITH agent AS ("
      "   UPDATE adagio.agents SET last_seen_at = now(), status = 'active'"
      "   WHERE id = $1::bigint AND db_user = session_user RETURNING runtimes),"
      " picked AS ("
      "   SELECT n.id FROM adagio.nodes n"
      "   WHERE n.state = 'ready' AND " ADAGIO_WORKER_RUNTIME("n")
      "     AND n.runtime = ANY ((SELECT a.runtimes FROM agent a)::text[])"
      "   ORDER BY n.priority DESC, n.ready_at, n.id"
      "   LIMIT $2::int"
      "   FOR UPDATE OF n SKIP LOCKED),"
      " claimed AS ("
      "   UPDATE adagio.nodes n"
      "   SET state = 'running', claim_token = adagio.new_claim_token(n.id), claimed_by = $1::bigint,"
      "       claimed_at = clock_timestamp(), lease_expires_at = clock_timestamp()"
      "         + coalesce(make_interval(secs => (n.spec ->> 'lease_seconds')::float8), $3::interval),"
      "       attempt_count = n.attempt_count + 1"
      "   WHERE n.id = ANY (ARRAY(SELECT id FROM picked))"  // the primary key, not a hash of all nodes
      "   RETURNING n.id, n.run_id, n.name, n.runtime, n.spec, n.inputs, n.attempt_count, n.claim_token,"
      "     n.lease_expires_at, n.ready_at, n.priority),"
      " logged AS ("
      "   INSERT INTO adagio.events (run_id, node, kind, agent_id, attempt, detail)"
      "   SELECT run_id, name, 'node_claimed', $1::bigint, attempt_count,"
      "          jsonb_build_object('lease_expires_at', lease_expires_at) FROM claimed)"
      " SELECT coalesce(json_agg(" ADAGIO_CLAIM_DOCUMENT " ORDER BY c.priority DESC, c.ready_at, c.id), '[]'::json)::text,"
      "   string_agg(c.run_id::text, ','),"  // the runs whose timelines grew, to notify
      "   (SELECT count(*) FROM agent), count(*)"
      " FROM claimed c JOIN adagio.runs r ON r.id = c.run_id",
      {std::to_string(agent), std::to_string(max_nodes), lease});
  if (claimed.at(0).integer(2) == 0) {
    // adagio.refuse_agent() raises the reason, as for heartbeat() and deregister_agent().
    spi.query("SELECT adagio.refuse_agent($1::bigint)", {std::to_string(agent)});
    throw std::logic_error("adagio.refuse_agent() returned");
  }
  const std::string runs = claimed.at(0).text(1);
  std::set<std::int64_t> run_ids;  // a run appears once per node claimed
  for (std::size_t start = 0; start < runs.size();) {
    const std::size_t comma = std::min(runs.find(',', start), runs.size());
    run_ids.insert(std::stoll(runs.substr(start, comma - start)));
    start = comma + 1;
  }
  notify_events(std::vector<std::int64_t>(run_ids.begin(), run_ids.end()));
  return Claims{claimed.at(0).text(0), claimed.at(0).integer(3)};
}

bool ready_nodes_for(SpiSession& spi, std::int64_t agent) {
  // The claim's own walk of nodes_ready, stopped at the first node of one of the runtimes.
  auto found = spi.query(
      "SELECT EXISTS (SELECT 1 FROM adagio.nodes n WHERE n.state = 'ready' AND " ADAGIO_WORKER_RUNTIME("n")
      "   AND n.runtime = ANY ((SELECT a.runtimes FROM adagio.agents a WHERE a.id = $1::bigint)::text[]))",
      {std::to_string(agent)});
  return found.at(0).text(0) == "t";
}

Claims concatenate(const Claims& first, const Claims& second) {
  if (first.count == 0) return second;
  if (second.count == 0) return first;
  // "[a, b]" and "[c]" make "[a, b, c]": both are json_agg() arrays, brackets at either end.
  return Claims{first.json.substr(0, first.json.size() - 1) + ", " + second.json.substr(1),
                first.count + second.count};
}

}  // namespace adagio::pg
