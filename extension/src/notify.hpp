// Wake-ups for workers. One channel per runtime, so a worker hears only what it can run;
// Postgres folds identical notifications within a transaction into one.
#pragma once

#include <cstdint>
#include <string>

namespace adagio::pg {

// "adagio.ready.<runtime>": nodes of that runtime became claimable.
void notify_ready(const std::string& runtime);
// "adagio.run_finished" with the run id: for clients waiting on a run.
void notify_run_finished(std::int64_t run_id);
// "adagio.events" with the run id: the run's timeline grew (once per transaction and run).
void notify_events(std::int64_t run_id);

}  // namespace adagio::pg
