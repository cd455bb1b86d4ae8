// Starting runs: the graph is parsed and validated by the core before anything is written, so a
// rejected graph leaves no rows behind; the graph (stored once, shared by its runs), the runs and
// their nodes are then written within the caller's transaction.
#include "args.hpp"
#include "graph_store.hpp"
#include "notify.hpp"
#include "pg_guard.hpp"
#include "spi.hpp"

#include "adagio/graph_json.hpp"
#include "adagio/topology.hpp"
#include "adagio/validate.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace adagio::pg {
namespace {

// A bound on one call, so that one statement cannot build an unbounded transaction by accident.
constexpr long long max_runs_per_call = 10000;

struct ValidatedGraph {
  Graph graph;
  Topology topology;
};

// One idempotency key per run started (nullopt: none).
using Keys = std::vector<std::optional<std::string>>;

constexpr std::size_t max_key_bytes = 255;

// A statement's timestamptz from a parameter holding microseconds since the Unix epoch (as
// Scheduling::start_at has it). (Statements are literals: their address keys the plan cache.)
#define ADAGIO_TIMESTAMPTZ_FROM_UNIX_US(parameter) "(timestamptz 'epoch' + " parameter "::bigint * interval '1 microsecond')"

// The runs of a start, one per element of $2 (inputs) and $10 (idempotency keys, or NULL),
// skipping the elements numbered in $11 (their key already started a run).
#define ADAGIO_INSERT_RUNS                                                                                   \
  "INSERT INTO adagio.runs (graph_id, inputs, node_count, nodes_remaining, workflow_name, workflow_version," \
  "                         idempotency_key, start_at, priority, concurrency_key, concurrency_limit)"       \
  " SELECT $1::bigint, coalesce(i.inputs, '{}'), $3::int, $3::int, $4, $5::int, i.key, "                    \
  ADAGIO_TIMESTAMPTZ_FROM_UNIX_US("$6") ", $7::smallint, $8, $9::int"                                       \
  " FROM unnest($2::jsonb[], $10::text[]) WITH ORDINALITY AS i(inputs, key, ord)"                           \
  " WHERE i.ord <> ALL ($11::bigint[]) ORDER BY i.ord"
constexpr const char* insert_runs = ADAGIO_INSERT_RUNS " RETURNING id, idempotency_key";
// ON CONFLICT only with keys: it makes every insertion speculative, a WAL record more.
constexpr const char* insert_keyed_runs =
    ADAGIO_INSERT_RUNS " ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
                       " RETURNING id, idempotency_key";

// Run priorities: higher runs first. A bound well inside smallint, so that the error names it.
constexpr int max_priority = 1000;
// Runs of one concurrency key at a time, at most (the key's line is read that far).
constexpr int max_concurrency_limit = 1000;

// When a start's runs may run: `start_at` (microseconds since the Unix epoch, as text for a
// statement) if later than now, their first nodes waiting in "scheduled" until the sweeper finds
// them due; their nodes' priority in the queue; and a concurrency key, of which at most
// `concurrency_limit` runs go at a time, the others waiting their turn.
struct Scheduling {
  std::optional<std::string> start_at;
  std::string priority = "0";
  std::optional<std::string> concurrency_key;
  int concurrency_limit = 1;
};

// The runs already started under the keys (a text[] literal, one per element of `inputs`), by
// element (from 1). One with another graph or other inputs than its element is refused: that is
// the caller's mistake, not a retry.
std::map<std::size_t, std::int64_t> runs_under_keys(SpiSession& spi, const std::string& keys,
                                                    const std::string& graph_id, const std::string& inputs) {
  std::map<std::size_t, std::int64_t> found;
  for (const Row& row : spi.query(
           "SELECT k.ord, r.id, r.graph_id = $2::bigint AND r.inputs = coalesce(k.inputs, '{}'), k.key"
           " FROM unnest($1::text[], $3::jsonb[]) WITH ORDINALITY AS k(key, inputs, ord)"
           " JOIN adagio.runs r ON r.idempotency_key = k.key",
           {keys, graph_id, inputs})) {
    if (row.text(2) != "t")
      throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                     "idempotency key \"" + row.text(3) + "\" already started run " + row.text(1) +
                         " with a different graph or inputs",
                     {}, "a key names one run: use a new key for a different run");
    found[static_cast<std::size_t>(row.integer(0))] = row.integer(1);
  }
  return found;
}

