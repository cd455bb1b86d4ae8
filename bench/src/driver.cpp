// adagio-bench: sets up each benchmark workload and measures it from the database's own records.
// The worker processes are started by bench/run; this program only talks SQL (libpq environment:
// PGHOST, PGDATABASE, ...). Every subcommand prints one JSON object on stdout.
//
//   seed-flat N                 start N single-node runs (runtime noop)
//   seed-dag N WIDTH            start one run of N nodes in layers of WIDTH, each node depending on
//                               two nodes of the layer before; prints {"run_id": ...}
//   seed-chain N                start one run of an N-node chain (runtime stamp)
//   drained [RUN_ID]            throughput from the first claim to the last report (attempts view)
//   chain-hops RUN_ID           hop latency: a node's function start minus its upstream's end
//   starts SECONDS BATCH ROUNDS 10-node workflow runs started per second, one at a time and batched
//                               (each the median of ROUNDS spans of SECONDS)
//   graphile-adds SECONDS BATCH ROUNDS  the same for Graphile Worker jobs (database in GRAPHILE_DB)
//   steady SECONDS BACKLOG WINDOW [RETENTION]
//                               keep BACKLOG nodes ready (two producers) while workers drain; sample per WINDOW;
//                               the sweeper's retention (adagio.retention) keeps RETENTION s of finished runs
//                               (default 30); the windows that begin within it are a warm-up; SECONDS are
//                               measured after them
//   report DIR [--require-all]  merge DIR/*.json into one document and print the table; with --require-all,
//                               fail if a figure is missing or a drain left nodes unfinished (the smoke test)
#include "report.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const auto hi = static_cast<std::size_t>(std::ceil(rank));
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

json single_node_graph(const std::string& runtime) {
  return {{"nodes", json::array({{{"name", "only"}, {"runtime", runtime}}})}, {"edges", json::array()}};
}

// Starts `count` runs of `graph` in batches of one statement each, so seeding stays quick.
void start_runs(pqxx::connection& c, const json& graph, long count) {
  const std::string text = graph.dump();
  for (long done = 0; done < count;) {
    const long batch = std::min<long>(5000, count - done);
    pqxx::work tx(c);
    tx.exec_params("SELECT count(adagio.start_run($1::jsonb)) FROM generate_series(1, $2::int)", text, batch);
    tx.commit();
    done += batch;
  }
}

std::string node_name(long i) { return "n" + std::to_string(i); }

json seed_flat(long n) {
  pqxx::connection c;
  const auto t0 = steady::now();
  start_runs(c, single_node_graph("noop"), n);
  return {{"runs", n}, {"seed_seconds", seconds_since(t0)}};
}

json seed_dag(long n, long width) {
  json nodes = json::array(), edges = json::array();
  for (long i = 0; i < n; ++i) {
    nodes.push_back({{"name", node_name(i)}, {"runtime", "noop"}});
    const long layer = i / width, column = i % width;
    if (layer == 0) continue;
    const long above = (layer - 1) * width;
    edges.push_back({{"source", node_name(above + column)}, {"destination", node_name(i)}});
    edges.push_back({{"source", node_name(above + (column + 1) % width)}, {"destination", node_name(i)}});
  }
  pqxx::connection c;
  const auto t0 = steady::now();
  pqxx::work tx(c);
  auto r = tx.exec_params("SELECT adagio.start_run($1::jsonb)", json{{"nodes", nodes}, {"edges", edges}}.dump());
  tx.commit();
  return {{"run_id", r[0][0].as<long long>()}, {"nodes", n}, {"width", width}, {"seed_seconds", seconds_since(t0)}};
}

json seed_chain(long n) {
  json nodes = json::array(), edges = json::array();
  for (long i = 0; i < n; ++i) {
    nodes.push_back({{"name", node_name(i)}, {"runtime", "stamp"}});
    if (i > 0) edges.push_back({{"source", node_name(i - 1)}, {"destination", node_name(i)}});
  }
  pqxx::connection c;
  pqxx::work tx(c);
  auto r = tx.exec_params("SELECT adagio.start_run($1::jsonb)", json{{"nodes", nodes}, {"edges", edges}}.dump());
  tx.commit();
  return {{"run_id", r[0][0].as<long long>()}, {"nodes", n}};
}

