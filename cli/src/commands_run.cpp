// adagio run start|ls|show|patch|cancel|conclude|retry
#include "adagio/cli/duration.hpp"
#include "adagio/cli/run_render.hpp"
#include "adagio/cli/table.hpp"
#include "commands.hpp"
#include "inputs.hpp"
#include "validators.hpp"
#include "wait_run.hpp"

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

namespace adagio::cli {
namespace {

using nlohmann::json;

struct StartOptions {
  std::string file;
  std::string workflow;
  int version = 0;
  std::string inputs_json;
  std::vector<std::string> input_pairs;
  bool wait = false;
  double timeout = 0;
  long count = 1;
  std::string inputs_lines;
  std::string idempotency_key;
  std::string start_at;
  int priority = 0;
  std::string concurrency_key;
  int concurrency_limit = 1;
};

// An option's value for a statement: an empty one (not given) is NULL.
std::optional<std::string> unless_empty(const std::string& value) {
  return value.empty() ? std::nullopt : std::optional<std::string>(value);
}

// A --since/--until/--start-at value: a duration ("2h") or a timestamp the server parses.
std::pair<std::optional<double>, std::optional<std::string>> time_bound(const std::string& value) {
  if (value.empty()) return {std::nullopt, std::nullopt};
  if (auto seconds = parse_duration_seconds(value)) return {seconds, std::nullopt};
  return {std::nullopt, value};
}

// --start-at as SQL, from two parameters numbered from `first` (a duration, a timestamp): the
// server turns a duration into now() + it, and parses a timestamp itself.
std::string start_at_sql(int first) {
  return "coalesce(now() + make_interval(secs => $" + std::to_string(first) + "::float8), $" +
         std::to_string(first + 1) + "::timestamptz)";
}

// A jsonb[] literal: each document quoted, so any JSON survives as one element.
std::string jsonb_array_literal(std::vector<json>::const_iterator first, std::vector<json>::const_iterator last) {
  std::string out = "{";
  for (auto it = first; it != last; ++it) {
    if (it != first) out += ',';
    out += '"';
    for (char c : it->dump()) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// Many runs of a stored workflow through adagio.start_runs(), in calls of at most 10000 runs and
// one transaction: all of them start, or none. Prints one run id per line, in input order. With
// an idempotency key K the runs are K-1, K-2, ...: the same command again starts nothing new.
int start_many_runs(const Context& context, const StartOptions& o, const std::vector<json>& inputs) {
  constexpr std::size_t per_call = 10000;  // start_runs() takes at most this many
  auto connection = context.connect();
  pqxx::work tx(*connection);
  std::vector<long long> ids;
  const auto [delay, at] = time_bound(o.start_at);
  const auto concurrency_key = unless_empty(o.concurrency_key);
  for (std::size_t start = 0; start < inputs.size(); start += per_call) {
    const auto last = inputs.begin() + static_cast<long>(std::min(inputs.size(), start + per_call));
    const pqxx::result r = tx.exec_params(
        "SELECT unnest(adagio.start_runs($1, $2::jsonb[], $3::int,"
        // With a key K, the runs of this call are K-n for n from $5 to $6.
        "  CASE WHEN $4::text IS NOT NULL THEN ARRAY(SELECT $4 || '-' || n FROM generate_series($5::bigint, $6::bigint) n) END, " +
            start_at_sql(7) + ", $9::int, $10, $11::int))",
        o.workflow, jsonb_array_literal(inputs.begin() + static_cast<long>(start), last),
        o.version > 0 ? std::optional<int>(o.version) : std::nullopt, unless_empty(o.idempotency_key),
        static_cast<long long>(start + 1), static_cast<long long>(std::min(inputs.size(), start + per_call)), delay, at,
        o.priority, concurrency_key, o.concurrency_limit);
    for (const auto& row : r) ids.push_back(row[0].as<long long>());
  }
  tx.commit();
  for (long long id : ids) std::cout << id << '\n';
  std::cout.flush();
  return exit_code::ok;
}

int start_run(const Context& context, const StartOptions& o) {
  if (o.file.empty() == o.workflow.empty())
    throw CliError(exit_code::usage, "give either a graph FILE (or - for stdin) or --workflow NAME");
  if (o.count < 1) throw CliError(exit_code::usage, "--count must be at least 1");
  const bool many = o.count > 1 || !o.inputs_lines.empty();
  if (many) {
    if (o.workflow.empty())
      throw CliError(exit_code::usage, "--count and --inputs-lines start runs of a stored workflow: give --workflow NAME",
                     "store the graph first: adagio workflow define NAME FILE");
    if (o.wait) throw CliError(exit_code::usage, "--wait follows one run; start many without it and watch them with adagio run ls");
    if (!o.inputs_lines.empty() && (o.count > 1 || !o.inputs_json.empty() || !o.input_pairs.empty()))
      throw CliError(exit_code::usage, "give either --inputs-lines FILE or --count N with --inputs/--input, not both");
    return start_many_runs(context, o,
                           o.inputs_lines.empty()
                               ? std::vector<json>(static_cast<std::size_t>(o.count), run_inputs(o.inputs_json, o.input_pairs))
                               : run_inputs_lines(o.inputs_lines));
  }
  const json inputs = run_inputs(o.inputs_json, o.input_pairs);
  std::string graph;
  if (!o.file.empty()) {
    graph = read_json_file_or_stdin(o.file);
  }
  auto connection = context.connect();
  const auto key = unless_empty(o.idempotency_key);
  const auto [delay, at] = time_bound(o.start_at);
  const auto concurrency_key = unless_empty(o.concurrency_key);
  // The start's transaction ends here, before --wait opens its own on the same connection.
  const long long run_id = [&] {
    pqxx::nontransaction tx(*connection);
    const pqxx::result r =
        o.file.empty()
            ? tx.exec_params("SELECT adagio.start_workflow($1, $2::jsonb, $3::int, $4, " + start_at_sql(5) +
                                 ", $7::int, $8, $9::int)",
                             o.workflow, inputs.dump(), o.version > 0 ? std::optional<int>(o.version) : std::nullopt,
                             key, delay, at, o.priority, concurrency_key, o.concurrency_limit)
            : tx.exec_params("SELECT adagio.start_run($1::jsonb, $2::jsonb, $3, " + start_at_sql(4) + ", $6::int, $7, $8::int)",
                             graph, inputs.dump(), key, delay, at, o.priority, concurrency_key, o.concurrency_limit);
    return r[0][0].as<long long>();
  }();
  std::cout << run_id << std::endl;
  if (!o.wait) return exit_code::ok;
  return wait_for_run(*connection, context, run_id, o.timeout);
}

struct ListOptions {
  std::string status;
  std::string since;
  std::string until;
  int limit = 20;
  std::string format = "table";
};

int list_runs(const Context& context, const ListOptions& o) {
  auto connection = context.connect();
  const auto [since_ago, since_at] = time_bound(o.since);
  const auto [until_ago, until_at] = time_bound(o.until);
  pqxx::nontransaction tx(*connection);
  const pqxx::result r = tx.exec_params(
      "SELECT id, coalesce(workflow, ''), status, coalesce(conclusion, ''), nodes, nodes - nodes_remaining,"
      "       to_char(created_at, 'YYYY-MM-DD HH24:MI:SS'),"
      "       extract(epoch FROM coalesce(finished_at, now()) - coalesce(started_at, created_at)) * 1000,"
      "       created_at, started_at, finished_at, start_at,"
      // Waiting: for its start time, or behind a run of its concurrency key (its status is running).
      "       status = 'running' AND (coalesce(start_at > now(), false)"
      "         OR adagio.concurrency_wait(l.id) > 0),"
      "       priority, concurrency_key"
      " FROM adagio.list_runs("
      "   since => coalesce(now() - make_interval(secs => $1::float8), $2::timestamptz),"
      "   until => coalesce(now() - make_interval(secs => $3::float8), $4::timestamptz),"
      "   max_runs => $5::int, status => $6) l",
      since_ago, since_at, until_ago, until_at, o.limit,
      unless_empty(o.status));
  if (o.format == "json") {
    json runs = json::array();
    for (const auto& row : r)
      runs.push_back({{"id", row[0].as<long long>()},
                      {"workflow", row[1].as<std::string>().empty() ? json() : json(row[1].as<std::string>())},
                      {"status", row[2].as<std::string>()},
                      {"conclusion", row[3].as<std::string>().empty() ? json() : json(row[3].as<std::string>())},
                      {"nodes", row[4].as<long long>()},
                      {"nodes_finished", row[5].as<long long>()},
                      {"created_at", row[8].as<std::string>()},
                      {"started_at", row[9].is_null() ? json() : json(row[9].as<std::string>())},
                      {"finished_at", row[10].is_null() ? json() : json(row[10].as<std::string>())},
                      {"start_at", row[11].is_null() ? json() : json(row[11].as<std::string>())},
                      {"priority", row[13].as<int>()},
                      {"concurrency_key", row[14].is_null() ? json() : json(row[14].as<std::string>())},
                      {"duration_ms", row[7].as<double>()}});
    std::cout << runs.dump(2) << "\n";
    return exit_code::ok;
  }
  const Style style = context.out();
  Table table({"ID", "WORKFLOW", "STATUS", "CONCLUSION", "NODES", "CREATED", "DURATION"});
  for (const auto& row : r)
    table.add_row({row[0].as<std::string>(), row[1].as<std::string>().empty() ? "-" : row[1].as<std::string>(),
                   // A run waiting for its start_at or its concurrency key shows so; its status is running.
                   style.state(row[12].as<bool>() ? "scheduled" : row[2].as<std::string>()),
                   row[3].as<std::string>().empty() ? "-" : style.state(row[3].as<std::string>()),
                   row[5].as<std::string>() + "/" + row[4].as<std::string>(), row[6].as<std::string>(),
                   format_duration_ms(row[7].as<double>())});
  if (table.empty()) {
    std::cerr << "no runs match\n";
    return exit_code::ok;
  }
  std::cout << table.render();
  return exit_code::ok;
}

json inspect(pqxx::connection& connection, long long run_id) {
  pqxx::nontransaction tx(connection);
  return json::parse(tx.exec_params("SELECT adagio.inspect_run($1)::text", run_id)[0][0].as<std::string>());
}

int show_run(const Context& context, long long run_id, const std::string& format) {
  auto connection = context.connect();
  const json run = inspect(*connection, run_id);
  if (format == "json") std::cout << run.dump(2) << "\n";
  else if (format == "dot") std::cout << render_run_dot(run);
  else if (format == "mermaid") std::cout << render_run_mermaid(run);
  else std::cout << render_run_table(run, context.out());
  return exit_code::ok;
}

// cancel and retry: one SQL function each, returning a JSON summary.
json run_action(const Context& context, const char* function, long long run_id) {
  auto connection = context.connect();
  pqxx::nontransaction tx(*connection);
  return json::parse(
      tx.exec_params(std::string("SELECT adagio.") + function + "($1)::text", run_id)[0][0].as<std::string>());
}

CLI::Option* add_run_id(CLI::App* command, long long& run_id) {
  return command->add_option("ID", run_id, "run id")->required()->check(integer_at_least(1));
}

}  // namespace

void add_run_commands(CLI::App& app, Context& context) {
  auto* run = app.add_subcommand("run", "start, list, show, patch, cancel and retry runs; conclude a node by hand");
  run->require_subcommand(1);

  auto start_options = std::make_shared<StartOptions>();
  auto* start = run->add_subcommand("start", "start a run of a graph (a GraphSpec JSON file, - for stdin) or a stored workflow; prints its id");
  start->add_option("FILE", start_options->file, "graph JSON file, or - to read standard input");
  start->add_option("--workflow,-w", start_options->workflow, "start the stored workflow NAME instead of a file");
  start->add_option("--version", start_options->version, "workflow version (default: the newest)")
      ->check(integer_at_least(1));
  start->add_option("--inputs", start_options->inputs_json, "run inputs as a JSON object, or @FILE");
  start->add_option("--input,-i", start_options->input_pairs, "one run input KEY=VALUE (repeatable; VALUE may be JSON)");
  start->add_option("--count,-n", start_options->count,
                    "with --workflow: start N runs with the same inputs in one call; prints one id per line")
      ->check(CLI::Range(1L, 1000000L));
  start->add_option("--inputs-lines", start_options->inputs_lines,
                    "with --workflow: start one run per line of FILE (- for stdin), each a JSON object of inputs");
  start->add_option("--idempotency-key,-k", start_options->idempotency_key,
                    "name the run: the same command again (a retry) prints the run it started, and starts nothing;"
                    " with --count or --inputs-lines the runs are KEY-1, KEY-2, ...");
  start->add_option("--start-at,--at", start_options->start_at,
                    "start the run(s) later: a timestamp, or a duration from now (30s, 10m, 2h, 1d)");
  start->add_option("--priority,-p", start_options->priority,
                    "the run's place in the queue: higher runs first, -1000 to 1000 (default 0)");
  start->add_option("--concurrency-key", start_options->concurrency_key,
                    "run at most --concurrency-limit at a time with the other runs of this key, in the order started");
  start->add_option("--concurrency-limit", start_options->concurrency_limit,
                    "with --concurrency-key: how many runs of the key may go at a time (default 1)");
  auto* start_wait = start->add_flag("--wait", start_options->wait,
                  "show progress until the run finishes; exit 1 if it failed or was cancelled");
  start->add_option("--timeout", start_options->timeout, "with --wait: give up after SECONDS (exit 7)")
      ->check(CLI::NonNegativeNumber)
      ->needs(start_wait);
  start->callback([&context, start_options] { context.exit_code = start_run(context, *start_options); });

  auto list_options = std::make_shared<ListOptions>();
  auto* ls = run->add_subcommand("ls", "list runs, newest first");
  ls->alias("list");
  ls->add_option("--status,-s", list_options->status, "only runs with this status")
      ->check(CLI::IsMember({"running", "completed", "cancelled"}));
  ls->add_option("--since", list_options->since, "created at or after: a timestamp, or a duration ago (30m, 2h, 7d)");
  ls->add_option("--until", list_options->until, "created before: a timestamp, or a duration ago");
  ls->add_option("--limit,-n", list_options->limit, "at most this many runs")->capture_default_str()->check(CLI::Range(1, 100000));
  ls->add_option("--format,-o", list_options->format, "table or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));
  ls->callback([&context, list_options] { context.exit_code = list_runs(context, *list_options); });

  auto show_id = std::make_shared<long long>(0);
  auto show_format = std::make_shared<std::string>("table");
  auto* show = run->add_subcommand("show", "show one run: its nodes, states, attempts, durations and outputs");
  add_run_id(show, *show_id);
  show->add_option("--format,-o", *show_format, "table, json, dot (Graphviz) or mermaid")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json", "dot", "mermaid"}));
  show->callback([&context, show_id, show_format] { context.exit_code = show_run(context, *show_id, *show_format); });

  auto patch_id = std::make_shared<long long>(0);
  auto patch_file = std::make_shared<std::string>();
  auto* patch = run->add_subcommand(
      "patch", "add nodes, and edges that end at them, to a running run (a GraphPatch JSON file, - for stdin)");
  add_run_id(patch, *patch_id);
  patch->add_option("FILE", *patch_file, "the patch: {\"nodes\": [...], \"edges\": [...]} or JSON Patch operations, - for stdin")->required();
  patch->callback([&context, patch_id, patch_file] {
    const std::string text = read_json_file_or_stdin(*patch_file);
    auto connection = context.connect();
    pqxx::nontransaction tx(*connection);
    const json r = json::parse(
        tx.exec_params("SELECT adagio.patch_run($1, $2::jsonb)::text", *patch_id, text)[0][0].as<std::string>());
    std::string added;
    for (const json& name : r.value("nodes", json::array())) added += (added.empty() ? "" : ", ") + name.get<std::string>();
    std::cout << "run " << *patch_id << " patched (patch " << r.value("patch", 0) << "): added " << added << "\n";
  });

  auto cancel_id = std::make_shared<long long>(0);
  auto* cancel = run->add_subcommand("cancel", "cancel a run: unfinished nodes stop, running work is told at its next heartbeat");
  add_run_id(cancel, *cancel_id);
  cancel->callback([&context, cancel_id] {
    const json r = run_action(context, "cancel_run", *cancel_id);
    const auto counted = [](long long n, const char* one, const char* many) {
      return std::to_string(n) + " " + (n == 1 ? one : many);
    };
    std::cout << "run " << *cancel_id << " cancelled: "
              << counted(r.value("nodes_cancelled", 0LL), "node", "nodes") << " cancelled, "
              << counted(r.value("attempts_stopped", 0LL), "running attempt", "running attempts") << " stopped\n";
  });

  // An operator ends a node as its function would have (adagio.conclude_node()).
  struct Concluding {
    long long run_id = 0;
    std::string node, conclusion = "success", output;
  };
  auto concluding = std::make_shared<Concluding>();
  auto* conclude = run->add_subcommand(
      "conclude", "conclude a ready, backing-off or running node by hand, as its function would have (its retry policy applies)");
  add_run_id(conclude, concluding->run_id);
  conclude->add_option("NODE", concluding->node, "the node")->required();
  conclude->add_option("--as", concluding->conclusion, "success, fail or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"success", "fail", "error"}));
  auto* output_opt = conclude->add_option("--output", concluding->output, "the node's output (with success: passed downstream)");
  conclude->callback([&context, concluding, output_opt] {
    auto connection = context.connect();
    pqxx::nontransaction tx(*connection);
    const bool has_output = output_opt->count() > 0;
    const json r = json::parse(
        tx.exec_params("SELECT adagio.conclude_node($1, $2, $3, $4)::text", concluding->run_id, concluding->node,
                       concluding->conclusion, has_output ? std::optional<std::string>(concluding->output) : std::nullopt)[0][0]
            .as<std::string>());
    std::cout << "node " << concluding->node << " of run " << concluding->run_id << " concluded "
              << concluding->conclusion << ": " << r.value("outcome", std::string("?")) << "\n";
  });

  auto retry_id = std::make_shared<long long>(0);
  auto retry_wait = std::make_shared<bool>(false);
  auto retry_timeout = std::make_shared<double>(0);
  auto retry_from = std::make_shared<std::vector<std::string>>();
  auto* retry = run->add_subcommand(
      "retry", "start a failed or cancelled run again from the nodes that did not succeed (--from: and from these nodes)");
  add_run_id(retry, *retry_id);
  retry->add_option("--from", *retry_from,
                    "a node to run again although it succeeded, with everything downstream of it (repeatable; then a "
                    "run that succeeded may be retried too)");
  auto* retry_wait_flag =
      retry->add_flag("--wait", *retry_wait, "show progress until the run finishes; exit 1 if it failed again");
  retry->add_option("--timeout", *retry_timeout, "with --wait: give up after SECONDS (exit 7)")
      ->check(CLI::NonNegativeNumber)
      ->needs(retry_wait_flag);
  retry->callback([&context, retry_id, retry_wait, retry_timeout, retry_from] {
    json r;
    {
      auto connection = context.connect();
      pqxx::nontransaction tx(*connection);
      r = json::parse(tx.exec_params("SELECT adagio.retry_run($1, ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))::text",
                                     *retry_id, json(*retry_from).dump())[0][0]
                          .as<std::string>());
    }
    std::cout << "run " << *retry_id << " retried: " << r.value("nodes_reset", 0) << " nodes to run again, "
              << r.value("nodes_ready", 0) << " ready now" << std::endl;
    if (*retry_wait) {
      auto connection = context.connect();
      context.exit_code = wait_for_run(*connection, context, *retry_id, *retry_timeout);
    }
  });
}

}  // namespace adagio::cli
