// One sweep: claims whose lease lapsed become error attempts ("orphaned") and the retry rules
// apply, and so do approval gates left open past their timeout; agents silent for too long are
// marked gone; retries whose backoff is over become ready; timers whose time has come succeed;
// runs past their graph's timeout are cancelled.
// The background worker calls this on a timer; without it, call adagio.sweep() from pg_cron.
#include "args.hpp"
#include "attempts.hpp"
#include "notify.hpp"
#include "pg_guard.hpp"
#include "settings.hpp"
#include "spi.hpp"
#include "successes.hpp"

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

namespace adagio::pg {
namespace {

// Runs `work` in a subtransaction: kept if it completes, rolled back (with all it wrote and
// notified) if it throws, `error` then saying why. Returns whether it was kept.
template <typename Work>
bool in_subtransaction(Work&& work, std::string& error) {
  MemoryContext context = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  pg_guard([&] {
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(context);
  });
  try {
    work();
    pg_guard([&] {
      ReleaseCurrentSubTransaction();
      MemoryContextSwitchTo(context);
      CurrentResourceOwner = owner;
    });
    return true;
  } catch (const std::exception& e) {
    error = e.what();  // before the rollback frees what it points to
    pg_guard([&] {
      RollbackAndReleaseCurrentSubTransaction();
      MemoryContextSwitchTo(context);
      CurrentResourceOwner = owner;
    });
    return false;
  }
}

struct Orphan {
  HeldNode node;
  std::string reason;
  // An approval gate past its deadline: open, not claimed, so it is claimed (with no agent) in
  // the subtransaction that concludes it; if that fails, it stays open for the next sweep.
  bool open_gate = false;
};

struct Concluded {
  long long claims = 0;
  long long gates = 0;
};

// Concludes the lapsed claims (and overdue gates), all in one subtransaction; if that fails, each
// in one of its own: one that cannot be concluded (a backoff too long for a timestamp once could
// not) is logged and left for the next sweep instead of failing every sweep of the database. (One
// subtransaction per claim always would overflow the 64 a backend's snapshot data holds when many
// claims lapse at once, slowing every other session's snapshots.)
Concluded conclude_orphans(SpiSession& spi, const std::vector<Orphan>& orphans) {
  auto conclude = [&spi](const Orphan& o) {
    if (o.open_gate) spi.query("SELECT adagio.claim_for_engine($1::bigint)", {o.node.node_id});
    record_attempt(spi, o.node, {adagio::Conclusion::error, std::nullopt, o.reason});
  };
  Concluded concluded;
  auto count = [&concluded](const Orphan& o) { ++(o.open_gate ? concluded.gates : concluded.claims); };
  std::string error;
  if (in_subtransaction([&] { for (const Orphan& o : orphans) conclude(o); }, error)) {
    for (const Orphan& o : orphans) count(o);
    return concluded;
  }
  for (const Orphan& o : orphans) {
    if (in_subtransaction([&] { conclude(o); }, error)) {
      count(o);
      continue;
    }
    const std::string which = "node \"" + o.node.name + "\" of run " + o.node.run_id;
    const char* what = o.open_gate ? "the approval gate past its deadline" : "the lapsed claim of";
    pg_guard([&] {
      ereport(WARNING, (errmsg("adagio: the sweep could not conclude %s %s: %s", what, which.c_str(), error.c_str()),
                        errhint("the node stays as it is and the next sweep tries again")));
    });
  }
  return concluded;
}

// Timers whose time has come succeed, through the batch statement that completes workers'
// successes: claimed for the engine, completed, their downstream nodes made ready. All in one
// subtransaction; if that fails, each in one of its own, as lapsed claims are concluded: one that
// cannot be finished is logged and waits for the next sweep, and the others go on.
long long finish_timers(SpiSession& spi) {
  auto due = spi.query(
      "SELECT n.id::text FROM adagio.nodes n WHERE n.state = 'ready' AND n.runtime = 'timer'"  // by nodes_engine_due
      "   AND adagio.engine_due_at(n.runtime, n.ready_at, n.spec) <= (SELECT clock_timestamp())"
      " ORDER BY adagio.engine_due_at(n.runtime, n.ready_at, n.spec) LIMIT 1000 FOR UPDATE SKIP LOCKED",
      {}, SpiSession::Planning::each_call);
  std::vector<Value> ids;
  for (const Row& row : due) ids.push_back(row.text(0));
  auto finish = [&spi](const std::vector<Value>& batch) {
    auto claimed = spi.query("SELECT adagio.claim_for_engine(t.id)::text FROM unnest($1::bigint[]) AS t(id)",
                             {array_literal(batch)});
    std::vector<Report> reports;
    for (const Row& row : claimed) reports.push_back(Report{row.text(0), adagio::Conclusion::success, std::nullopt});
    std::vector<const Report*> items;
    for (const Report& report : reports) items.push_back(&report);
    Tally tally;
    complete_successes(spi, items, nullptr, tally);
    return tally.succeeded;
  };
  long long finished = 0;
  std::string error;
  if (ids.empty() || in_subtransaction([&] { finished = finish(ids); }, error)) return finished;
  finished = 0;
  for (const Value& id : ids) {
    if (in_subtransaction([&] { finished += finish({id}); }, error)) continue;
    pg_guard([&] {
      ereport(WARNING, (errmsg("adagio: the sweep could not finish timer node %s: %s", id->c_str(), error.c_str()),
                        errhint("it waits for the next sweep")));
    });
  }
  return finished;
}

}  // namespace
}  // namespace adagio::pg

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
        "       n.claimed_by, n.lease_expires_at, n.graph_id,"
        // The node's timeout, if the lease ran out after it: the claim was not reported within it.
        "       CASE WHEN n.claimed_at + make_interval(secs => (n.spec ->> 'timeout_seconds')::float8)"
        "         < n.lease_expires_at THEN n.spec ->> 'timeout_seconds' END"
        " FROM adagio.nodes n LEFT JOIN adagio.agents a ON a.id = n.claimed_by"
        " WHERE n.state = 'running' AND n.lease_expires_at < (SELECT clock_timestamp())"
        " ORDER BY n.lease_expires_at LIMIT 1000"
        " FOR UPDATE OF n SKIP LOCKED",
        {}, SpiSession::Planning::each_call);
    std::vector<Orphan> orphans;
    for (const Row& row : lapsed) {
      const HeldNode node{row.text(0), row.text(1), row.integer(7), row.text(2), node_spec_from(row.text(3))};
      const std::string timeout = row.text(8);
      orphans.push_back({node, "orphaned: " + row.text(4) + " (id " + row.text(5) +
                                   (timeout.empty() ? ") missed its lease, which expired at "
                                                    : ") did not report within the node's timeout of " + timeout +
                                                          " s; its lease expired at ") +
                                   row.text(6)});
    }
    // Approval gates open for longer than their timeout_seconds: concluded as errors like lapsed
    // claims (so the gate's retry policy for error may open it again).
    auto overdue = spi.query(
        "SELECT n.id, n.run_id, n.name, n.spec::text, n.graph_id, n.spec ->> 'timeout_seconds' FROM adagio.nodes n"
        " WHERE n.state = 'ready' AND n.runtime = 'approval'"  // by nodes_engine_due, due ones only
        "   AND adagio.engine_due_at(n.runtime, n.ready_at, n.spec) < (SELECT clock_timestamp())"
        " ORDER BY adagio.engine_due_at(n.runtime, n.ready_at, n.spec) LIMIT 1000"
        " FOR UPDATE OF n SKIP LOCKED",
        {}, SpiSession::Planning::each_call);
    for (const Row& row : overdue) {
      const HeldNode node{row.text(0), row.text(1), row.integer(4), row.text(2), node_spec_from(row.text(3))};
      orphans.push_back({node, "not decided within the gate's timeout of " + row.text(5) + " s", true});
    }
    const Concluded concluded = orphans.empty() ? Concluded{} : conclude_orphans(spi, orphans);
    const long long not_concluded = static_cast<long long>(orphans.size()) - concluded.claims - concluded.gates;

    auto gone = spi.query(
        "UPDATE adagio.agents SET status = 'gone'"
        " WHERE status = 'active' AND last_seen_at < now() - make_interval(secs => $1::int) RETURNING id",
        {std::to_string(agent_timeout_seconds)}, SpiSession::Planning::each_call);

    auto due = spi.query(
        "WITH due AS ("
        "   UPDATE adagio.nodes SET state = 'ready'"
        "   WHERE id IN (SELECT id FROM adagio.nodes WHERE state = 'scheduled' AND ready_at <= (SELECT clock_timestamp())"
        "                FOR UPDATE SKIP LOCKED)"
        "   RETURNING run_id, name, runtime, attempt_count - retry_base AS attempts),"
        " logged AS ("
        "   INSERT INTO adagio.events (run_id, node, kind, detail)"
        "   SELECT run_id, name, 'node_ready',"
        // No attempt yet in this try of the run: a first node of a run started with start_at.
        "          jsonb_build_object('after', CASE WHEN attempts = 0 THEN 'start_at' ELSE 'backoff' END) FROM due)"
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

    const long long timers_done = finish_timers(spi);

    // Runs past their graph's timeout_seconds are cancelled (adagio.time_out_runs()).
    const long long runs_timed_out =
        spi.query("SELECT adagio.time_out_runs(1000)", {}, SpiSession::Planning::each_call).at(0).integer(0);

    // Runs of a concurrency key whose turn a release missed (adagio.start_waiting_runs_in_line()).
    const long long keys_started =
        spi.query("SELECT adagio.start_waiting_runs_in_line()", {}, SpiSession::Planning::each_call).at(0).integer(0);
    spi.finish();

    nlohmann::json summary = {
        {"orphaned", concluded.claims}, {"agents_gone", gone.size()}, {"timers_fired", due.size()}};
    if (concluded.gates > 0) summary["gates_expired"] = concluded.gates;
    if (timers_done > 0) summary["timer_nodes_succeeded"] = timers_done;
    if (not_concluded > 0) summary["not_concluded"] = not_concluded;  // each logged as a WARNING
    if (keys_started > 0) summary["concurrency_keys_started"] = keys_started;
    if (runs_timed_out > 0) summary["runs_timed_out"] = runs_timed_out;
    return jsonb_result(summary.dump());
  });
}

}  // extern "C"
