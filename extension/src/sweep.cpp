// One sweep: claims whose lease lapsed become error attempts ("orphaned") and the retry rules
// apply; agents silent for too long are marked gone; retries whose backoff is over become ready.
// The background worker calls this on a timer; without it, call adagio.sweep() from pg_cron.
#include "args.hpp"
#include "attempts.hpp"
#include "notify.hpp"
#include "pg_guard.hpp"
#include "settings.hpp"
#include "spi.hpp"

#include <nlohmann/json.hpp>

#include <set>
#include <string>

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_sweep);

Datum adagio_sweep(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    SpiSession spi;
    // SKIP LOCKED: a node locked right now is being reported or heartbeated; it is not orphaned.
    // The time comes from a subquery: compared with a volatile clock_timestamp() itself, the
    // index scan could not use it as a bound, and each sweep read every running node (and every
    // scheduled one, below) to find the few whose time has come.
    auto lapsed = spi.query(
        "SELECT n.id, n.run_id, n.name, n.spec::text, coalesce(a.name, 'agent ' || n.claimed_by),"
        "       n.claimed_by, n.lease_expires_at, n.graph_id"
        " FROM adagio.nodes n LEFT JOIN adagio.agents a ON a.id = n.claimed_by"
        " WHERE n.state = 'running' AND n.lease_expires_at < (SELECT clock_timestamp())"
        " ORDER BY n.lease_expires_at LIMIT 1000"
        " FOR UPDATE OF n SKIP LOCKED",
        {}, SpiSession::Planning::each_call);
    for (const Row& row : lapsed) {
      const HeldNode node{row.text(0), row.text(1), row.integer(7), row.text(2), node_spec_from(row.text(3))};
      const std::string reason = "orphaned: " + row.text(4) + " (id " + row.text(5) +
                                 ") missed its lease, which expired at " + row.text(6);
      record_attempt(spi, node, {adagio::Conclusion::error, std::nullopt, reason});
    }

    auto gone = spi.query(
        "UPDATE adagio.agents SET status = 'gone'"
        " WHERE status = 'active' AND last_seen_at < now() - make_interval(secs => $1::int) RETURNING id",
        {std::to_string(agent_timeout_seconds)}, SpiSession::Planning::each_call);

    auto due = spi.query(
        "WITH due AS ("
        "   UPDATE adagio.nodes SET state = 'ready'"
        "   WHERE id IN (SELECT id FROM adagio.nodes WHERE state = 'scheduled' AND ready_at <= (SELECT clock_timestamp())"
        "                FOR UPDATE SKIP LOCKED)"
        "   RETURNING run_id, name, runtime),"
        " logged AS ("
        "   INSERT INTO adagio.events (run_id, node, kind, detail)"
        "   SELECT run_id, name, 'node_ready', '{\"after\": \"backoff\"}'::jsonb FROM due)"
        " SELECT runtime, run_id FROM due",
        {}, SpiSession::Planning::each_call);
    std::set<std::string> runtimes;
    std::set<std::int64_t> runs;
    for (const Row& row : due) {
      runtimes.insert(row.text(0));
      runs.insert(row.integer(1));
    }
    for (const std::string& runtime : runtimes) notify_ready(runtime);
    notify_events(std::vector<std::int64_t>(runs.begin(), runs.end()));
    spi.finish();

    nlohmann::json summary = {
        {"orphaned", lapsed.size()}, {"agents_gone", gone.size()}, {"timers_fired", due.size()}};
    return jsonb_result(summary.dump());
  });
}

}  // extern "C"
