// Following a succeeded node's edges: its output goes to each node directly downstream of it,
// whose count of upstream nodes pending drops; a node whose count reaches zero is ready, or, when
// the report came with a hand-off (complete_and_claim()), claimed at once for the reporting agent.
// The batch statement of complete_many() embeds these CTEs (ADAGIO_PASS_DOWNSTREAM), and
// complete() runs them through pass_output_downstream(): both lock downstream nodes alike.
#pragma once

#include "spi.hpp"

#include <cstdint>
#include <set>
#include <string>

namespace adagio::pg {

// CTEs that lock, then update, the waiting nodes downstream of completed ones, and hand the ready
// ones the agent runs to it. The statement defines before them:
//   agent (runtimes): the agent of the hand-off, seen (no row: no hand-off);
//   downstream (run_id, destination, arrived, outputs): per downstream node, how many of its
//     upstream nodes completed and their outputs by name;
// and binds $3 (the agent's id), $4 (how many nodes to hand it at most) and $5 (the lease when a
// node names none). They define `passed`: the nodes updated, state 'running' for those handed.
// Locks in id order: the order every completion locks downstream nodes, so two never deadlock.
#define ADAGIO_PASS_DOWNSTREAM                                                                                 \
  " locked_downstream AS ("                                                                                    \
  "   SELECT d.id, d.runtime, d.upstream_pending = s.arrived AS ready, s.arrived, s.outputs"                   \
  "   FROM downstream s JOIN adagio.nodes d"                                                                   \
  "     ON d.run_id = s.run_id AND d.name = s.destination AND d.state = 'waiting'"                             \
  "   ORDER BY d.id FOR UPDATE OF d),"                                                                         \
  " eligible AS ("                                                                                             \
  "   SELECT l.*, coalesce(l.ready AND l.runtime = ANY ((SELECT a.runtimes FROM agent a)::text[]), false)"     \
  "     AS runnable FROM locked_downstream l),"                                                                \
  " handing AS ("                                                                                              \
  "   SELECT e.*, e.runnable AND row_number() OVER (PARTITION BY e.runnable ORDER BY e.id) <= $4::int AS handed" \
  "   FROM eligible e),"                                                                                       \
  " passed AS ("                                                                                               \
  "   UPDATE adagio.nodes d"                                                                                   \
  "   SET upstream_pending = d.upstream_pending - l.arrived, inputs = d.inputs || l.outputs,"                  \
  "       state = CASE WHEN l.handed THEN 'running' WHEN l.ready THEN 'ready' ELSE d.state END,"               \
  "       ready_at = CASE WHEN l.ready THEN clock_timestamp() ELSE d.ready_at END,"                            \
  "       claim_token = CASE WHEN l.handed THEN adagio.new_claim_token(d.id) END,"                             \
  "       claimed_by = CASE WHEN l.handed THEN $3::bigint ELSE d.claimed_by END,"                              \
  "       claimed_at = CASE WHEN l.handed THEN clock_timestamp() ELSE d.claimed_at END,"                       \
  "       lease_expires_at = CASE WHEN l.handed THEN clock_timestamp()"                                        \
  "         + coalesce(make_interval(secs => (d.spec ->> 'lease_seconds')::float8), $5::interval) END,"        \
  "       attempt_count = d.attempt_count + CASE WHEN l.handed THEN 1 ELSE 0 END"                              \
  "   FROM handing l WHERE d.id = l.id AND d.state = 'waiting'"                                                \
  "   RETURNING d.id, d.run_id, d.name, d.runtime, d.state, d.position, d.spec, d.inputs, d.attempt_count,"    \
  "     d.claim_token, d.lease_expires_at)"

// Node `node` of run `run_id` (of graph `graph_id`) succeeded with `output`: passes it to the
// waiting nodes downstream and logs node_ready for those it made ready; returns their runtimes
// (to notify). Does nothing for a node with no downstream nodes. No hand-off: complete() has
// no agent to hand nodes to.
std::set<std::string> pass_output_downstream(SpiSession& spi, std::int64_t run_id, std::int64_t graph_id,
                                             const std::string& node, const Value& output);

}  // namespace adagio::pg
