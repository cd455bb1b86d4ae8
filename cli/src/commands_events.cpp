// adagio events [--run ID] [--follow]: the timeline, and the live tail of it.
#include "adagio/cli/table.hpp"
#include "commands.hpp"
#include "validators.hpp"
#include "wakeup.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <optional>

namespace adagio::cli {
namespace {

using nlohmann::json;

struct EventsOptions {
  long long run_id = 0;
  long long after = 0;
  bool follow = false;
  int limit = 0;
  std::string format = "text";
};

std::string describe(const std::string& kind, const json& detail, const std::string& agent, long long attempt) {
  std::string text;
  if (!agent.empty()) text += "by " + agent;
  if (attempt > 0) text += (text.empty() ? "" : " ") + std::string("attempt ") + std::to_string(attempt);
  if (detail.is_object())
    for (const auto& [key, value] : detail.items()) {
      if (kind == "node_claimed" && key == "lease_expires_at") continue;  // noise in a timeline
      text += (text.empty() ? "" : " ") + key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
    }
  return text;
}

// Prints the events after `after` (of one run, or all); returns the last id printed and whether
// the run (when following one) has finished.
std::pair<long long, bool> print_batch(pqxx::connection& connection, const Context& context, const EventsOptions& o,
                                       long long after, int max_events) {
  pqxx::nontransaction tx(connection);
  const pqxx::result r = tx.exec_params(
      "SELECT v.id, v.run_id, coalesce(v.node, ''), v.kind, coalesce(a.name, ''), coalesce(v.attempt, 0),"
      "       coalesce(v.detail::text, 'null'), to_char(v.at, 'YYYY-MM-DD HH24:MI:SS.MS'), v.at::text, v.agent_id"
      " FROM adagio.events($1, $2, $3) v LEFT JOIN adagio.agents a ON a.id = v.agent_id ORDER BY v.id",
      after, o.run_id > 0 ? std::optional<long long>(o.run_id) : std::nullopt, max_events);
  const Style style = context.out();
  bool finished = false;
  for (const auto& row : r) {
    after = row[0].as<long long>();
    const std::string kind = row[3].as<std::string>();
    const json detail = json::parse(row[6].as<std::string>());
    if (o.format == "json") {
      std::cout << json{{"id", after},
                        {"run_id", row[1].as<long long>()},
                        {"node", row[2].as<std::string>().empty() ? json() : json(row[2].as<std::string>())},
                        {"kind", kind},
                        {"agent_id", row[9].is_null() ? json() : json(row[9].as<long long>())},
                        {"agent", row[4].as<std::string>().empty() ? json() : json(row[4].as<std::string>())},
                        {"attempt", row[5].as<long long>() > 0 ? json(row[5].as<long long>()) : json()},
                        {"detail", detail},
                        {"at", row[8].as<std::string>()}}
                       .dump()
                << "\n";
    } else {
      std::string kind_text = kind;
      if (kind == "run_completed") kind_text = style.state(detail.value("conclusion", "") == "success" ? "run_completed" : kind);
      if (kind == "attempt_finished") kind_text += " " + style.state(detail.value("conclusion", ""));
      std::cout << style.dim(row[7].as<std::string>()) << "  run " << row[1].as<std::string>() << "  "
                << (row[2].as<std::string>().empty() ? "" : row[2].as<std::string>() + "  ") << style.bold(kind_text);
      json rest = detail;
      if (kind == "attempt_finished" && rest.is_object()) rest.erase("conclusion");
      const std::string text = describe(kind, rest, row[4].as<std::string>(), row[5].as<long long>());
      if (!text.empty()) std::cout << "  " << text;
      std::cout << "\n";
    }
    if (o.run_id > 0 && (kind == "run_completed" || kind == "run_cancelled")) finished = true;
    if (o.run_id > 0 && kind == "run_retried") finished = false;
  }
  std::cout << std::flush;
  return {after, finished};
}

int show_events(const Context& context, const EventsOptions& o) {
  auto connection = context.connect();
  if (o.run_id > 0) {
    pqxx::nontransaction tx(*connection);
    if (tx.exec_params("SELECT 1 FROM adagio.runs WHERE id = $1", o.run_id).empty())
      throw CliError(exit_code::not_found, "run " + std::to_string(o.run_id) + " does not exist");
  }
  if (!o.follow) {
    long long after = o.after;
    int limit = o.limit > 0 ? o.limit : 1000000;
    if (o.run_id == 0 && o.after == 0) {
      // The whole log can be long: by default show its last 50 events, like a log viewer.
      limit = o.limit > 0 ? o.limit : 50;
      pqxx::nontransaction tx(*connection);
      after = tx.exec_params("SELECT coalesce(min(id) - 1, 0) FROM"
                             " (SELECT id FROM adagio.events ORDER BY id DESC LIMIT $1) last",
                             limit)[0][0].as<long long>();
    }
    print_batch(*connection, context, o, after, limit);
    return exit_code::ok;
  }
  // Listen first, then read: an event written in between is seen by the read or wakes us.
  Wakeup wakeup(*connection, "adagio.events");
  long long after = o.after;
  if (o.after == 0 && o.run_id == 0) {
    // Following everything starts at the end of the log, like tail -f.
    pqxx::nontransaction tx(*connection);
    after = tx.exec("SELECT coalesce(max(id), 0) FROM adagio.events")[0][0].as<long long>();
  }
  for (;;) {
    auto [last, finished] = print_batch(*connection, context, o, after, 1000);
    const bool more = last != after;
    after = last;
    if (finished) {
      // Stop once the followed run is over (unless it is running again already).
      pqxx::nontransaction tx(*connection);
      const std::string status =
          tx.exec_params("SELECT status FROM adagio.runs WHERE id = $1", o.run_id)[0][0].as<std::string>();
      if (status == "completed" || status == "cancelled") return exit_code::ok;
    }
    if (!more) connection->await_notification(1, 0);  // poll every second even without NOTIFY
  }
}

}  // namespace

void add_events_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<EventsOptions>();
  auto* events = app.add_subcommand("events", "the event log: what happened to runs, in order; --follow streams it");
  events->add_option("--run,-r", o->run_id, "only this run's events")->check(integer_at_least(1));
  events->add_flag("--follow,-f", o->follow,
                   "keep printing new events as they happen (with --run: until the run finishes)");
  events->add_option("--after", o->after, "only events with an id above this one")->check(integer_at_least(0));
  events->add_option("--limit,-n", o->limit, "without --follow: at most this many events (default: all of a run's, or the last 50 of the log)")->check(integer_at_least(1));
  events->add_option("--format,-o", o->format, "text, or json (one object per line)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  events->callback([&context, o] { context.exit_code = show_events(context, *o); });
}

}  // namespace adagio::cli
