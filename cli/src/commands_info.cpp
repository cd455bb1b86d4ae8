// adagio agents | stats | graph validate | workflow define|ls|show
#include "adagio/cli/duration.hpp"
#include "adagio/cli/table.hpp"
#include "commands.hpp"
#include "inputs.hpp"

#include "adagio/graph_error.hpp"
#include "adagio/graph_json.hpp"
#include "adagio/topology.hpp"
#include "adagio/validate.hpp"

#include <algorithm>
#include <iostream>
#include <memory>

namespace adagio::cli {
namespace {

using nlohmann::json;

pqxx::result query(const Context& context, const std::string& sql) {
  auto connection = context.connect();
  pqxx::nontransaction tx(*connection);
  return tx.exec(sql);
}

int show_agents(const Context& context, const std::string& format, bool all) {
  const pqxx::result r = query(
      context,
      "SELECT id, name, array_to_string(runtimes, ','), status, to_char(last_seen_at, 'YYYY-MM-DD HH24:MI:SS'),"
      "       extract(epoch FROM now() - last_seen_at) * 1000, running, info::text, registered_at::text,"
      "       last_seen_at::text"
      " FROM adagio.list_agents()" +
          std::string(all ? "" : " WHERE status = 'active'"));
  if (format == "json") {
    json agents = json::array();
    for (const auto& row : r) {
      json runtimes = json::array();
      const std::string list = row[2].as<std::string>();
      for (std::size_t start = 0; start <= list.size();) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        if (comma > start) runtimes.push_back(list.substr(start, comma - start));
        start = comma + 1;
      }
      agents.push_back({{"id", row[0].as<long long>()}, {"name", row[1].as<std::string>()}, {"runtimes", runtimes},
                        {"status", row[3].as<std::string>()}, {"registered_at", row[8].as<std::string>()},
                        {"last_seen_at", row[9].as<std::string>()}, {"running", row[6].as<long long>()},
                        {"info", json::parse(row[7].as<std::string>())}});
    }
    std::cout << agents.dump(2) << "\n";
    return exit_code::ok;
  }
  const Style style = context.out();
  Table table({"ID", "NAME", "RUNTIMES", "STATUS", "LAST SEEN", "RUNNING"});
  for (const auto& row : r) {
    const std::string status = row[3].as<std::string>();
    table.add_row({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   status == "active" ? style.green(status) : style.dim(status),
                   format_duration_ms(row[5].as<double>()) + " ago", row[6].as<std::string>()});
  }
  if (table.empty()) {
    std::cerr << (all ? "no agents have registered\n" : "no active agents (--all shows stopped and gone ones)\n");
    return exit_code::ok;
  }
  std::cout << table.render();
  return exit_code::ok;
}

int show_stats(const Context& context, const std::string& format) {
  const json stats = json::parse(query(context, "SELECT adagio.stats()::text")[0][0].as<std::string>());
  if (format == "json") {
    std::cout << stats.dump(2) << "\n";
    return exit_code::ok;
  }
  const Style style = context.out();
  auto line = [&](const char* label, const json& group, std::initializer_list<const char*> keys) {
    std::cout << style.bold(label);
    for (const char* key : keys) std::cout << "  " << key << " " << group.value(key, 0LL);
    std::cout << "\n";
  };
  line("runs  ", stats["runs"], {"total", "running", "completed", "cancelled", "succeeded", "failed"});
  line("nodes ", stats["nodes"], {"total", "waiting", "ready", "scheduled", "running", "completed", "cancelled"});
  line("ended ", stats["node_conclusions"], {"success", "fail", "error", "never_reached"});
  line("agents", stats["agents"], {"total", "active"});
  std::cout << style.bold("engine") << "  approval gates open " << stats.value("approval_gates_open", 0LL)
            << "  timers running " << stats.value("timers_running", 0LL) << "\n";
  return exit_code::ok;
}

// Offline: the same parser and rules the server runs, on a file, without a database.
int validate_graph_file(const std::string& path, const Context& context) {
  const std::string text = read_file_or_stdin(path);
  const std::string label = path == "-" ? "standard input" : path;
  try {
    const Graph graph = parse_graph(text);
    validate(graph);
    const Topology topology = build_topology(graph);
    // Layer = longest path from a root; the number of layers is the critical path length.
    std::vector<std::size_t> layer(graph.nodes.size(), 0);
    std::size_t layers = 0;
    for (std::size_t index : topology.order) {
      for (std::size_t up : topology.upstream[index]) layer[index] = std::max(layer[index], layer[up] + 1);
      layers = std::max(layers, layer[index] + 1);
    }
    std::size_t roots = 0;
    for (const auto& up : topology.upstream) roots += up.empty() ? 1 : 0;
    std::cout << label << ": " << context.out().green("valid") << ": " << graph.nodes.size() << " nodes, "
              << graph.edges.size() << " edges, " << roots << (roots == 1 ? " root, " : " roots, ") << layers
              << (layers == 1 ? " layer\n" : " layers\n");
    std::cout << "order:";
    for (std::size_t index : topology.order) std::cout << " " << graph.nodes[index].name;
    std::cout << "\n";
    return exit_code::ok;
  } catch (const GraphError& e) {
    throw CliError(exit_code::invalid_input, label + ": " + e.what());
  }
}

int define_workflow(const Context& context, const std::string& name, const std::string& path) {
  const std::string graph = read_json_file_or_stdin(path);
  auto connection = context.connect();
  pqxx::nontransaction tx(*connection);
  const int version = tx.exec_params("SELECT adagio.define_workflow($1, $2::jsonb)", name, graph)[0][0].as<int>();
  std::cout << "workflow " << name << " version " << version << "\n";
  return exit_code::ok;
}

int list_workflows(const Context& context, const std::string& format) {
  const pqxx::result r = query(context,
                               "SELECT name, latest_version, versions, nodes, runs,"
                               "       to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS'), updated_at::text"
                               " FROM adagio.list_workflows()");
  if (format == "json") {
    json workflows = json::array();
    for (const auto& row : r)
      workflows.push_back({{"name", row[0].as<std::string>()}, {"latest_version", row[1].as<int>()},
                           {"versions", row[2].as<int>()}, {"nodes", row[3].as<int>()}, {"runs", row[4].as<long long>()},
                           {"updated_at", row[6].as<std::string>()}});
    std::cout << workflows.dump(2) << "\n";
    return exit_code::ok;
  }
  Table table({"NAME", "VERSION", "VERSIONS", "NODES", "RUNS", "UPDATED"});
  for (const auto& row : r)
    table.add_row({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   row[3].as<std::string>(), row[4].as<std::string>(), row[5].as<std::string>()});
  if (table.empty()) {
    std::cerr << "no workflows defined (adagio workflow define NAME FILE)\n";
    return exit_code::ok;
  }
  std::cout << table.render();
  return exit_code::ok;
}

// The graph a workflow's version runs (the newest without one), as stored: canonical GraphSpec
// JSON, which `workflow define` and `run start` take back as it is.
int show_workflow(const Context& context, const std::string& name, int version) {
  auto connection = context.connect();
  pqxx::nontransaction tx(*connection);
  const pqxx::result r = tx.exec_params(
      "SELECT version, jsonb_pretty(graph) FROM adagio.workflows"
      " WHERE name = $1 AND ($2::int = 0 OR version = $2::int) ORDER BY version DESC LIMIT 1",
      name, version);
  if (r.empty())
    throw CliError(exit_code::not_found,
                   version ? "workflow " + name + " has no version " + std::to_string(version)
                           : "no workflow named " + name,
                   "adagio workflow ls lists them");
  std::cerr << "workflow " << name << " version " << r[0][0].as<int>() << "\n";
  std::cout << r[0][1].as<std::string>() << "\n";
  return exit_code::ok;
}

CLI::Option* add_format(CLI::App* command, std::string& format) {
  return command->add_option("--format,-o", format, "table or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));
}

}  // namespace

void add_info_commands(CLI::App& app, Context& context) {
  auto agents_format = std::make_shared<std::string>("table");
  auto agents_all = std::make_shared<bool>(false);
  auto* agents = app.add_subcommand("agents", "list worker agents: runtimes, status, last contact, claims held");
  add_format(agents, *agents_format);
  agents->add_flag("--all,-a", *agents_all, "include stopped and gone agents");
  agents->callback([&context, agents_format, agents_all] {
    context.exit_code = show_agents(context, *agents_format, *agents_all);
  });

  auto stats_format = std::make_shared<std::string>("table");
  auto* stats = app.add_subcommand("stats", "counts of runs by status, nodes by state, agents");
  add_format(stats, *stats_format);
  stats->callback([&context, stats_format] { context.exit_code = show_stats(context, *stats_format); });

  auto* graph = app.add_subcommand("graph", "work with graph files offline");
  graph->require_subcommand(1);
  auto graph_file = std::make_shared<std::string>();
  auto* validate_command = graph->add_subcommand("validate", "check a graph file with the server's rules, without a database");
  validate_command->add_option("FILE", *graph_file, "graph JSON file, or - for standard input")->required();
  validate_command->callback([&context, graph_file] { context.exit_code = validate_graph_file(*graph_file, context); });

  auto* workflow = app.add_subcommand("workflow", "store graphs under a name, list and show them");
  workflow->require_subcommand(1);
  auto workflow_name = std::make_shared<std::string>();
  auto workflow_file = std::make_shared<std::string>();
  auto* define = workflow->add_subcommand("define", "store a graph as the next version of workflow NAME");
  define->add_option("NAME", *workflow_name, "workflow name")->required();
  define->add_option("FILE", *workflow_file, "graph JSON file, or - for standard input")->required();
  define->callback([&context, workflow_name, workflow_file] {
    context.exit_code = define_workflow(context, *workflow_name, *workflow_file);
  });
  auto workflows_format = std::make_shared<std::string>("table");
  auto* workflow_ls = workflow->add_subcommand("ls", "list stored workflows");
  workflow_ls->alias("list");
  add_format(workflow_ls, *workflows_format);
  workflow_ls->callback([&context, workflows_format] { context.exit_code = list_workflows(context, *workflows_format); });
  auto show_version = std::make_shared<int>(0);
  auto* show = workflow->add_subcommand("show", "print the graph of workflow NAME (its newest version, or --version)");
  show->add_option("NAME", *workflow_name, "workflow name")->required();
  show->add_option("--version", *show_version, "the version to print (default: the newest)")
      ->check(CLI::PositiveNumber);
  show->callback([&context, workflow_name, show_version] {
    context.exit_code = show_workflow(context, *workflow_name, *show_version);
  });
}

}  // namespace adagio::cli