// From the first claim to the last report, as the database recorded them: no process start-up,
// no polling delay in the measurement.
json drained(std::optional<long long> run_id) {
  pqxx::connection c;
  pqxx::work tx(c);
  auto r = tx.exec_params(
      "SELECT count(*), extract(epoch FROM max(finished_at) - min(started_at))::float8,"
      "       (SELECT count(*) FROM adagio.nodes WHERE state <> 'completed' AND ($1::bigint IS NULL OR run_id = $1))"
      " FROM adagio.attempts WHERE $1::bigint IS NULL OR run_id = $1",
      run_id ? std::optional<std::string>(std::to_string(*run_id)) : std::nullopt);
  const long long nodes = r[0][0].as<long long>();
  const double secs = r[0][1].is_null() ? 0 : r[0][1].as<double>();
  return {{"nodes", nodes},
          {"seconds", secs},
          {"nodes_per_s", secs > 0 ? static_cast<double>(nodes) / secs : 0},
          {"unfinished", r[0][2].as<long long>()}};
}

json chain_hops(long long run_id) {
  pqxx::connection c;
  pqxx::work tx(c);
  auto r = tx.exec_params("SELECT output FROM adagio.nodes WHERE run_id = $1 ORDER BY position", run_id);
  std::vector<double> hops;
  long long previous_end = -1;
  for (const auto& row : r) {
    long long start = 0, end = 0;
    if (row[0].is_null() || std::sscanf(row[0].c_str(), "%lld %lld", &start, &end) != 2)
      throw std::runtime_error("chain node without a stamp output: the chain did not finish");
    if (previous_end >= 0) hops.push_back(static_cast<double>(start - previous_end) / 1000.0);
    previous_end = end;
  }
  return {{"hops", hops.size()}, {"p50_ms", percentile(hops, 50)}, {"p99_ms", percentile(hops, 99)},
          {"mean_ms", hops.empty() ? 0 : std::accumulate(hops.begin(), hops.end(), 0.0) / hops.size()}};
}

// Runs `statement` (returning how many it started) again and again for `seconds`.
double rate_for(pqxx::connection& c, const std::string& statement, double seconds) {
  const auto t0 = steady::now();
  long long started = 0;
  while (seconds_since(t0) < seconds) {
    pqxx::work tx(c);
    started += tx.exec(statement)[0][0].as<long long>();
    tx.commit();
  }
  return static_cast<double>(started) / seconds_since(t0);
}

// One-at-a-time and batched rates, each the median of `rounds` spans of `seconds`, the two kinds
// in turn (one, batched, one, ...), so that a slow spell of this shared machine falls on both and
// the median drops it; the spans' own figures are kept beside it. Each span starts from the same
// state: `reset` empties what the spans before it wrote, then a checkpoint. (Without it the
// batched spans slowed as the rows piled up: 12,053, 8,725 and 7,655 runs/s in one full run.)
json starts_in_rounds(pqxx::connection& c, const std::string& one, const std::string& many, double seconds,
                      int rounds, const std::string& reset) {
  auto span = [&](const std::string& statement) {
    {
      pqxx::nontransaction tx(c);
      tx.exec(reset);
      tx.exec("CHECKPOINT");
    }
    return rate_for(c, statement, seconds);
  };
  std::vector<double> one_rates, many_rates;
  for (int round = 0; round < rounds; ++round) {
    one_rates.push_back(span(one));
    many_rates.push_back(span(many));
  }
  return {{"one_at_a_time_per_s", percentile(one_rates, 50)},
          {"batched_per_s", percentile(many_rates, 50)},
          {"of_spans", {{"one_at_a_time_per_s", one_rates}, {"batched_per_s", many_rates}}}};
}

json ten_node_graph() {
  // A small fan-out/fan-in: a -> b1..b8 -> z, the shape of a typical pipeline.
  json nodes = json::array({{{"name", "a"}, {"runtime", "noop"}}, {{"name", "z"}, {"runtime", "noop"}}});
  json edges = json::array();
  for (int i = 1; i <= 8; ++i) {
    const std::string b = "b" + std::to_string(i);
    nodes.push_back({{"name", b}, {"runtime", "noop"}});
    edges.push_back({{"source", "a"}, {"destination", b}});
    edges.push_back({{"source", b}, {"destination", "z"}});
  }
  return {{"nodes", nodes}, {"edges", edges}};
}

