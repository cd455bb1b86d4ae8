// Waiting for a run to finish, showing progress: wakes on NOTIFY (adagio.events,
// adagio.run_finished) and polls every second too, so a lost notification only delays it.
#pragma once

#include "context.hpp"

#include <pqxx/pqxx>

namespace adagio::cli {

// Returns the exit code: ok when the run completed with success, run_failed when it failed or
// was cancelled. Throws CliError(timed_out) after `timeout_seconds` (0: no limit).
int wait_for_run(pqxx::connection& connection, const Context& context, long long run_id, double timeout_seconds);

}  // namespace adagio::cli