// The keys of a start_runs() call, checked before anything is written: one per run, each 1 to
// 255 bytes and given once.
void check_keys(const Keys& keys, long long runs) {
  if (static_cast<long long>(keys.size()) != runs)
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                   "idempotency_keys must have one element per run, got " + std::to_string(keys.size()) + " for " +
                       std::to_string(runs) + " runs",
                   {}, "a NULL element starts its run without a key");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i]) continue;
    if (keys[i]->empty() || keys[i]->size() > max_key_bytes)
      throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "idempotency_keys element " + std::to_string(i + 1) +
                                                          " must be 1 to 255 bytes, got " +
                                                          std::to_string(keys[i]->size()));
    if (!seen.insert(*keys[i]).second)
      throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "idempotency key \"" + *keys[i] + "\" is given twice");
  }
}

ValidatedGraph validated(const std::string& json_text) {
  ValidatedGraph v{parse_graph(json_text), {}};
  validate(v.graph);
  v.topology = build_topology(v.graph);
  return v;
}

// Runs of one graph, one per element of `inputs` (a jsonb[] literal; a NULL element means no
// inputs), written set-based: one statement for the runs and one for their nodes with the events,
// however many runs (edges are the graph's, stored once). `shape` is what the caller read of the
// inputs argument; both checks come before anything is written. Returns the run ids in the order
// of `inputs`. A run whose idempotency key (`keys`, one per run, if given) already started one is
// that run, and nothing is written for it. `when` says when the runs' first nodes may run, and in
// which order against other runs' nodes.
std::vector<std::int64_t> create_runs(SpiSession& spi, const ValidatedGraph& v, const std::string& inputs,
                                      const RunInputsShape& shape,
                                      const std::optional<std::string>& workflow_name,
                                      const std::optional<std::string>& workflow_version,
                                      const Keys* keys, const Scheduling& when) {
  if (shape.elements > max_runs_per_call)
    throw SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "at most " + std::to_string(max_runs_per_call) +
                                                       " runs per call, got " + std::to_string(shape.elements));
  if (shape.first_non_object != 0)
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "run inputs must be a JSON object",
                   "element " + std::to_string(shape.first_non_object) + " of the inputs is not one");
  if (keys && std::none_of(keys->begin(), keys->end(), [](const auto& key) { return key.has_value(); }))
    keys = nullptr;

  const auto& nodes = v.graph.nodes;
  const std::string node_count = std::to_string(nodes.size());
  const std::string graph_id = std::to_string(store_graph(spi, to_json(v.graph).dump(), v.graph, v.topology));
  std::vector<std::int64_t> result;  // by element of `inputs`; 0 until known
  const std::string key_array = keys ? array_literal(*keys) : std::string();
  // Kept with a key only (retry_run() queues the run again with it).
  const Value concurrency_limit =
      when.concurrency_key ? Value(std::to_string(when.concurrency_limit)) : Value();
  std::vector<Value> started;  // elements (from 1) whose key already started a run: that run stands
  if (keys) {
    result.assign(keys->size(), 0);
    for (const auto& [ord, id] : runs_under_keys(spi, key_array, graph_id, inputs)) {
      result[ord - 1] = id;
      started.push_back(std::to_string(ord));
    }
  }
  // The others (all of them without keys). A concurrent call with one of the keys: the insertion
  // waits for it, then skips that run.
  const std::vector<Row> inserted =
      spi.query(keys ? insert_keyed_runs : insert_runs,
                {graph_id, inputs, node_count, workflow_name, workflow_version, when.start_at, when.priority,
                 when.concurrency_key, concurrency_limit, keys ? Value(key_array) : Value(), array_literal(started)});
  // Identity values are handed out in insertion order, which is the order of the inputs.
  std::vector<std::int64_t> run_ids;
  std::map<std::string, std::int64_t> by_key;
  std::vector<std::int64_t> unkeyed;
  for (const Row& row : inserted) {
    run_ids.push_back(row.integer(0));
    if (row[1]) by_key[*row[1]] = row.integer(0);
    else unkeyed.push_back(row.integer(0));
  }
  std::sort(run_ids.begin(), run_ids.end());
  std::sort(unkeyed.begin(), unkeyed.end());
  if (!keys) {
    result = run_ids;
  } else {
    auto next_unkeyed = unkeyed.begin();
    bool skipped = false;  // a key a concurrent call started its run under: the insertion skipped it
    for (std::size_t i = 0; i < keys->size(); ++i) {
      if (result[i] != 0) continue;  // started before
      const auto& key = (*keys)[i];
      if (!key) {
        result[i] = *next_unkeyed++;
      } else if (auto found = by_key.find(*key); found != by_key.end()) {
        result[i] = found->second;
      } else {
        skipped = true;
      }
    }
    if (skipped) {
      const auto now_started = runs_under_keys(spi, key_array, graph_id, inputs);
      for (std::size_t i = 0; i < keys->size(); ++i) {
        if (result[i] != 0) continue;
        const auto found = now_started.find(i + 1);
        if (found == now_started.end())
          throw SqlError(ERRCODE_T_R_SERIALIZATION_FAILURE,
                         "idempotency key \"" + *(*keys)[i] + "\" was taken by a run this transaction cannot see", {},
                         "try again");
        result[i] = found->second;
      }
    }
  }
  if (run_ids.empty()) return result;
  std::vector<Value> id_texts;
  for (std::int64_t id : run_ids) id_texts.push_back(std::to_string(id));
  const std::string ids = array_literal(id_texts);
  // Runs of a concurrency key queue behind its unfinished runs, and behind each other: those
  // beyond the key's free places wait, their roots "scheduled" without a time, until
  // adagio.release_concurrency_keys() starts them.
  std::vector<Value> held;
  if (when.concurrency_key) {
    const auto free = static_cast<std::size_t>(
        spi.query("SELECT adagio.enqueue_concurrency_key($1, $2::bigint[], $3::int)",
                  {when.concurrency_key, ids, std::to_string(when.concurrency_limit)})
            .at(0)
            .integer(0));
    held.assign(id_texts.begin() + static_cast<long>(std::min(free, id_texts.size())), id_texts.end());
  }
  const bool first_runs_now = !when.start_at && held.size() < id_texts.size();

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
      "WITH r AS (SELECT id FROM unnest($1::bigint[]) AS r(id)),"
      " start AS (SELECT " ADAGIO_TIMESTAMPTZ_FROM_UNIX_US("$6") " AS at),"
      " inserted AS ("
      "   INSERT INTO adagio.nodes (run_id, graph_id, name, position, runtime, spec, state, upstream_pending, ready_at,"
      "                             priority)"
      "   SELECT r.id, $5::bigint, n.name, n.position, n.runtime, n.spec,"
      "          CASE WHEN n.upstream > 0 THEN 'waiting' WHEN start.at IS NOT NULL OR r.id = ANY ($8::bigint[])"
      "            THEN 'scheduled' ELSE 'ready' END::adagio.node_state, n.upstream,"
      "          CASE WHEN n.upstream = 0 AND r.id <> ALL ($8::bigint[]) THEN coalesce(start.at, clock_timestamp()) END,"
      "          $7::smallint"
      "   FROM r CROSS JOIN start"
      "   CROSS JOIN jsonb_to_recordset($2::jsonb) AS n(name text, position int, runtime text, spec jsonb, upstream int)"
      "   ORDER BY r.id, n.position"
      "   RETURNING run_id, name, state, position)"
      // Each run's run_started comes first in its timeline, then its roots' node_ready (a delayed
      // run's come from the sweeper).
      " INSERT INTO adagio.events (run_id, node, kind, detail)"
      " SELECT e.run_id, e.node, e.kind, e.detail FROM ("
      "   SELECT r.id AS run_id, NULL::text AS node, 'run_started'::adagio.event_kind AS kind, -1 AS position,"
      "          jsonb_strip_nulls(jsonb_build_object('nodes', $3::int, 'workflow', $4::text, 'start_at', start.at,"
      "            'concurrency_key', $9::text, 'queued', CASE WHEN r.id = ANY ($8::bigint[]) THEN true END))"
      "            AS detail FROM r CROSS JOIN start"
      "   UNION ALL"
      "   SELECT run_id, name, 'node_ready', position, NULL FROM inserted WHERE state = 'ready') e"
      " ORDER BY e.run_id, e.position",
      {ids, rows.dump(), node_count, workflow_name, graph_id, when.start_at, when.priority, array_literal(held),
       when.concurrency_key});

  // The graph's timeout counts from the run's start: now, or its start_at.
  if (v.graph.timeout_seconds)
    spi.query("INSERT INTO adagio.run_deadlines (run_id, deadline_at, timeout_seconds)"
              " SELECT r.id, coalesce(" ADAGIO_TIMESTAMPTZ_FROM_UNIX_US("$2") ", now())"
              "                + make_interval(secs => $3::int), $3::int"
              " FROM unnest($1::bigint[]) AS r(id)",
              {ids, when.start_at, std::to_string(*v.graph.timeout_seconds)});

  if (first_runs_now)
    for (const std::string& runtime : ready_runtimes) notify_ready(runtime);
  notify_events(run_ids);
  return result;
}

