// Patching a running run: new nodes, and edges that end at them, join the run's graph while it
// runs (core/include/adagio/patch.hpp). The run's row lock serializes patches with each other and
// with the reports that count the run down; nothing else already written changes. The merged
// graph is stored like any graph (by digest) and the run points at it; node rows keep the graph
// they were written with, and a report that finds the run's graph newer than its node's follows
// the added edges too (successes.cpp, attempts.cpp).
#include "args.hpp"
#include "attempts.hpp"
#include "graph_store.hpp"
#include "notify.hpp"
#include "pg_guard.hpp"
#include "settings.hpp"
#include "spi.hpp"

#include "adagio/graph_error.hpp"
#include "adagio/graph_json.hpp"
#include "adagio/patch.hpp"
#include "adagio/topology.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>

namespace adagio::pg {
namespace {

// Who asks: an operator naming the run, or a node's current claim (its run, fenced by the token).
struct Origin {
  std::string run_id;
  std::optional<std::string> node;      // the patching node, for a patch from a claim
  std::optional<std::string> agent_id;  // its claim's agent
};

GraphPatch parsed_patch(const std::string& text) {
  try {
    return parse_patch(text);
  } catch (const GraphError& e) {
    throw SqlError(e.kind() == GraphErrorKind::malformed_json ? ERRCODE_INVALID_TEXT_REPRESENTATION
                                                              : ERRCODE_INVALID_PARAMETER_VALUE,
                   std::string("invalid patch: ") + e.what());
  }
}

Graph merged_graph(const Graph& base, const GraphPatch& patch) {
  try {
    return apply_patch(base, patch);
  } catch (const GraphError& e) {
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, std::string("invalid patch: ") + e.what());
  }
}

// The run, locked: patches of one run apply one after the other, and a report counting the run
// down waits for a patch (or the patch for it). Refuses a run that is not running, or whose
// first nodes have not started yet (a node added without edges would run ahead of them).
Row lock_running_run(SpiSession& spi, const std::string& run_id) {
  auto run = spi.query(
      "SELECT status::text, graph_id, priority, start_at > now(), adagio.concurrency_wait(id) > 0"
      " FROM adagio.runs WHERE id = $1::bigint FOR UPDATE",
      {run_id});
  if (run.empty()) throw SqlError(ERRCODE_UNDEFINED_OBJECT, "run " + run_id + " does not exist");
  const Row& row = run[0];
  if (row.text(0) != "running")
    throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "run " + run_id + " is " + row.text(0),
                   "only a running run takes a patch");
  if (row.text(3) == "t" || row.text(4) == "t")
    throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "run " + run_id + " has not started yet",
                   row.text(3) == "t" ? "it starts at its start_at" : "it waits for its concurrency key",
                   "patch it once its first nodes are ready");
  return row;
}

// A bound on one patch, as start_runs() has one on a call: a function that patches in a loop by
// mistake stops at a clear error instead of growing its run without end in one transaction.
constexpr std::size_t max_nodes_per_patch = 10000;

