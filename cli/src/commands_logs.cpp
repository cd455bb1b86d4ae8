// adagio logs RUN [--node NAME] [--follow]: what a run's nodes printed while they ran
// (adagio.node_logs, streamed by the workers), and the live tail of it.
#include "commands.hpp"
#include "validators.hpp"
#include "wakeup.hpp"

#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace adagio::cli {
namespace {

struct LogsOptions {
  long long run_id = 0;
  std::string node;
  bool follow = false;
  bool prefix = true;
};

// Writes chunks of several nodes as lines, each line of a run's mixed logs starting with its node's
// name; a chunk may end in the middle of a line, which the node's next chunk continues.
class LinePrinter {
 public:
  LinePrinter(const Style& style, bool prefix) : style_(style), prefix_(prefix) {}

  void print(const std::string& node, const std::string& text) {
    bool& at_start = at_line_start_.try_emplace(node, true).first->second;
    if (prefix_ && last_node_ && *last_node_ != node && !at_line_start_[*last_node_]) {
      std::cout << "\n";  // another node's line interrupts an unfinished one
      at_line_start_[*last_node_] = true;
    }
    for (char c : text) {
      if (at_start && prefix_) std::cout << style_.dim(node + " | ");
      std::cout << c;
      at_start = c == '\n';
    }
    last_node_ = node;
  }

  void finish() {
    if (last_node_ && !at_line_start_[*last_node_]) std::cout << "\n";
    std::cout << std::flush;
  }

 private:
  const Style& style_;
  bool prefix_;
  std::map<std::string, bool> at_line_start_;
  std::optional<std::string> last_node_;
};

// Prints the chunks after `after`; returns the last id printed.
long long print_batch(pqxx::connection& connection, const LogsOptions& o, LinePrinter& printer, long long after) {
  pqxx::nontransaction tx(connection);
  const pqxx::result r = tx.exec_params("SELECT id, node, text FROM adagio.logs($1, $2, $3, 1000)", o.run_id,
                                        o.node.empty() ? std::nullopt : std::optional<std::string>(o.node), after);
  for (const auto& row : r) {
    after = row[0].as<long long>();
    printer.print(row[1].as<std::string>(), row[2].as<std::string>());
  }
  std::cout << std::flush;
  return after;
}

std::string run_status(pqxx::connection& connection, const LogsOptions& o) {
  pqxx::nontransaction tx(connection);
  const pqxx::result run = tx.exec_params("SELECT status::text FROM adagio.runs WHERE id = $1", o.run_id);
  if (run.empty()) throw CliError(exit_code::not_found, "run " + std::to_string(o.run_id) + " does not exist");
  if (!o.node.empty() &&
      tx.exec_params("SELECT 1 FROM adagio.nodes WHERE run_id = $1 AND name = $2", o.run_id, o.node).empty())
    throw CliError(exit_code::not_found, "run " + std::to_string(o.run_id) + " has no node \"" + o.node + "\"");
  return run[0][0].as<std::string>();
}

int show_logs(const Context& context, const LogsOptions& o) {
  auto connection = context.connect();
  const Style style = context.out();
  LinePrinter printer(style, o.prefix && o.node.empty());
  // Listen first, then read: a run's events (its end among them) wake the follower at once.
  std::optional<Wakeup> wakeup;
  if (o.follow) wakeup.emplace(*connection, "adagio.events");
  long long after = 0;
  for (;;) {
    const bool finished = run_status(*connection, o) != "running";  // read before the chunks: none is missed
    long long last;
    while ((last = print_batch(*connection, o, printer, after)) != after) after = last;
    if (!o.follow || finished) break;
    connection->await_notification(0, 500000);  // the workers send logs about once a second
  }
  printer.finish();
  return exit_code::ok;
}

}  // namespace

void add_logs_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<LogsOptions>();
  auto* logs = app.add_subcommand("logs", "what a run's nodes printed while they ran; --follow streams it");
  logs->add_option("RUN", o->run_id, "run id")->required()->check(integer_at_least(1));
  logs->add_option("--node,-n", o->node, "only this node's logs (printed as they are, without the node's name)");
  logs->add_flag("--follow,-f", o->follow, "keep printing as the nodes print, until the run finishes");
  logs->add_flag("!--no-prefix", o->prefix, "do not start each line with its node's name");
  logs->callback([&context, o] { context.exit_code = show_logs(context, *o); });
}

}  // namespace adagio::cli