// The newest version of a stored workflow (or the one asked for): its graph and version.
Row stored_workflow(SpiSession& spi, const std::string& name, std::optional<std::int32_t> version) {
  auto found = spi.query(
      "SELECT graph::text, version::text FROM adagio.workflows"
      " WHERE name = $1 AND ($2::int IS NULL OR version = $2::int)"
      " ORDER BY version DESC LIMIT 1",
      {name, version ? std::optional<std::string>(std::to_string(*version)) : std::nullopt});
  if (found.empty()) {
    throw SqlError(ERRCODE_UNDEFINED_OBJECT,
                   version ? "workflow \"" + name + "\" has no version " + std::to_string(*version)
                           : "workflow \"" + name + "\" does not exist",
                   {}, version ? "adagio.list_workflows() shows each workflow's newest version"
                               : "define it first with adagio.define_workflow(name, graph)");
  }
  return found[0];
}

// The idempotency key argument: NULL (none), or 1 to 255 bytes.
std::optional<std::string> idempotency_key_arg(FunctionCallInfo fcinfo, int index) {
  auto key = arg_as_text(fcinfo, index);
  if (key && (key->empty() || key->size() > max_key_bytes))
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                   "idempotency_key must be 1 to 255 bytes, got " + std::to_string(key->size()));
  return key;
}

