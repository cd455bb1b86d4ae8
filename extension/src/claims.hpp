// Handing nodes to an agent. Two paths make claims: claim() takes ready nodes from the queue, and
// complete_and_claim() also hands the reporting agent, in its report's own statement, the nodes
// that report made ready. Both build the same claim document, from this one definition.
#pragma once

#include "pg_includes.hpp"
#include "spi.hpp"

#include <cstdint>
#include <string>

namespace adagio::pg {

// The JSON document of one claim, for a claimed node `c` (a row with the nodes columns id, run_id,
// name, runtime, spec, inputs, attempt_count, claim_token, lease_expires_at) and its run `r`.
// json, not jsonb: the claims leave as text, and building jsonb values only to print them again
// cost more than the rest of the claim. The subqueries run only for the nodes that need them
// (metadata given, earlier attempts made: all failed ones, or the node would not run again). A
// macro, so that statements embedding it stay string literals (SpiSession keys its plans by their
// address).
#define ADAGIO_CLAIM_DOCUMENT                                                                                  \
  "json_build_object("                                                                                        \
  "   'node_id', c.id, 'run_id', c.run_id, 'name', c.name, 'runtime', c.runtime,"                             \
  "   'metadata', CASE WHEN c.spec ? 'metadata' THEN"                                                         \
  "     coalesce((SELECT jsonb_object_agg(m.key, m.value -> 'values')"                                        \
  "               FROM jsonb_each(c.spec -> 'metadata') m), '{}'::jsonb) ELSE '{}'::jsonb END,"               \
  "   'retry', c.spec -> 'retry', 'inputs', c.inputs, 'run_inputs', r.inputs,"                                \
  "   'attempt', c.attempt_count, 'timeout_seconds', c.spec -> 'timeout_seconds',"                           \
  "   'attempts', CASE WHEN c.attempt_count > 1 THEN"                                                         \
  "     coalesce((SELECT json_agg(json_build_object("                                                         \
  "        'attempt', t.attempt, 'conclusion', t.conclusion, 'output', t.output, 'reason', t.reason,"         \
  "        'agent_id', t.agent_id, 'started_at', t.started_at, 'finished_at', t.finished_at)"                 \
  "        ORDER BY t.attempt) FROM adagio.failed_attempts t WHERE t.node_id = c.id), '[]'::json)"            \
  "     ELSE '[]'::json END,"                                                                                 \
  "   'claim_token', c.claim_token, 'lease_expires_at', c.lease_expires_at)"

// Claims as a JSON array (text) and how many it holds.
struct Claims {
  std::string json = "[]";
  long long count = 0;
};

// Who claims, how many nodes at most, and for how long: the arguments claim() and
// complete_and_claim() share (agent_id and max_nodes first, the lease where each has it).
struct ClaimRequest {
  std::int64_t agent = 0;
  int max_nodes = 0;
  std::string lease;  // adagio.default_lease when the caller names none
};
// Raises 22004 for a NULL agent and 22023 for max_nodes outside min_nodes..10000.
ClaimRequest read_claim_request(FunctionCallInfo fcinfo, int lease_index, int min_nodes);

// Claims up to max_nodes (0 allowed: the agent is only seen) of the oldest ready nodes of the
// agent's runtimes. Raises 42704 if the agent is not registered.
Claims claim_ready_nodes(SpiSession& spi, std::int64_t agent, int max_nodes, const std::string& lease);

// Whether any node the agent can run is ready: a look at the queue much cheaper than a claim
// that finds nothing. For an agent already seen in the transaction (it must be registered).
bool ready_nodes_for(SpiSession& spi, std::int64_t agent);

// Both arrays' elements, in order, as one JSON array.
Claims concatenate(const Claims& first, const Claims& second);

}  // namespace adagio::pg