nlohmann::json apply(SpiSession& spi, const Origin& origin, const GraphPatch& patch) {
  if (patch.nodes.size() > max_nodes_per_patch)
    throw SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "at most " + std::to_string(max_nodes_per_patch) +
                                                       " nodes per patch, got " + std::to_string(patch.nodes.size()));
  const Row run = lock_running_run(spi, origin.run_id);
  const std::string canonical_patch = to_json(patch).dump();

  // A node's attempt that is run again (its worker died after patching) patches again: the same
  // patch from the same node is the one already applied, not a conflict.
  if (origin.node) {
    auto earlier = spi.query(
        "SELECT number, nodes FROM adagio.run_patches"
        " WHERE run_id = $1::bigint AND node = $2 AND patch = $3::jsonb",
        {origin.run_id, origin.node, canonical_patch});
    if (!earlier.empty())
      return {{"run_id", std::stoll(origin.run_id)},
              {"patch", earlier[0].integer(0)},
              {"nodes", nlohmann::json::parse(earlier[0].text(1))},
              {"already_applied", true}};
  }

  // The run's bound on nodes added by patches (the "spawn limit"), counted over its patches so far.
  auto added_before = spi.query(
      "SELECT coalesce(sum(jsonb_array_length(nodes)), 0) FROM adagio.run_patches WHERE run_id = $1::bigint",
      {origin.run_id});
  const long long total = added_before.at(0).integer(0) + static_cast<long long>(patch.nodes.size());
  if (total > max_patch_nodes_per_run)
    throw SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                   "run " + origin.run_id + " would have " + std::to_string(total) +
                       " nodes added by patches, more than adagio.max_patch_nodes_per_run (" +
                       std::to_string(max_patch_nodes_per_run) + ")",
                   "it has " + std::to_string(added_before.at(0).integer(0)) + " from earlier patches, and this one adds " +
                       std::to_string(patch.nodes.size()),
                   "a superuser can raise adagio.max_patch_nodes_per_run, for a role or a database too");

  const std::string base_id = run.text(1);
  auto base_rows = spi.query("SELECT graph::text FROM adagio.graphs WHERE id = $1::bigint", {base_id});
  if (base_rows.empty()) throw SqlError(ERRCODE_DATA_CORRUPTED, "graph " + base_id + " is missing");
  const Graph base = parse_graph(base_rows[0].text(0));
  const Graph merged = merged_graph(base, patch);
  const Topology topology = build_topology(merged);

  // The upstream nodes the run already has, as they stand now (read after the run's lock: a
  // report of any of them has either committed or will see this patch).
  std::set<std::string> added;
  for (const NodeSpec& node : patch.nodes) added.insert(node.name);
  std::vector<std::string> sources;
  for (const Edge& edge : patch.edges)
    if (!added.count(edge.source)) sources.push_back(edge.source);
  std::map<std::string, Row> upstream;
  if (!sources.empty())
    for (Row& row : spi.query("SELECT name, state::text, conclusion::text, output FROM adagio.nodes"
                              " WHERE run_id = $1::bigint AND name = ANY ($2::text[])",
                              {origin.run_id, array_literal(sources)}))
      upstream.emplace(row.text(0), std::move(row));
  for (const auto& [name, row] : upstream)
    if (row.text(1) == "completed" && row.text(2) != "success")
      throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                     "node \"" + name + "\" of run " + origin.run_id + " concluded " + row.text(2),
                     "nodes after it would never run", "add edges only from nodes that succeeded or may still succeed");

  // Each added node: how many of its upstream nodes are yet to succeed, and the outputs of those
  // that did, as a report would have handed them over.
  // The run's nodes hold the places 0 to n - 1 of its graph's order, n the nodes of `base`; the
  // added ones take the places after them.
  long long position = static_cast<long long>(base.nodes.size()) - 1;
  nlohmann::json rows = nlohmann::json::array(), names = nlohmann::json::array();
  std::set<std::string> ready_runtimes;
  for (std::size_t index : topology.order) {
    if (index < base.nodes.size()) continue;
    const NodeSpec& node = merged.nodes[index];
    int pending = 0;
    nlohmann::json inputs = nlohmann::json::object();
    for (std::size_t up : topology.upstream[index]) {
      const std::string& source = merged.nodes[up].name;
      const auto found = upstream.find(source);
      if (found != upstream.end() && found->second.text(1) == "completed")
        inputs[source] = found->second.text(3);
      else
        ++pending;
    }
    if (pending == 0) ready_runtimes.insert(node.runtime);
    names.push_back(node.name);
    rows.push_back({{"name", node.name},
                    {"position", ++position},
                    {"runtime", node.runtime},
                    {"spec", to_json(node)},
                    {"pending", pending},
                    {"inputs", inputs}});
  }

  const std::string graph_id =
      std::to_string(store_graph(spi, to_json(merged).dump(), merged, topology));
  auto applied = spi.query(
      "WITH inserted AS ("
      "   INSERT INTO adagio.nodes (run_id, graph_id, name, position, runtime, spec, state, upstream_pending, inputs,"
      "                             ready_at, priority)"
      "   SELECT $1::bigint, $2::bigint, n.name, n.position, n.runtime, n.spec,"
      "          CASE WHEN n.pending > 0 THEN 'waiting' ELSE 'ready' END::adagio.node_state, n.pending, n.inputs,"
      "          CASE WHEN n.pending = 0 THEN clock_timestamp() END, $3::smallint"
      "   FROM jsonb_to_recordset($4::jsonb) AS n(name text, position int, runtime text, spec jsonb, pending int,"
      "                                             inputs jsonb)"
      "   ORDER BY n.position"
      "   RETURNING name, state, position),"
      " counted AS ("
      "   UPDATE adagio.runs SET graph_id = $2::bigint, node_count = node_count + $5::int,"
      "     nodes_remaining = nodes_remaining + $5::int"
      "   WHERE id = $1::bigint RETURNING id),"
      " recorded AS ("
      "   INSERT INTO adagio.run_patches (run_id, number, patch, nodes, graph_id, node, agent_id)"
      "   SELECT $1::bigint, coalesce((SELECT max(number) FROM adagio.run_patches WHERE run_id = $1::bigint), 0) + 1,"
      "          $6::jsonb, $7::jsonb, $2::bigint, $8, $9::bigint"
      "   FROM counted RETURNING number),"
      " logged AS ("
      "   INSERT INTO adagio.events (run_id, node, kind, agent_id, detail)"
      "   SELECT $1::bigint, e.node, e.kind, e.agent_id, e.detail FROM ("
      "     SELECT 0 AS step, $8 AS node, 'run_patched'::adagio.event_kind AS kind, $9::bigint AS agent_id, 0 AS position,"
      "            jsonb_strip_nulls(jsonb_build_object('patch', r.number, 'nodes', $7::jsonb, 'by', session_user::text))"
      "              AS detail FROM recorded r"
      "     UNION ALL"
      "     SELECT 1, name, 'node_ready', NULL, position, NULL FROM inserted WHERE state = 'ready') e"
      "   ORDER BY e.step, e.position)"
      " SELECT number FROM recorded",
      {origin.run_id, graph_id, run.text(2), rows.dump(), std::to_string(patch.nodes.size()), canonical_patch,
       names.dump(), origin.node, origin.agent_id});

  for (const std::string& runtime : ready_runtimes) notify_ready(runtime);
  notify_events({std::stoll(origin.run_id)});
  return {{"run_id", std::stoll(origin.run_id)},
          {"patch", applied.at(0).integer(0)},
          {"nodes", names},
          {"already_applied", false}};
}