// The start_at, priority, concurrency_key and concurrency_limit arguments (from `index` on):
// start_at only if later than now (an earlier time starts the runs now); priority and
// concurrency_limit NULL are their defaults, 0 and 1.
Scheduling scheduling_args(FunctionCallInfo fcinfo, int index) {
  Scheduling when;
  const auto at = arg_timestamp_unix_us(fcinfo, index, "start_at");
  if (at && *at > unix_us(GetCurrentTimestamp())) when.start_at = std::to_string(*at);
  const auto priority = arg_int32(fcinfo, index + 1);
  if (priority && (*priority < -max_priority || *priority > max_priority))
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "priority must be between " + std::to_string(-max_priority) +
                                                        " and " + std::to_string(max_priority) + ", got " +
                                                        std::to_string(*priority),
                   {}, "higher runs first; the default is 0");
  if (priority) when.priority = std::to_string(*priority);
  when.concurrency_key = arg_as_text(fcinfo, index + 2);
  if (when.concurrency_key && (when.concurrency_key->empty() || when.concurrency_key->size() > max_key_bytes))
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                   "concurrency_key must be 1 to 255 bytes, got " + std::to_string(when.concurrency_key->size()));
  const auto limit = arg_int32(fcinfo, index + 3);
  if (limit && (*limit < 1 || *limit > max_concurrency_limit))
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "concurrency_limit must be between 1 and " +
                                                        std::to_string(max_concurrency_limit) + ", got " +
                                                        std::to_string(*limit),
                   {}, "the runs of one concurrency key that may go at a time; the default is 1");
  if (limit) when.concurrency_limit = *limit;
  return when;
}

