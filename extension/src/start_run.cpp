// Starting runs: the graph is parsed and validated by the core before anything is written, so a
// rejected graph leaves no rows behind; the run, its nodes and edges are then written in three
// statements within the caller's transaction.
#include "args.hpp"
#include "notify.hpp"
#include "pg_guard.hpp"
#include "spi.hpp"

#include "adagio/graph_json.hpp"
#include "adagio/topology.hpp"
#include "adagio/validate.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>

namespace adagio::pg {
namespace {

struct ValidatedGraph {
  Graph graph;
  Topology topology;
};

ValidatedGraph validated(const std::string& json_text) {
  ValidatedGraph v{parse_graph(json_text), {}};
  validate(v.graph);
  v.topology = build_topology(v.graph);
  return v;
}

std::string checked_inputs(const std::optional<std::string>& inputs) {
  if (!inputs) return "{}";
  auto parsed = nlohmann::json::parse(*inputs);
  if (!parsed.is_object())
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "run inputs must be a JSON object",
                   "got: " + parsed.dump().substr(0, 200));
  return *inputs;
}

std::int64_t create_run(SpiSession& spi, const ValidatedGraph& v, const std::string& inputs,
                        const std::optional<std::string>& workflow_name,
                        const std::optional<std::string>& workflow_version) {
  const auto& nodes = v.graph.nodes;
  const std::string node_count = std::to_string(nodes.size());
  auto run = spi.query(
      "INSERT INTO adagio.runs (graph, inputs, node_count, nodes_remaining, workflow_name, workflow_version)"
      " VALUES ($1::jsonb, $2::jsonb, $3::int, $3::int, $4, $5::int) RETURNING id",
      {to_json(v.graph).dump(), inputs, node_count, workflow_name, workflow_version});
  const std::string run_id = run.at(0).text(0);

  nlohmann::json rows = nlohmann::json::array();
  std::set<std::string> ready_runtimes;
  for (std::size_t position = 0; position < v.topology.order.size(); ++position) {
    const std::size_t index = v.topology.order[position];
    const NodeSpec& node = nodes[index];
    const std::size_t upstream = v.topology.upstream[index].size();
    if (upstream == 0) ready_runtimes.insert(node.runtime);
    rows.push_back({{"name", node.name},
                    {"position", position},
                    {"runtime", node.runtime},
                    {"spec", to_json(node)},
                    {"upstream", upstream}});
  }
  spi.query(
      "WITH inserted AS ("
      "   INSERT INTO adagio.nodes (run_id, name, position, runtime, spec, state, upstream_pending, ready_at)"
      "   SELECT $1::bigint, n.name, n.position, n.runtime, n.spec,"
      "          CASE WHEN n.upstream = 0 THEN 'ready' ELSE 'waiting' END, n.upstream,"
      "          CASE WHEN n.upstream = 0 THEN clock_timestamp() END"
      "   FROM jsonb_to_recordset($2::jsonb) AS n(name text, position int, runtime text, spec jsonb, upstream int)"
      "   RETURNING name, state, position)"
      " INSERT INTO adagio.events (run_id, node, kind, detail)"
      " SELECT $1::bigint, NULL, 'run_started', jsonb_strip_nulls(jsonb_build_object('nodes', $3::int, 'workflow', $4::text))"
      " UNION ALL"
      " SELECT $1::bigint, name, 'node_ready', NULL FROM (SELECT name FROM inserted WHERE state = 'ready' ORDER BY position) r",
      {run_id, rows.dump(), node_count, workflow_name});

  if (!v.graph.edges.empty()) {
    nlohmann::json edges = nlohmann::json::array();
    for (const Edge& e : v.graph.edges) edges.push_back({{"source", e.source}, {"destination", e.destination}});
    spi.query(
        "INSERT INTO adagio.edges (run_id, source, destination)"
        " SELECT $1::bigint, e.source, e.destination"
        " FROM jsonb_to_recordset($2::jsonb) AS e(source text, destination text)",
        {run_id, edges.dump()});
  }
  for (const std::string& runtime : ready_runtimes) notify_ready(runtime);
  notify_events(std::stoll(run_id));
  return std::stoll(run_id);
}

Datum start(FunctionCallInfo fcinfo, const std::string& graph_json, const std::optional<std::string>& inputs,
            const std::optional<std::string>& workflow_name, const std::optional<std::string>& workflow_version,
            SpiSession& spi) {
  const ValidatedGraph v = validated(graph_json);
  const std::int64_t run_id = create_run(spi, v, checked_inputs(inputs), workflow_name, workflow_version);
  spi.finish();
  (void)fcinfo;
  return int64_result(run_id);
}

}  // namespace
}  // namespace adagio::pg

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_validate_graph);
PG_FUNCTION_INFO_V1(adagio_start_run);
PG_FUNCTION_INFO_V1(adagio_start_workflow);

// adagio.validate_graph(graph jsonb) -> jsonb: the canonical form, or an error naming the problem.
Datum adagio_validate_graph(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    auto graph = arg_as_text(fcinfo, 0);
    if (!graph) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "graph must not be NULL");
    const ValidatedGraph v = validated(*graph);
    return jsonb_result(adagio::to_json(v.graph).dump());
  });
}

// adagio.start_run(graph jsonb, inputs jsonb) -> bigint run id.
Datum adagio_start_run(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    auto graph = arg_as_text(fcinfo, 0);
    if (!graph) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "graph must not be NULL");
    auto inputs = arg_as_text(fcinfo, 1);
    SpiSession spi;
    return start(fcinfo, *graph, inputs, std::nullopt, std::nullopt, spi);
  });
}

// adagio.start_workflow(name text, inputs jsonb, version int) -> bigint run id; the newest
// version when version is NULL.
Datum adagio_start_workflow(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    auto name = arg_as_text(fcinfo, 0);
    if (!name) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "workflow name must not be NULL");
    auto inputs = arg_as_text(fcinfo, 1);
    auto version = arg_int32(fcinfo, 2);
    SpiSession spi;
    auto found = spi.query(
        "SELECT graph::text, version::text FROM adagio.workflows"
        " WHERE name = $1 AND ($2::int IS NULL OR version = $2::int)"
        " ORDER BY version DESC LIMIT 1",
        {*name, version ? std::optional<std::string>(std::to_string(*version)) : std::nullopt});
    if (found.empty()) {
      throw SqlError(ERRCODE_UNDEFINED_OBJECT,
                     version ? "workflow \"" + *name + "\" has no version " + std::to_string(*version)
                             : "workflow \"" + *name + "\" does not exist",
                     {}, "define it first with adagio.define_workflow(name, graph)");
    }
    return start(fcinfo, found[0].text(0), inputs, *name, found[0].text(1), spi);
  });
}

}  // extern "C"