std::string patch_arg(FunctionCallInfo fcinfo, int index) {
  auto patch = arg_as_text(fcinfo, index);
  if (!patch) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "patch must not be NULL");
  return *patch;
}

}  // namespace
}  // namespace adagio::pg

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_patch_run);
PG_FUNCTION_INFO_V1(adagio_patch_run_from_node);

// adagio.patch_run(run_id bigint, patch jsonb) -> jsonb: an operator's patch.
Datum adagio_patch_run(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    const auto run_id = arg_int64(fcinfo, 0);
    if (!run_id) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "run_id must not be NULL");
    const adagio::GraphPatch patch = parsed_patch(patch_arg(fcinfo, 1));
    SpiSession spi;
    const nlohmann::json result = apply(spi, Origin{std::to_string(*run_id), std::nullopt, std::nullopt}, patch);
    spi.finish();
    return jsonb_result(result.dump());
  });
}

// adagio.patch_run_from_node(claim_token uuid, patch jsonb) -> jsonb: a patch from the function a
// claim runs, to its own run. The claim is the fence, as for a report: it must still be held.
Datum adagio_patch_run_from_node(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    const auto token = arg_as_text(fcinfo, 0);
    if (!token) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "claim_token must not be NULL");
    const adagio::GraphPatch patch = parsed_patch(patch_arg(fcinfo, 1));
    SpiSession spi;
    // Held for the rest of the transaction (the sweeper cannot take the claim back meanwhile);
    // the node's lock comes before the run's, as in a report.
    auto held = spi.query(
        "SELECT run_id, name, claimed_by FROM adagio.nodes"
        " WHERE id = adagio.claim_token_node($1::uuid) AND claim_token = $1::uuid FOR SHARE",
        {*token});
    if (held.empty()) refuse_stale_claim(spi, *token);
    const nlohmann::json result = apply(spi, Origin{held[0].text(0), held[0][1], held[0][2]}, patch);
    spi.finish();
    return jsonb_result(result.dump());
  });
}

}  // extern "C"
