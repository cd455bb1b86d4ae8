// Wake-ups for workers and followers. One channel per runtime, so a worker hears only what it can
// run. Run ids travel as a comma-separated list, one notification per call rather than one per
// run: a batch of 500 reports would otherwise queue 1,000 notifications, each a hash look-up now
// and a queue entry at commit (measured: a fifth of flat throughput).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace adagio::pg {

// "adagio.ready.<runtime>": nodes of that runtime became claimable.
void notify_ready(const std::string& runtime);
// "adagio.run_finished" with the ids of runs that just finished: for clients waiting on a run.
void notify_runs_finished(const std::vector<std::int64_t>& run_ids);
// "adagio.events" with the ids of runs whose timelines grew (unless adagio.notify_events is off).
void notify_events(const std::vector<std::int64_t>& run_ids);

// The payloads for a list of run ids: comma-separated, each under Postgres's 8000-byte limit.
std::vector<std::string> run_id_payloads(const std::vector<std::int64_t>& run_ids);

}  // namespace adagio::pg
