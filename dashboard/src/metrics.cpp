// Prometheus metrics at /metrics, computed from the tables at scrape time: the database is the
// source of truth and the dashboard keeps no state of its own, so any replica reports the same.
#include <iomanip>
#include <sstream>

#include "app.hpp"

namespace adagio::dashboard {
namespace {

// Queue wait (ready -> claimed) histogram bounds, in seconds.
const std::vector<double> wait_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800};

std::string metrics_sql() {
  std::ostringstream buckets;
  for (std::size_t i = 0; i < wait_buckets.size(); ++i)
    buckets << (i ? ", " : "") << "count(*) FILTER (WHERE w <= " << wait_buckets[i] << ")";
  return R"SQL(
    SELECT jsonb_build_object(
      'runs', (SELECT coalesce(jsonb_agg(jsonb_build_object('status', status, 'conclusion', conclusion, 'count', c)), '[]')
               FROM (SELECT status, coalesce(conclusion::text, '') AS conclusion, count(*) AS c FROM adagio.runs GROUP BY 1, 2) x),
      'nodes', (SELECT coalesce(jsonb_agg(jsonb_build_object('state', state, 'conclusion', coalesce(conclusion::text, ''), 'count', nodes)), '[]')
                FROM adagio.node_state_counts),
      -- one count per state, each through its partial index (an IN list scanned every node);
      -- the engine's own ready nodes (open approval gates, running timers) wait for no worker
      'retrying', (SELECT count(*) FROM adagio.nodes WHERE state = 'ready' AND runtime NOT IN ('approval', 'timer') AND attempt_count > retry_base)
                  + (SELECT count(*) FROM adagio.nodes WHERE state = 'scheduled' AND attempt_count > retry_base),
      -- claims handed to workers: the engine's own (an approval decided, a timer ended) have no agent
      'worker_claims', (SELECT count(*) FROM adagio.attempts WHERE agent_id IS NOT NULL)
                       + (SELECT count(*) FROM adagio.nodes WHERE state = 'running' AND claimed_by IS NOT NULL),
      'attempts', (SELECT coalesce(jsonb_object_agg(conclusion, c), '{}')
                   FROM (SELECT conclusion, count(*) AS c FROM adagio.attempts GROUP BY 1) x),
      'orphaned', (SELECT count(*) FROM adagio.attempts WHERE reason LIKE 'orphaned:%'),
      'queue_wait', (SELECT jsonb_build_object('count', count(*), 'sum', coalesce(sum(w), 0),
                                               'buckets', jsonb_build_array()SQL" +
         buckets.str() + R"SQL())
                     FROM (SELECT extract(epoch FROM started_at - ready_at)::float8 AS w
                           -- the engine's own attempts (gates, timers; no agent) waited in no queue
                           FROM adagio.attempts WHERE ready_at IS NOT NULL AND agent_id IS NOT NULL) q),
      'oldest_ready', (SELECT coalesce(extract(epoch FROM now() - min(ready_at)), 0)::float8
                       FROM adagio.nodes WHERE state = 'ready' AND runtime NOT IN ('approval', 'timer')),
      'gates_open', (SELECT count(*) FROM adagio.nodes WHERE state = 'ready' AND runtime = 'approval'),
      'oldest_gate', (SELECT coalesce(extract(epoch FROM now() - min(ready_at)), 0)::float8
                      FROM adagio.nodes WHERE state = 'ready' AND runtime = 'approval'),
      'agents', (SELECT coalesce(jsonb_object_agg(status, c), '{}')
                 FROM (SELECT status, count(*) AS c FROM adagio.agents GROUP BY 1) x))::text)SQL";
}

class Exposition {
 public:
  void family(const std::string& name, const char* type, const std::string& help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void sample(const std::string& name, const std::string& labels, double value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << std::setprecision(15) << value << '\n';
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

std::int64_t count_of(const Json& rows, const char* key1, const std::string& v1, const std::string& v2) {
  std::int64_t n = 0;
  for (const auto& row : rows)
    if (row[key1] == v1 && row["conclusion"] == v2) n += row["count"].get<std::int64_t>();
  return n;
}

}  // namespace

void install_metrics(httplib::Server& server, App& app) {
  server.Get("/metrics", guarded([&app](const httplib::Request&, httplib::Response& res) {
    static const std::string sql = metrics_sql();
    const Json m = with_db_read(app, [&](pqxx::connection& conn) {
      pqxx::read_transaction tx(conn);
      return Json::parse(tx.exec(sql)[0][0].c_str());
    });
    Exposition x;
    // Every known label combination is always present, so a series never vanishes at zero.
    x.family("adagio_runs", "gauge", "Runs by status and conclusion.");
    for (const char* status : {"running", "cancelled"})
      x.sample("adagio_runs", std::string("status=\"") + status + "\",conclusion=\"\"", count_of(m["runs"], "status", status, ""));
    for (const char* conclusion : {"success", "failed"})
      x.sample("adagio_runs", std::string("status=\"completed\",conclusion=\"") + conclusion + "\"",
               count_of(m["runs"], "status", "completed", conclusion));

    x.family("adagio_nodes", "gauge", "Nodes by state and conclusion (completed nodes only have a conclusion).");
    for (const char* state : {"waiting", "ready", "scheduled", "running", "cancelled"})
      x.sample("adagio_nodes", std::string("state=\"") + state + "\",conclusion=\"\"", count_of(m["nodes"], "state", state, ""));
    for (const char* conclusion : {"success", "fail", "error", "never_reached"})
      x.sample("adagio_nodes", std::string("state=\"completed\",conclusion=\"") + conclusion + "\"",
               count_of(m["nodes"], "state", "completed", conclusion));
    x.family("adagio_nodes_retrying", "gauge", "Nodes waiting for another attempt (ready or scheduled after a failed one).");
    x.sample("adagio_nodes_retrying", "", m["retrying"].get<double>());

    x.family("adagio_claims_total", "counter",
             "Claims handed to workers (their finished attempts plus the claims they hold now; not the engine's own).");
    x.sample("adagio_claims_total", "", m["worker_claims"].get<double>());
    x.family("adagio_attempts_finished_total", "counter", "Finished attempts (completions) by conclusion.");
    for (const char* conclusion : {"success", "fail", "error"})
      x.sample("adagio_attempts_finished_total", std::string("conclusion=\"") + conclusion + "\"",
               m["attempts"].value(conclusion, 0.0));
    x.family("adagio_orphaned_claims_total", "counter", "Claims whose lease lapsed and that the sweeper orphaned.");
    x.sample("adagio_orphaned_claims_total", "", m["orphaned"].get<double>());

    x.family("adagio_queue_wait_seconds", "histogram", "Time from a node becoming ready to its claim, per attempt.");
    const auto& wait = m["queue_wait"];
    for (std::size_t i = 0; i < wait_buckets.size(); ++i) {
      std::ostringstream le;
      le << "le=\"" << wait_buckets[i] << '"';
      x.sample("adagio_queue_wait_seconds_bucket", le.str(), wait["buckets"][i].get<double>());
    }
    x.sample("adagio_queue_wait_seconds_bucket", "le=\"+Inf\"", wait["count"].get<double>());
    x.sample("adagio_queue_wait_seconds_sum", "", wait["sum"].get<double>());
    x.sample("adagio_queue_wait_seconds_count", "", wait["count"].get<double>());
    x.family("adagio_oldest_ready_node_age_seconds", "gauge", "How long the oldest ready node has waited for a claim (0 if none).");
    x.sample("adagio_oldest_ready_node_age_seconds", "", m["oldest_ready"].get<double>());
    x.family("adagio_approval_gates_open", "gauge", "Approval gates waiting for a decision (adagio.open_gates).");
    x.sample("adagio_approval_gates_open", "", m["gates_open"].get<double>());
    x.family("adagio_oldest_open_gate_age_seconds", "gauge", "How long the oldest open approval gate has waited (0 if none).");
    x.sample("adagio_oldest_open_gate_age_seconds", "", m["oldest_gate"].get<double>());

    x.family("adagio_agents", "gauge", "Agents (worker processes) by status.");
    for (const char* status : {"active", "stopped", "gone"})
      x.sample("adagio_agents", std::string("status=\"") + status + "\"", m["agents"].value(status, 0.0));
    res.set_content(x.str(), "text/plain; version=0.0.4; charset=utf-8");
  }));
}

}  // namespace adagio::dashboard