// One run: its inputs as a one-element array (NULL stays NULL: no inputs).
std::int64_t start_one(SpiSession& spi, const std::string& graph_json, const std::optional<std::string>& inputs,
                       const RunInputsShape& shape, const std::optional<std::string>& workflow_name,
                       const std::optional<std::string>& workflow_version,
                       const std::optional<std::string>& idempotency_key, const Scheduling& when) {
  const ValidatedGraph v = validated(graph_json);
  if (shape.first_non_object != 0)  // create_runs() would name an element of an array there is none of
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "run inputs must be a JSON object",
                   "got a JSON " + std::string(nlohmann::json::parse(inputs.value_or("null")).type_name()));
  const Keys keys{idempotency_key};
  return create_runs(spi, v, array_literal({inputs}), shape, workflow_name, workflow_version, &keys, when).at(0);
}

}  // namespace
}  // namespace adagio::pg

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_validate_graph);
PG_FUNCTION_INFO_V1(adagio_start_run);
PG_FUNCTION_INFO_V1(adagio_start_workflow);
PG_FUNCTION_INFO_V1(adagio_start_runs);

// adagio.validate_graph(graph jsonb) -> jsonb: the canonical form, or an error naming the problem.
Datum adagio_validate_graph(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    auto graph = arg_as_text(fcinfo, 0);
    if (!graph) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "graph must not be NULL");
    const ValidatedGraph v = validated(*graph);
    return jsonb_result(adagio::to_json(v.graph).dump());
  });
}

// adagio.start_run(graph jsonb, inputs jsonb, idempotency_key text, start_at timestamptz,
// priority int, concurrency_key text, concurrency_limit int) -> bigint run id.
Datum adagio_start_run(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    auto graph = arg_as_text(fcinfo, 0);
    if (!graph) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "graph must not be NULL");
    const auto key = idempotency_key_arg(fcinfo, 2);
    const Scheduling when = scheduling_args(fcinfo, 3);
    SpiSession spi;
    const std::int64_t run_id = start_one(spi, *graph, arg_as_text(fcinfo, 1), arg_jsonb_shape(fcinfo, 1),
                                          std::nullopt, std::nullopt, key, when);
    spi.finish();
    return int64_result(run_id);
  });
}

// adagio.start_workflow(name text, inputs jsonb, version int, idempotency_key text, start_at
// timestamptz, priority int, concurrency_key text, concurrency_limit int) -> bigint run id; the
// newest version when version is NULL.
Datum adagio_start_workflow(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    auto name = arg_as_text(fcinfo, 0);
    if (!name) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "workflow name must not be NULL");
    const auto key = idempotency_key_arg(fcinfo, 3);
    const Scheduling when = scheduling_args(fcinfo, 4);
    SpiSession spi;
    const Row workflow = stored_workflow(spi, *name, arg_int32(fcinfo, 2));
    const std::int64_t run_id = start_one(spi, workflow.text(0), arg_as_text(fcinfo, 1), arg_jsonb_shape(fcinfo, 1),
                                          *name, workflow.text(1), key, when);
    spi.finish();
    return int64_result(run_id);
  });
}

// adagio.start_runs(name text, inputs jsonb[], version int, idempotency_keys text[], start_at
// timestamptz, priority int, concurrency_key text, concurrency_limit int) -> bigint[]:
// one run of the stored workflow per element of inputs, its graph parsed and validated once, all
// written set-based.
Datum adagio_start_runs(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    auto name = arg_as_text(fcinfo, 0);
    if (!name) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "workflow name must not be NULL");
    auto inputs = arg_as_text(fcinfo, 1);
    if (!inputs) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "inputs must not be NULL (one element per run)");
    const RunInputsShape shape = arg_jsonb_array_shape(fcinfo, 1);
    const auto keys = arg_array_elements(fcinfo, 3);
    if (keys) check_keys(*keys, shape.elements);
    const Scheduling when = scheduling_args(fcinfo, 4);
    SpiSession spi;
    const Row workflow = stored_workflow(spi, *name, arg_int32(fcinfo, 2));
    const std::vector<std::int64_t> run_ids = create_runs(spi, validated(workflow.text(0)), *inputs, shape, *name,
                                                          workflow.text(1), keys ? &*keys : nullptr, when);
    spi.finish();
    return int64_array_result(run_ids);
  });
}

}  // extern "C"
