// adagio gate ls|approve|reject: approval gates, the nodes people decide.
#include "adagio/cli/duration.hpp"
#include "adagio/cli/run_render.hpp"
#include "adagio/cli/table.hpp"
#include "commands.hpp"
#include "validators.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <optional>

namespace adagio::cli {
namespace {

using nlohmann::json;

int list_gates(const Context& context, const std::string& format) {
  auto connection = context.connect();
  pqxx::nontransaction tx(*connection);
  const pqxx::result r = tx.exec(
      "SELECT json_build_object('run_id', run_id, 'node', node, 'workflow', workflow_name, 'opened_at', opened_at,"
      "   'deadline', deadline, 'attempt', attempt, 'metadata', metadata, 'inputs', inputs,"
      "   'open_ms', extract(epoch FROM now() - opened_at) * 1000)::text"
      " FROM adagio.open_gates ORDER BY opened_at, run_id, node");
  json gates = json::array();
  for (const auto& row : r) gates.push_back(json::parse(row[0].as<std::string>()));
  if (format == "json") {
    for (json& gate : gates) gate.erase("open_ms");
    std::cout << gates.dump(2) << "\n";
    return exit_code::ok;
  }
  if (gates.empty()) {
    std::cerr << "no approval gates are open\n";
    return exit_code::ok;
  }
  Table table({"RUN", "NODE", "ATTEMPT", "WORKFLOW", "OPEN FOR", "DEADLINE", "MESSAGE"});
  for (const json& gate : gates) {
    // A gate's metadata is free-form; "message" is what the graph's author asks the decider.
    std::string message;
    const json values = gate["metadata"].value("message", json::object()).value("values", json::array());
    for (const json& value : values) message += (message.empty() ? "" : " ") + value.get<std::string>();
    table.add_row({std::to_string(gate["run_id"].get<long long>()), gate["node"].get<std::string>(),
                   std::to_string(gate["attempt"].get<long long>()), gate["workflow"].is_string() ? gate["workflow"].get<std::string>() : "-",
                   format_duration_ms(gate["open_ms"].get<double>()),
                   gate["deadline"].is_string() ? short_timestamp(gate["deadline"]) : "-", message});
  }
  std::cout << table.render();
  return exit_code::ok;
}

struct Decision {
  long long run_id = 0;
  std::string node;
  std::string text;  // approve: the output; reject: the reason (none: empty)
  int attempt = 0;   // the attempt the decider saw open (0: whichever is open)
};

int decide(const Context& context, const Decision& d, bool approve) {
  auto connection = context.connect();
  pqxx::nontransaction tx(*connection);
  const json r = json::parse(
      tx.exec_params(std::string("SELECT adagio.") + (approve ? "approve" : "reject") + "($1, $2, $3, $4)::text", d.run_id,
                     d.node, d.text.empty() ? std::nullopt : std::optional<std::string>(d.text),
                     d.attempt > 0 ? std::optional<int>(d.attempt) : std::nullopt)[0][0]
          .as<std::string>());
  std::cout << "gate " << d.node << " of run " << d.run_id << (approve ? " approved" : " rejected");
  const std::string outcome = r.value("outcome", "");
  if (outcome == "retrying")
    std::cout << "; its retry policy opens it again"
              << (r.value("retry_at", json()).is_string() ? " at " + r["retry_at"].get<std::string>() : "");
  const std::string status = r.value("run_status", "");
  if (status == "completed")
    std::cout << "; run " << d.run_id << " completed: " << r.value("run_conclusion", json("")).get<std::string>();
  std::cout << "\n";
  return exit_code::ok;
}

}  // namespace

void add_gate_commands(CLI::App& app, Context& context) {
  auto* gate = app.add_subcommand("gate", "approval gates: list the open ones, approve or reject one");
  gate->require_subcommand(1);

  auto format = std::make_shared<std::string>("table");
  auto* ls = gate->add_subcommand("ls", "list open approval gates, oldest first");
  ls->alias("list");
  ls->add_option("--format,-o", *format, "table or json")->capture_default_str()->check(CLI::IsMember({"table", "json"}));
  ls->callback([&context, format] { context.exit_code = list_gates(context, *format); });

  for (const bool approve : {true, false}) {
    auto decision = std::make_shared<Decision>();
    auto* command = gate->add_subcommand(
        approve ? "approve" : "reject",
        approve ? "approve an open gate: it succeeds, and the nodes after it run"
                : "reject an open gate: a failed attempt; its retry policy decides whether it opens again");
    command->add_option("RUN", decision->run_id, "run id")->required()->check(integer_at_least(1));
    command->add_option("NODE", decision->node, "the gate's node name")->required();
    if (approve)
      command->add_option("--output", decision->text, "text passed downstream as the gate's output");
    else
      command->add_option("--reason,-r", decision->text, "why (kept as the attempt's output)");
    command->add_option("--attempt", decision->attempt,
                        "the attempt gate ls showed open: refused (exit 5) if the gate was decided and opened again since")
        ->check(integer_at_least(1));
    command->callback([&context, decision, approve] { context.exit_code = decide(context, *decision, approve); });
  }
}

}  // namespace adagio::cli
