#include "wait_run.hpp"
#include "wakeup.hpp"

#include "adagio/cli/duration.hpp"
#include "adagio/cli/progress.hpp"
#include "adagio/cli/table.hpp"

#include <unistd.h>

#include <chrono>
#include <iostream>

namespace adagio::cli {
namespace {

struct Snapshot {
  RunProgress progress;
  std::string conclusion;
  double duration_ms = 0;
};

Snapshot read_progress(pqxx::connection& connection, long long run_id) {
  pqxx::nontransaction tx(connection);
  const pqxx::result r = tx.exec_params(
      "SELECT r.status, coalesce(r.conclusion::text, ''), r.node_count,"
      "       count(*) FILTER (WHERE n.state IN ('completed', 'cancelled')),"
      "       count(*) FILTER (WHERE n.state = 'running'),"
      "       count(*) FILTER (WHERE n.state = 'completed' AND n.conclusion IN ('fail', 'error')),"
      "       count(*) FILTER (WHERE n.state = 'completed' AND n.conclusion = 'never_reached'),"
      "       count(*) FILTER (WHERE n.state IN ('ready', 'scheduled') AND n.attempt_count > n.retry_base),"
      "       extract(epoch FROM coalesce(r.finished_at, now()) - coalesce(r.started_at, r.created_at)) * 1000"
      " FROM adagio.runs r JOIN adagio.nodes n ON n.run_id = r.id WHERE r.id = $1 GROUP BY r.id",
      run_id);
  if (r.empty()) throw CliError(exit_code::not_found, "run " + std::to_string(run_id) + " does not exist");
  Snapshot s;
  s.progress.status = r[0][0].as<std::string>();
  s.conclusion = r[0][1].as<std::string>();
  s.progress.total = r[0][2].as<long long>();
  s.progress.finished = r[0][3].as<long long>();
  s.progress.running = r[0][4].as<long long>();
  s.progress.failed = r[0][5].as<long long>();
  s.progress.never_reached = r[0][6].as<long long>();
  s.progress.retrying = r[0][7].as<long long>();
  s.duration_ms = r[0][8].as<double>();
  return s;
}

// What went wrong, for the closing lines of a failed run: each node that did not succeed.
void print_failures(pqxx::connection& connection, long long run_id, const Style& style) {
  pqxx::nontransaction tx(connection);
  const pqxx::result r = tx.exec_params(
      "SELECT n.name, n.conclusion, coalesce(t.reason, t.output, n.output, '')"
      " FROM adagio.nodes n LEFT JOIN adagio.attempts t ON t.node_id = n.id AND t.attempt = n.attempt_count"
      " WHERE n.run_id = $1 AND n.state = 'completed' AND n.conclusion IN ('fail', 'error') ORDER BY n.position",
      run_id);
  for (const auto& row : r)
    std::cout << "  " << row[0].as<std::string>() << ": " << style.state(row[1].as<std::string>()) << "  "
              << one_line(row[2].as<std::string>(), 100) << "\n";
}

}  // namespace

int wait_for_run(pqxx::connection& connection, const Context& context, long long run_id, double timeout_seconds) {
  Wakeup events(connection, "adagio.events");
  Wakeup finished(connection, "adagio.run_finished");
  const bool live = ::isatty(STDERR_FILENO) == 1;
  const auto start = std::chrono::steady_clock::now();
  long long last_printed = -1;
  auto last_print_time = start;
  Snapshot s;
  for (;;) {
    s = read_progress(connection, run_id);
    const bool done = s.progress.status == "completed" || s.progress.status == "cancelled";
    const auto now = std::chrono::steady_clock::now();
    if (live) {
      std::cerr << "\r" << render_progress(s.progress, 30) << "\033[K" << std::flush;
    } else if (s.progress.finished != last_printed && (done || now - last_print_time >= std::chrono::seconds(1))) {
      // Not a terminal (a log, CI): a plain line when something changed, at most once a second.
      std::cerr << render_progress(s.progress, 30) << "\n";
      last_printed = s.progress.finished;
      last_print_time = now;
    }
    if (done) break;
    if (timeout_seconds > 0 && now - start >= std::chrono::duration<double>(timeout_seconds)) {
      if (live) std::cerr << "\n";
      throw CliError(exit_code::timed_out, "run " + std::to_string(run_id) + " is still " + s.progress.status +
                                               " after " + format_duration_ms(timeout_seconds * 1000),
                     "it goes on running; follow it with: adagio events --run " + std::to_string(run_id) + " --follow");
    }
    connection.await_notification(1, 0);
  }
  if (live) std::cerr << "\n";
  const Style out = context.out();
  const std::string outcome = s.progress.status == "cancelled" ? "cancelled" : s.conclusion;
  std::cout << "run " << run_id << " " << out.state(outcome == "success" ? "succeeded" : outcome) << " in "
            << format_duration_ms(s.duration_ms) << ": " << s.progress.finished << "/" << s.progress.total
            << " nodes finished";
  if (s.progress.failed > 0) std::cout << ", " << s.progress.failed << " failed";
  if (s.progress.never_reached > 0) std::cout << ", " << s.progress.never_reached << " never reached";
  std::cout << "\n";
  if (outcome != "success") print_failures(connection, run_id, out);
  return outcome == "success" ? exit_code::ok : exit_code::run_failed;
}

}  // namespace adagio::cli