json starts(double seconds, long batch, int rounds) {
  pqxx::connection c;
  {
    pqxx::work tx(c);
    tx.exec_params("SELECT adagio.define_workflow('bench.ten', $1::jsonb)", ten_node_graph().dump());
    tx.commit();
  }
  const std::string one = "SELECT count(adagio.start_workflow('bench.ten'))";
  // A batch is one start_runs() call: the graph is parsed once and every table written set-based.
  const std::string many =
      "SELECT cardinality(adagio.start_runs('bench.ten', array_fill('{}'::jsonb, ARRAY[" + std::to_string(batch) + "])))";
  // The runs are not to be executed: each span starts without them, and so does the next workload.
  const std::string reset = "TRUNCATE adagio.runs, adagio.nodes, adagio.graphs, adagio.failed_attempts, adagio.events";
  json out = starts_in_rounds(c, one, many, seconds, rounds, reset);
  out["batch"] = batch;
  out["nodes_per_run"] = 10;
  pqxx::work tx(c);
  tx.exec(reset);
  tx.commit();
  return out;
}

json graphile_adds(double seconds, long batch, int rounds) {
  const char* db = std::getenv("GRAPHILE_DB");
  pqxx::connection c(std::string("dbname=") + (db ? db : "graphile"));
  const std::string one = "SELECT count(graphile_worker.add_job('noop', '{}'::json))";
  const std::string many =
      "SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(SELECT ROW('noop', '{}'::json, NULL, NULL, NULL, NULL, NULL,"
      " NULL)::graphile_worker.job_spec FROM generate_series(1, " + std::to_string(batch) + ")))";
  const std::string reset = "DELETE FROM graphile_worker._private_jobs";
  json out = starts_in_rounds(c, one, many, seconds, rounds, reset);
  out["batch"] = batch;
  pqxx::work tx(c);
  tx.exec(reset);
  tx.commit();
  return out;
}

long long scalar(pqxx::connection& c, const std::string& sql) {
  pqxx::nontransaction tx(c);
  return tx.exec(sql)[0][0].as<long long>();
}

// The flat workload held at a constant backlog while workers drain it. Producer threads keep
// about BACKLOG nodes ready; the engine's sweeper deletes finished runs older than RETENTION s every
// second (adagio.retention, set for the run and reset after it); a probe agent claims and
// completes a node twice a second and times both calls; every WINDOW seconds the throughput
// (started - still unfinished) is sampled. The windows that begin within the retention period
// are a warm-up, not measured: until the first runs are RETENTION s old nothing is purged, the tables are
// new (no dirty pages to write back, little to vacuum), and in every run those windows drained
// about a fifth faster than any later one, which made the first minute a start-up transient rather
// than the steady state. They are kept, marked, in the samples; the measured windows cover SECONDS.
json steady_state(double seconds, long backlog, double window, int retention_s) {
  std::atomic<bool> stop{false};
  std::atomic<long long> started{0};
  // The fewest ready nodes a producer saw in the current window: whether they kept the backlog.
  std::atomic<long long> ready_min{std::numeric_limits<long long>::max()};
  // Two producers: one alone, sharing the cores with the drain, fell behind it.
  const int producers = 2;
  {
    pqxx::connection c;
    pqxx::work tx(c);
    tx.exec_params("SELECT adagio.define_workflow('bench.single', $1::jsonb)", single_node_graph("noop").dump());
    tx.commit();
  }
  auto produce = [&] {
    pqxx::connection c;
    while (!stop) {
      // nodes_ready's own condition: a count from the index, not a scan of every node
      const long long ready = scalar(c, "SELECT count(*) FROM adagio.nodes WHERE state = 'ready' AND runtime NOT IN ('approval', 'timer')");
      for (long long seen = ready_min; ready < seen && !ready_min.compare_exchange_weak(seen, ready);) {
      }
      if (ready < backlog) {
        const long batch = std::min<long>(2000, backlog - ready);
        pqxx::work tx(c);
        tx.exec_params("SELECT adagio.start_runs('bench.single', array_fill('{}'::jsonb, ARRAY[$1::int]))", batch);
        tx.commit();
        started += batch;
      } else {
        // Counting 20,000 ready nodes takes a few ms: at 50 counts a second (20 ms) the producers'
        // polling took a tenth of the two cores from the drain. The drain takes about 800 nodes
        // in 100 ms, so the backlog still holds.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  };
  std::mutex error_mutex;
  std::string helper_error;  // the first producer's
  auto guarded = [&](auto body) {
    return [&, body] {
      try {
        body();
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (helper_error.empty()) helper_error = e.what();
      }
    };
  };
  std::vector<std::thread> helpers;
  // Whatever happens to the probe, the helpers stop and are joined before the stack unwinds.
  struct Joiner {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~Joiner() {
      stop = true;
      for (auto& t : threads)
        if (t.joinable()) t.join();
    }
  } joiner{stop, helpers};
  pqxx::connection c;
  const long long runs_before = scalar(c, "SELECT count(*) FROM adagio.runs");
  // WAL written and checkpoints begun during the run: a checkpoint's full-page writes slow the
  // windows after it, and at this rate the WAL alone can set one off (max_wal_size).
  const std::string wal_before = [&] {
    pqxx::nontransaction tx(c);
    return tx.exec("SELECT pg_current_wal_lsn()::text")[0][0].as<std::string>();
  }();
  const char* checkpoints_sql = "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter";
  const long long checkpoints_before = scalar(c, checkpoints_sql);
  // Set for the server (the sweeper reads it on reload) and reset however this function ends.
  struct Retention {
    pqxx::connection& c;
    void set(const std::string& value) {
      pqxx::nontransaction tx(c);
      tx.exec(value.empty() ? "ALTER SYSTEM RESET adagio.retention"
                            : "ALTER SYSTEM SET adagio.retention = " + tx.quote(value));
      tx.exec("SELECT pg_reload_conf()");
    }
    ~Retention() {
      try {
        set("");
      } catch (...) {
      }
    }
  } retention{c};
  retention.set(std::to_string(retention_s) + "s");
  for (int i = 0; i < producers; ++i) helpers.emplace_back(guarded(produce));

  long long agent = 0;
  {
    pqxx::work tx(c);
    agent = tx.exec("SELECT adagio.register_agent('bench-probe', ARRAY['noop'])")[0][0].as<long long>();
    tx.commit();
  }
  c.prepare("claim", "SELECT adagio.claim($1, 1)::text");
  c.prepare("complete", "SELECT adagio.complete($1::uuid, 'success', NULL)");
  auto unfinished = [&] {
    return scalar(c, "SELECT (SELECT count(*) FROM adagio.nodes WHERE state = 'ready' AND runtime NOT IN ('approval', 'timer'))"
                     " + (SELECT count(*) FROM adagio.nodes WHERE state = 'running')");
  };

  json samples = json::array();
  const auto t0 = steady::now();
  auto window_start = t0;
  long long done_before = started - unfinished();
  std::vector<double> claim_ms, complete_ms;
  while (seconds_since(t0) < retention_s + window + seconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    {
      const auto a = steady::now();
      pqxx::nontransaction tx(c);
      const json claims = json::parse(tx.exec_prepared("claim", agent)[0][0].c_str());
      const auto b = steady::now();
      claim_ms.push_back(std::chrono::duration<double, std::milli>(b - a).count());
      if (!claims.empty()) {
        tx.exec_prepared("complete", claims[0].at("claim_token").get<std::string>());
        complete_ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - b).count());
      }
    }
    if (std::chrono::duration<double>(steady::now() - window_start).count() >= window) {
      const long long done_now = started - unfinished();
      const double secs = std::chrono::duration<double>(steady::now() - window_start).count();
      samples.push_back({{"at_s", seconds_since(t0)},
                         {"warmup", std::chrono::duration<double>(window_start - t0).count() < retention_s},
                         {"nodes_per_s", static_cast<double>(done_now - done_before) / secs},
                         {"claim_p50_ms", percentile(claim_ms, 50)},
                         {"claim_p99_ms", percentile(claim_ms, 99)},
                         {"complete_p50_ms", percentile(complete_ms, 50)},
                         {"ready_min", ready_min.exchange(std::numeric_limits<long long>::max())}});
      std::cerr << "steady: " << samples.back().dump() << "\n";
      done_before = done_now;
      window_start = steady::now();
      claim_ms.clear();
      complete_ms.clear();
    }
  }
  stop = true;
  for (auto& t : helpers) t.join();
  if (!helper_error.empty()) throw std::runtime_error("steady: producer: " + helper_error);

  // The first and the last minute (or quarter, for a shorter run) after the warm-up, as whole
  // windows; and, for comparison, the first minute from the start, warm-up included.
  const double span = std::min(60.0, seconds / 4);
  const std::size_t k = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(span / window)));
  std::size_t warm = 0;  // the warm-up's windows, at the front
  while (warm < samples.size() && samples[warm].at("warmup").get<bool>()) ++warm;
  auto average_of = [&](std::size_t from, std::size_t to, const char* key) {
    double sum = 0;
    std::size_t n = 0;
    for (std::size_t i = from; i < std::min(to, samples.size()); ++i) sum += samples[i].at(key).get<double>(), ++n;
    return n ? sum / static_cast<double>(n) : 0.0;
  };
  auto average = [&](bool first, const char* key) {
    return first ? average_of(warm, warm + k, key)
                 : average_of(samples.size() - std::min(k, samples.size() - warm), samples.size(), key);
  };
  json out = {{"seconds", seconds},
              {"backlog", backlog},
              {"span_s", span},
              {"nodes_started", started.load()},
              {"retention_s", retention_s},
              {"runs_purged", runs_before + started.load() - scalar(c, "SELECT count(*) FROM adagio.runs")},
              {"wal_mb", scalar(c, "SELECT (pg_current_wal_lsn() - '" + wal_before + "'::pg_lsn)::bigint / 1048576")},
              {"checkpoints", scalar(c, checkpoints_sql) - checkpoints_before},
              {"first", {{"nodes_per_s", average(true, "nodes_per_s")}, {"claim_p50_ms", average(true, "claim_p50_ms")}}},
              {"last", {{"nodes_per_s", average(false, "nodes_per_s")}, {"claim_p50_ms", average(false, "claim_p50_ms")}}},
              {"first_from_start",
               {{"nodes_per_s", average_of(0, k, "nodes_per_s")}, {"claim_p50_ms", average_of(0, k, "claim_p50_ms")}}},
              {"samples", samples}};
  out["rows"] = {{"runs", scalar(c, "SELECT count(*) FROM adagio.runs")},
                 {"nodes", scalar(c, "SELECT count(*) FROM adagio.nodes")},
                 {"attempts", scalar(c, "SELECT count(*) FROM adagio.attempts")},
                 {"events", scalar(c, "SELECT count(*) FROM adagio.events")}};
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> a(argv + 1, argv + argc);
    auto need = [&](std::size_t n) {
      if (a.size() < n + 1) throw std::invalid_argument("missing arguments; see the comment at the top of driver.cpp");
    };
    if (a.empty()) throw std::invalid_argument("usage: adagio-bench SUBCOMMAND ...");
    json out;
    const std::string& cmd = a[0];
    if (cmd == "seed-flat") need(1), out = seed_flat(std::stol(a[1]));
    else if (cmd == "seed-dag") need(2), out = seed_dag(std::stol(a[1]), std::stol(a[2]));
    else if (cmd == "seed-chain") need(1), out = seed_chain(std::stol(a[1]));
    else if (cmd == "drained") out = drained(a.size() > 1 ? std::optional<long long>(std::stoll(a[1])) : std::nullopt);
    else if (cmd == "chain-hops") need(1), out = chain_hops(std::stoll(a[1]));
    else if (cmd == "starts") need(3), out = starts(std::stod(a[1]), std::stol(a[2]), std::stoi(a[3]));
    else if (cmd == "graphile-adds") need(3), out = graphile_adds(std::stod(a[1]), std::stol(a[2]), std::stoi(a[3]));
    else if (cmd == "steady") need(3), out = steady_state(std::stod(a[1]), std::stol(a[2]), std::stod(a[3]),
                                                         a.size() > 4 ? std::stoi(a[4]) : 30);
    else if (cmd == "report") return need(1), report(a[1], a.size() > 2 && a[2] == "--require-all");
    else throw std::invalid_argument("unknown subcommand " + cmd);
    std::cout << out.dump() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "adagio-bench: " << e.what() << "\n";
    return 1;
  }
}
