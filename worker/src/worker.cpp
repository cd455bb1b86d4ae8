// The dispatcher: owns the database connection (LISTEN, claim, heartbeat,
// complete, register/deregister) and hands claims to the executor pool.
// Everything in Worker::Impl runs on the dispatcher thread, except
// request_stop() and the pool's notify callback, which only touch an atomic
// and the eventfd.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <adagio/worker/claim.hpp>
#include <adagio/worker/log.hpp>
#include <adagio/worker/sqlstate.hpp>
#include <adagio/worker/text.hpp>
#include <adagio/worker/worker.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <stdexcept>
#include <utility>

#include "executor_pool.hpp"
#include "statements.hpp"
#include "log_buffer.hpp"

namespace adagio::worker {

namespace {

using clock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds initial_backoff{500};
constexpr milliseconds max_backoff{10000};
constexpr milliseconds force_wait{5000};    // after forced cancel, wait this long for executions
constexpr milliseconds report_wait{10000};  // at shutdown, keep trying to report this long
constexpr std::size_t max_batch_reports = 1000;  // results sent in one adagio.complete_many() call
constexpr int max_rollback_retries = 3;           // a report rolled back by a deadlock: sent again at once
// How long a finished result may wait for others to share its report call. Short functions finish
// in bursts (they were claimed together); one call per burst instead of one per result is what
// keeps the database's cost per node low. Idle workers never wait (see reports_due()).
constexpr milliseconds report_linger{2};
// How often what running executions printed goes to the database: often enough to follow a
// long node, rarely enough that a chatty one costs one small call a second.
constexpr milliseconds log_flush_interval{1000};

std::string seconds_text(milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3gs", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

// Collapses all whitespace (libpq messages span lines) into single spaces.
std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The first line of a server error ("ERROR:  message"), without CONTEXT etc.
std::string first_line(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  if (line.rfind("ERROR:", 0) == 0) line.erase(0, 6);
  return one_line(line);
}

// Errors after which the connection is made again. 40003 (statement completion unknown) too:
// whether the server did it is unknown, as when the connection broke mid-call.
bool is_connection_sqlstate(const std::string& state) {
  return state.empty() || state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0 || state == "40003";
}

std::string default_name() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  return std::string(host) + ":" + std::to_string(::getpid());
}

std::string hostname() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) return "unknown";
  return host;
}

// Sets a flag when a NOTIFY arrives on its channel.
class Listener final : public pqxx::notification_receiver {
 public:
  Listener(pqxx::connection_base& c, const std::string& channel, bool& flag)
      : pqxx::notification_receiver(c, channel), flag_(flag) {}
  void operator()(const std::string&, int) override {
    flag_ = true;
    log::debug("notification on ", channel());
  }

 private:
  bool& flag_;
};

// Routes server notices and libpqxx warnings to the log.
class NoticeLogger final : public pqxx::errorhandler {
 public:
  explicit NoticeLogger(pqxx::connection_base& c) : pqxx::errorhandler(c) {}
  bool operator()(const char msg[]) noexcept override {
    try {
      log::info("postgres: ", one_line(msg));
    } catch (...) {
    }
    return false;  // handled
  }
};

// One database connection with its LISTENs. Declaration order matters:
// receivers and the error handler must go before the connection.
struct DbSession {
  explicit DbSession(const std::string& dsn) : conn(dsn) {}
  ~DbSession() {
    // Closing first means the receivers' destructors do not try to UNLISTEN
    // (or reconnect) on a connection that may be broken.
    if (listen_conn) listen_conn->disconnect();
    conn.disconnect();
  }
  DbSession(const DbSession&) = delete;
  DbSession& operator=(const DbSession&) = delete;

  pqxx::connection conn;
  std::unique_ptr<pqxx::connection> listen_conn;  // a direct connection when `conn` is pooled
  std::unique_ptr<NoticeLogger> notices;
  std::vector<std::unique_ptr<Listener>> listeners;
};

struct InFlight {
  std::int64_t run_id = 0;
  std::string node;
  std::string runtime;
  int attempt = 1;
  std::shared_ptr<std::atomic<bool>> cancel;
  bool lost = false;    // heartbeat said we no longer hold the claim
  bool forced = false;  // cancelled by a forced shutdown
  std::optional<std::chrono::seconds> timeout;  // the node's timeout_seconds
  std::optional<clock::time_point> deadline;    // started + timeout
  bool timed_out = false;                       // cancelled because it ran past its deadline
  std::shared_ptr<detail::LogBuffer> logs;       // what it printed, not sent yet
};

// A log chunk for adagio.append_logs(), with the claim it belongs to.
struct LogChunk {
  std::string token;
  std::string text;
};

struct Report {
  std::string token;
  std::int64_t run_id = 0;
  std::string node;
  Result result;
  bool fallback = false;  // already replaced by an error after a failed report
};

}  // namespace

class Worker::Impl {
 public:
  Impl(WorkerOptions options, const Registry& registry) : opt_(std::move(options)), registry_(registry) {
    if (opt_.concurrency < 1) throw std::invalid_argument("concurrency must be at least 1");
    for (const auto& [alias, target] : opt_.runtime_aliases) {
      const Function* fn = registry.find(target);
      if (!fn) throw std::invalid_argument("runtime alias \"" + alias + "\": unknown runtime \"" + target + "\"");
      if (registry.find(alias))
        throw std::invalid_argument("runtime alias \"" + alias + "\" is already a runtime of this binary");
      registry_.add(alias, *fn);
    }
    if (opt_.runtimes.empty()) opt_.runtimes = registry_.names();
    std::sort(opt_.runtimes.begin(), opt_.runtimes.end());
    opt_.runtimes.erase(std::unique(opt_.runtimes.begin(), opt_.runtimes.end()), opt_.runtimes.end());
    if (opt_.runtimes.empty()) throw std::invalid_argument("no runtimes to serve");
    for (const auto& rt : opt_.runtimes)
      if (!registry_.find(rt)) throw std::invalid_argument("unknown runtime \"" + rt + "\"");
    if (opt_.name.empty()) opt_.name = default_name();
    if (opt_.poll_interval < milliseconds(1)) opt_.poll_interval = milliseconds(1);
    if (opt_.heartbeat_interval < milliseconds(1)) opt_.heartbeat_interval = milliseconds(1);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
  }

  ~Impl() {
    pool_.reset();
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void request_stop() noexcept {
    stop_requests_.fetch_add(1);
    wake();
  }

  int run();

 private:
  void wake() noexcept {
    std::uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof one) < 0) {
      // Counter saturated or similar: the dispatcher is awake anyway.
    }
  }

  // Report now: nothing else is running (no one to wait for), enough results for a good batch,
  // the oldest result has waited report_linger, or the worker is stopping.
  bool reports_due(clock::time_point now) const {
    if (reports_.empty()) return false;
    return inflight_.empty() || reports_.size() >= batch_size() || now - first_report_at_ >= report_linger ||
           phase_ != Phase::running;
  }
  // Claims and reports in batches of half the slots: big enough to amortise a call, small enough
  // that the executors never run dry while the dispatcher talks to the database.
  std::size_t batch_size() const { return std::max<std::size_t>(1, static_cast<std::size_t>(opt_.concurrency) / 2); }

  void queue_report(Report r) {
    if (reports_.empty()) first_report_at_ = clock::now();
    reports_.push_back(std::move(r));
  }

  std::size_t free_slots() const {
    auto busy = inflight_.size();
    auto n = static_cast<std::size_t>(opt_.concurrency);
    return busy >= n ? 0 : n - busy;
  }

  void connect(clock::time_point now);
  void connection_lost(const char* what, const std::string& why);
  void register_agent(pqxx::connection& conn, clock::time_point now);
  void reregister();
  template <class F>
  bool db_call(const char* what, F&& f);
  void handle_stop_requests(clock::time_point now);
  void begin_shutdown(clock::time_point now, const std::string& why);
  void force_shutdown(clock::time_point now, const std::string& why);
  void collect_done();
  void enforce_timeouts(clock::time_point now);
  // A success's patch to its run, applied before the success is reported; a refusal turns the
  // result into an error, a claim found no longer held marks `f` lost.
  void apply_patch(const std::string& token, InFlight& f, Result& r);
  void receive_notifications();
  void maybe_claim(clock::time_point now);
  // `claims`: a claim array, as adagio.claim() and adagio.complete_and_claim() hand them out.
  void take_claims(const json& claims, std::size_t asked);
  // Checks a claim and adds its job to `batch` (handed to the executors at once by the caller).
  void start(Claim claim, std::vector<detail::ExecutorPool::Job>& batch);
  void heartbeat(clock::time_point now);
  // Sends what the executions printed: every log_flush_interval while they run, and the rest of a
  // finished one's before its report (the claim fences the chunks, so they must go first).
  void flush_logs(clock::time_point now);
  void report_pending();
  enum class ReportStatus { done, retry_now, later };
  ReportStatus report(Report& r);
  bool retry_after_rollback(const char* what, const pqxx::transaction_rollback& e);
  ReportStatus report_batch();
  bool shutdown_finished(clock::time_point now);
  // --once-idle counts idle time only while connected with nothing to do.
  bool idle_exit_armed() const {
    return opt_.once_idle && db_ && agent_id_ != 0 && inflight_.empty() && reports_.empty();
  }
  void wait(clock::time_point now);
  void deregister();

  WorkerOptions opt_;
  Registry registry_;  // the binary's runtimes plus the aliases
  detail::Statements statements_{!opt_.transaction_pooling};
  int wake_fd_ = -1;
  std::atomic<int> stop_requests_{0};
  int stops_seen_ = 0;

  std::unique_ptr<DbSession> db_;
  std::int64_t agent_id_ = 0;
  clock::time_point next_connect_{};
  milliseconds backoff_ = initial_backoff;
  bool ever_connected_ = false;
  // Set when the worker cannot start: a setup error no retry mends, or, with --once-idle, no
  // registration within --idle-exit. run() then returns 1.
  bool cannot_start_ = false;
  clock::time_point started_at_ = clock::now();
  bool notified_ = false;
  clock::time_point first_report_at_{};  // when the oldest unreported result came in
  bool batch_reports_ = true;      // cleared if the server has no adagio.complete_many()
  bool claim_with_reports_ = true;  // cleared for one call after a combined call failed
  bool complete_and_claim_ = true;  // cleared if the server has no adagio.complete_and_claim()
  std::size_t report_singly_ = 0;  // reports at the front to send one by one (a batch failed)
  std::string last_sqlstate_;  // of the last failed db_call, if an SQL error
  int rollbacks_in_a_row_ = 0;  // reports rolled back by a deadlock or serialization failure

  std::unique_ptr<detail::ExecutorPool> pool_;
  std::map<std::string, InFlight> inflight_;
  std::vector<LogChunk> final_logs_;  // the last chunks of finished executions, sent before their reports
  clock::time_point next_log_flush_{};
  bool ship_logs_ = opt_.max_log_bytes > 0;  // also cleared if the server has no adagio.append_logs()
  std::deque<Report> reports_;
  bool maybe_more_ = true;
  clock::time_point next_poll_{};
  clock::time_point next_heartbeat_{};
  clock::time_point last_activity_{};

  enum class Phase { running, draining, forced };
  Phase phase_ = Phase::running;
  clock::time_point grace_deadline_{}, force_deadline_{};
  std::optional<clock::time_point> report_deadline_;
  std::size_t abandoned_ = 0;
};

// ---------------------------------------------------------------- database

void Worker::Impl::connect(clock::time_point now) {
  try {
    auto s = std::make_unique<DbSession>(opt_.dsn);
    s->notices = std::make_unique<NoticeLogger>(s->conn);
    s->conn.set_client_encoding("UTF8");
    statements_.prepare(s->conn);
    // notification_receiver issues LISTEN "<channel>" (quoted identifier). A pooler in
    // transaction mode would run the LISTEN on a server connection that serves other clients
    // next: there the worker listens on a direct connection, or only polls.
    if (!opt_.listen_dsn.empty()) {
      s->listen_conn = std::make_unique<pqxx::connection>(opt_.listen_dsn);
      s->listen_conn->set_client_encoding("UTF8");
    }
    if (s->listen_conn || !opt_.transaction_pooling) {
      pqxx::connection_base& on = s->listen_conn ? *s->listen_conn : s->conn;
      for (const auto& rt : opt_.runtimes)
        s->listeners.push_back(std::make_unique<Listener>(on, "adagio.ready." + rt, notified_));
    }

    if (agent_id_ == 0)
      register_agent(s->conn, now);
    else
      log::info("reconnected to the database (agent ", agent_id_, "); listening again");
    last_activity_ = now;
    db_ = std::move(s);
    ever_connected_ = true;
    backoff_ = initial_backoff;
    maybe_more_ = true;              // notifications may have been missed
    next_heartbeat_ = clock::now();  // refresh leases right away
  } catch (const pqxx::sql_error& e) {
    // Before the first registration, a database without the extension or a role without
    // adagio_worker will not change by waiting: say so and stop, instead of retrying forever.
    const std::string state = sqlstate_of(e);
    if (agent_id_ == 0 && (state == "3F000" || state == "42883" || state == "42501")) {
      log::error("cannot register: ", first_line(e.what()), " (SQLSTATE ", state, "); ",
                 state == "42501" ? "grant the worker's role adagio_worker"
                                  : "is the adagio extension installed? run: CREATE EXTENSION adagio");
      cannot_start_ = true;
      return;
    }
    log::warn(ever_connected_ || agent_id_ ? "reconnect failed: " : "cannot connect/register: ", one_line(e.what()),
              "; retrying in ", seconds_text(backoff_));
    next_connect_ = clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, max_backoff);
  } catch (const std::exception& e) {
    log::warn(ever_connected_ || agent_id_ ? "reconnect failed: " : "cannot connect/register: ", one_line(e.what()),
              "; retrying in ", seconds_text(backoff_));
    next_connect_ = clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, max_backoff);
  }
}

void Worker::Impl::register_agent(pqxx::connection& conn, clock::time_point now) {
  json info = {{"hostname", hostname()},
               {"pid", static_cast<long>(::getpid())},
               {"concurrency", opt_.concurrency},
               {"version", worker_version}};
  pqxx::nontransaction tx(conn);
  auto r = statements_.run(tx, "adagio_register", opt_.name, pg_array_literal(opt_.runtimes), info.dump());
  tx.commit();
  if (r.empty() || r[0][0].is_null()) throw std::runtime_error("adagio.register_agent returned no id");
  agent_id_ = r[0][0].as<std::int64_t>();
  log::info("registered agent ", agent_id_, " name=", opt_.name, " runtimes=", join(opt_.runtimes, ","),
            " concurrency=", opt_.concurrency);
  last_activity_ = now;
}

// The server no longer knows our agent (SQLSTATE 42704 from claim or
// heartbeat, e.g. after it was cleaned up): register again. Claims held under
// the old id come back as lost from the next heartbeat.
void Worker::Impl::reregister() {
  log::warn("agent ", agent_id_, " is not registered any more; registering again");
  const std::int64_t old = agent_id_;
  agent_id_ = 0;
  if (!db_call("register", [&] { register_agent(db_->conn, clock::now()); })) agent_id_ = old;
}

void Worker::Impl::connection_lost(const char* what, const std::string& why) {
  log::warn("database connection lost (", what, "): ", one_line(why), "; reconnecting in ", seconds_text(backoff_));
  db_.reset();
  next_connect_ = clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, max_backoff);
}

// Runs f(); on a connection problem drops the connection (to be re-made),
// on any other error logs it. Returns whether f completed.
template <class F>
bool Worker::Impl::db_call(const char* what, F&& f) {
  last_sqlstate_.clear();
  try {
    f();
    return true;
  } catch (const pqxx::sql_error& e) {
    last_sqlstate_ = sqlstate_of(e);
    if (is_connection_sqlstate(last_sqlstate_))
      connection_lost(what, e.what());
    else
      log::error(what, " failed: ", first_line(e.what()), " (SQLSTATE ", last_sqlstate_, ")");
  } catch (const pqxx::transaction_rollback& e) {
    last_sqlstate_ = sqlstate_of(e);
    if (is_connection_sqlstate(last_sqlstate_))
      connection_lost(what, e.what());
    else  // a deadlock or serialization failure: the connection is fine, and the next tick tries again
      log::warn(what, " failed: ", first_line(e.what()), " (SQLSTATE ", last_sqlstate_, "); trying again");
  } catch (const pqxx::failure& e) {  // broken_connection, in_doubt_error, ...
    connection_lost(what, e.what());
  } catch (const std::exception& e) {
    log::error(what, " failed: ", one_line(e.what()));
  }
  return false;
}

// After a deadlock or a serialization failure, whether to send the same report again at once:
// the other transaction has gone on, so the next try usually passes; a few in a row mean something
// else is wrong, and the caller handles it as any other error.
bool Worker::Impl::retry_after_rollback(const char* what, const pqxx::transaction_rollback& e) {
  const bool again = ++rollbacks_in_a_row_ <= max_rollback_retries;
  log::warn(what, " rolled back: ", first_line(e.what()), " (SQLSTATE ", sqlstate_of(e), ")",
            again ? "; trying again" : "");
  if (!again) rollbacks_in_a_row_ = 0;
  return again;
}

void Worker::Impl::receive_notifications() {
  db_call("receiving notifications", [&] {
    db_->conn.get_notifs();  // with no LISTEN on it, still reads what came in, so that poll() does not spin on it
    if (db_->listen_conn) db_->listen_conn->get_notifs();
  });
  if (notified_) {
    notified_ = false;
    maybe_more_ = true;
  }
}

void Worker::Impl::maybe_claim(clock::time_point now) {
  const std::size_t free = free_slots();
  if (free == 0 || !(maybe_more_ || now >= next_poll_)) return;
  // While results wait to be reported, claim only for a batch's worth of free slots: the report
  // goes first, and the claim after it then picks up every slot freed meanwhile.
  if (!inflight_.empty() && free < batch_size() && !reports_.empty()) return;
  std::string text;
  const bool ok = db_call("claim", [&] {
    pqxx::nontransaction tx(db_->conn);
    auto r = statements_.run(tx, "adagio_claim", agent_id_, static_cast<int>(free));
    tx.commit();
    text = (r.empty() || r[0][0].is_null()) ? "[]" : r[0][0].c_str();
  });
  next_poll_ = clock::now() + opt_.poll_interval;
  maybe_more_ = false;
  if (!ok) {
    if (last_sqlstate_ == "42704" && db_) reregister();
    return;
  }
  json claims;
  try {
    claims = json::parse(text);
  } catch (const std::exception& e) {
    log::error("cannot parse the result of adagio.claim(): ", e.what());
    return;
  }
  take_claims(claims, free);
}

void Worker::Impl::take_claims(const json& handed, std::size_t asked) {
  std::vector<Claim> claims;
  try {
    claims = parse_claims(handed);
  } catch (const std::exception& e) {
    log::error("cannot read the claims handed out: ", e.what());
    return;
  }
  if (claims.size() >= asked) maybe_more_ = true;  // there may be more ready work
  if (!claims.empty()) last_activity_ = clock::now();
  log::debug("claim(", asked, ") -> ", claims.size());
  std::vector<detail::ExecutorPool::Job> batch;
  batch.reserve(claims.size());
  for (auto& c : claims) start(std::move(c), batch);
  pool_->submit(std::move(batch));
}

void Worker::Impl::start(Claim c, std::vector<detail::ExecutorPool::Job>& batch) {
  if (!c.error.empty()) {
    log::error("malformed claim", c.claim_token.empty() ? "" : " " + c.claim_token, ": ", c.error);
    if (!c.claim_token.empty())
      queue_report(Report{c.claim_token, c.task.run_id, c.task.node,
                          Result{Conclusion::error, "worker: malformed claim: " + c.error}});
    return;
  }
  log::info("claimed run ", c.task.run_id, " node ", c.task.node, " runtime ", c.task.runtime, " attempt ",
            c.task.attempt);
  const Function* fn = registry_.find(c.task.runtime);
  if (!fn) {
    log::error("no function for runtime \"", c.task.runtime, "\" (run ", c.task.run_id, " node ", c.task.node, ")");
    queue_report(Report{c.claim_token, c.task.run_id, c.task.node,
                        Result{Conclusion::error, "worker: no function for runtime \"" + c.task.runtime + "\""}});
    return;
  }
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  InFlight f;
  f.run_id = c.task.run_id;
  f.node = c.task.node;
  f.runtime = c.task.runtime;
  f.attempt = c.task.attempt;
  f.cancel = cancel;
  f.timeout = c.task.timeout;
  if (f.timeout) f.deadline = clock::now() + *f.timeout;
  f.logs = std::make_shared<detail::LogBuffer>(opt_.max_log_bytes);
  Task task = std::move(c.task);
  task.cancelled = cancel.get();
  if (ship_logs_) task.log_sink = [logs = f.logs](std::string_view text) { logs->append(text); };
  auto [it, inserted] = inflight_.emplace(c.claim_token, std::move(f));
  if (!inserted) {  // the same token twice: should never happen
    log::error("duplicate claim token ", c.claim_token, "; ignoring");
    return;
  }
  batch.push_back(detail::ExecutorPool::Job{it->first, std::move(task), fn, std::move(cancel)});
}

void Worker::Impl::flush_logs(clock::time_point now) {
  const bool periodic = now >= next_log_flush_;
  if (!ship_logs_ || (!periodic && final_logs_.empty())) return;
  std::vector<LogChunk> chunks = std::move(final_logs_);
  final_logs_.clear();
  if (periodic) {
    next_log_flush_ = now + log_flush_interval;
    for (const auto& [token, f] : inflight_)
      if (!f.lost)
        if (std::string text = f.logs->take(); !text.empty()) chunks.push_back(LogChunk{token, std::move(text)});
  }
  if (chunks.empty()) return;
  std::vector<std::string> tokens, texts;
  for (auto& c : chunks) {
    tokens.push_back(std::move(c.token));
    texts.push_back(sanitize_utf8(c.text));
  }
  // Logs are for people watching: a chunk the database does not take is dropped, never retried in
  // a way that could delay a report.
  db_call("append_logs", [&] {
    pqxx::nontransaction tx(db_->conn);
    statements_.run(tx, "adagio_append_logs", pg_array_literal(tokens), pg_array_literal(texts));
  });
  if (last_sqlstate_ == "42883") {
    log::warn("the server has no adagio.append_logs() (an older extension): node logs are not sent");
    ship_logs_ = false;
  }
}

void Worker::Impl::heartbeat(clock::time_point now) {
  next_heartbeat_ = now + opt_.heartbeat_interval;
  std::vector<std::string> tokens;
  for (const auto& [token, f] : inflight_)
    if (!f.lost) tokens.push_back(token);
  for (const auto& r : reports_) tokens.push_back(r.token);
  std::string text;
  const bool ok = db_call("heartbeat", [&] {
    pqxx::nontransaction tx(db_->conn);
    auto r = statements_.run(tx, "adagio_heartbeat", agent_id_, pg_array_literal(tokens));
    tx.commit();
    text = (r.empty() || r[0][0].is_null()) ? "" : r[0][0].c_str();
  });
  if (!ok) {
    if (last_sqlstate_ == "42704" && db_) reregister();
    return;
  }
  log::debug("heartbeat for ", tokens.size(), " claim(s)");
  for (const std::string& token : parse_pg_array(text)) {
    if (auto it = inflight_.find(token); it != inflight_.end()) {
      if (!it->second.lost) {
        log::warn("claim lost for run ", it->second.run_id, " node ", it->second.node, ": cancelling the execution");
        it->second.lost = true;
        it->second.cancel->store(true);
      }
    }
    for (auto r = reports_.begin(); r != reports_.end();) {
      if (r->token == token) {
        log::warn("dropping result of run ", r->run_id, " node ", r->node, ": claim no longer held");
        r = reports_.erase(r);
      } else {
        ++r;
      }
    }
  }
}

Worker::Impl::ReportStatus Worker::Impl::report(Report& r) {
  try {
    pqxx::nontransaction tx(db_->conn);
    auto res =
        statements_.run(tx, "adagio_complete", r.token, to_string(r.result.conclusion), sanitize_utf8(r.result.output));
    tx.commit();
    std::string outcome = "?";
    if (!res.empty() && !res[0][0].is_null()) {
      try {
        json summary = json::parse(res[0][0].c_str());
        if (summary.is_object() && summary.contains("outcome")) {
          const auto& o = summary["outcome"];
          outcome = o.is_string() ? o.get<std::string>() : o.dump();
        } else {
          outcome = summary.dump();
        }
      } catch (const std::exception&) {
        outcome = res[0][0].c_str();
      }
    }
    log::info("reported run ", r.run_id, " node ", r.node, ": ", to_string(r.result.conclusion), " -> ", outcome);
    rollbacks_in_a_row_ = 0;
    return ReportStatus::done;
  } catch (const pqxx::transaction_rollback& e) {
    if (is_connection_sqlstate(sqlstate_of(e))) {
      connection_lost("complete", e.what());
      return ReportStatus::later;
    }
    if (retry_after_rollback("complete", e)) return ReportStatus::retry_now;
    log::error("reporting run ", r.run_id, " node ", r.node, " was rolled back ", max_rollback_retries + 1,
               " times in a row; dropping the result (the sweeper concludes the claim when its lease lapses)");
    return ReportStatus::done;
  } catch (const pqxx::sql_error& e) {
    const std::string state = sqlstate_of(e);
    if (state == "55000") {
      log::warn("result of run ", r.run_id, " node ", r.node, " dropped: claim no longer held (", first_line(e.what()),
                ")");
      return ReportStatus::done;
    }
    if (is_connection_sqlstate(state)) {
      connection_lost("complete", e.what());
      return ReportStatus::later;
    }
    if (!r.fallback) {
      log::error("reporting run ", r.run_id, " node ", r.node, " failed: ", first_line(e.what()), " (SQLSTATE ", state,
                 "); reporting an error instead");
      r.fallback = true;
      r.result = Result{Conclusion::error, "worker: could not report the result: " + first_line(e.what())};
      return ReportStatus::retry_now;
    }
    log::error("reporting run ", r.run_id, " node ", r.node, " failed again: ", first_line(e.what()),
               "; dropping the result");
    return ReportStatus::done;
  } catch (const pqxx::failure& e) {
    connection_lost("complete", e.what());
    return ReportStatus::later;
  } catch (const std::exception& e) {
    log::error("reporting run ", r.run_id, " node ", r.node, " failed: ", e.what(), "; dropping the result");
    return ReportStatus::done;
  }
}

// Many results in one call and one transaction: with short functions, one round trip and one
// commit per result would be most of the cost. Claims no longer held come back by token.
Worker::Impl::ReportStatus Worker::Impl::report_batch() {
  const std::size_t n = std::min(reports_.size(), max_batch_reports);
  std::vector<std::string> tokens, conclusions, outputs;
  for (std::size_t i = 0; i < n; ++i) {
    tokens.push_back(reports_[i].token);
    conclusions.push_back(to_string(reports_[i].result.conclusion));
    outputs.push_back(sanitize_utf8(reports_[i].result.output));
  }
  const auto call_started = clock::now();
  // Free slots are claimed in the same call: one round trip per hop of a chain, one per batch.
  const std::size_t free = free_slots();
  const bool claim_too =
      complete_and_claim_ && claim_with_reports_ && phase_ == Phase::running && agent_id_ != 0 && free > 0;
  claim_with_reports_ = true;
  try {
    pqxx::nontransaction tx(db_->conn);
    auto res = claim_too ? statements_.run(tx, "adagio_complete_and_claim", pg_array_literal(tokens),
                                            pg_array_literal(conclusions), pg_array_literal(outputs), agent_id_,
                                            static_cast<int>(free))
                         : statements_.run(tx, "adagio_complete_many", pg_array_literal(tokens),
                                            pg_array_literal(conclusions), pg_array_literal(outputs));
    tx.commit();
    std::set<std::string> not_held;
    json summary = json::object();
    if (!res.empty() && !res[0][0].is_null()) {
      summary = json::parse(res[0][0].c_str());
      for (const auto& t : summary.value("not_held", json::array())) not_held.insert(t.get<std::string>());
    }
    for (std::size_t i = 0; i < n; ++i) {
      const Report& r = reports_.front();
      if (not_held.count(r.token))
        log::warn("result of run ", r.run_id, " node ", r.node, " dropped: claim no longer held");
      else
        log::info("reported run ", r.run_id, " node ", r.node, ": ", to_string(r.result.conclusion));
      reports_.pop_front();
    }
    log::debug("reported ", n, " result(s) in one call (",
               std::chrono::duration_cast<milliseconds>(clock::now() - call_started).count(), " ms)");
    rollbacks_in_a_row_ = 0;
    if (claim_too) {
      next_poll_ = clock::now() + opt_.poll_interval;
      maybe_more_ = false;
      // By reference: value() would copy every claim's document.
      const auto claims = summary.find("claims");
      take_claims(claims != summary.end() ? *claims : json::array(), free);
    }
    return ReportStatus::done;
  } catch (const pqxx::sql_error& e) {
    const std::string state = sqlstate_of(e);
    if (is_connection_sqlstate(state)) {
      connection_lost("complete_many", e.what());
      return ReportStatus::later;
    }
    if (claim_too) {  // the claim may be what failed (e.g. agent unknown): report alone, claim apart
      claim_with_reports_ = false;
      if (state == "42883") {  // an older extension: report and claim in separate calls from now on
        log::info("adagio.complete_and_claim() not available (", first_line(e.what()), "); claiming apart");
        complete_and_claim_ = false;
      }
      return ReportStatus::retry_now;
    }
    if (state == "42883") {  // an older extension: report one by one from now on
      log::info("adagio.complete_many() not available (", first_line(e.what()), "); reporting results one by one");
      batch_reports_ = false;
      return ReportStatus::retry_now;
    }
    // Anything else: send these one by one, so one bad result cannot hold back the others.
    log::warn("reporting ", n, " results in one call failed: ", first_line(e.what()), " (SQLSTATE ", state,
              "); reporting them one by one");
    report_singly_ = n;
    return ReportStatus::retry_now;
  } catch (const pqxx::transaction_rollback& e) {
    if (is_connection_sqlstate(sqlstate_of(e))) {
      connection_lost("complete_many", e.what());
      return ReportStatus::later;
    }
    if (retry_after_rollback(claim_too ? "complete_and_claim" : "complete_many", e)) return ReportStatus::retry_now;
    log::warn("reporting ", n, " results in one call was rolled back ", max_rollback_retries + 1,
              " times in a row; reporting them one by one");
    report_singly_ = n;
    return ReportStatus::retry_now;
  } catch (const pqxx::failure& e) {
    connection_lost("complete_many", e.what());
    return ReportStatus::later;
  } catch (const std::exception& e) {
    log::warn("reporting ", n, " results in one call failed: ", e.what(), "; reporting them one by one");
    report_singly_ = n;
    return ReportStatus::retry_now;
  }
}

void Worker::Impl::report_pending() {
  if (!reports_due(clock::now())) return;
  while (db_ && !reports_.empty()) {
    if (batch_reports_ && report_singly_ == 0) {
      if (report_batch() == ReportStatus::later) return;
      continue;
    }
    switch (report(reports_.front())) {
      case ReportStatus::done:
        reports_.pop_front();
        if (report_singly_ > 0) --report_singly_;
        break;
      case ReportStatus::retry_now:
        break;
      case ReportStatus::later:
        return;
    }
  }
  first_report_at_ = clock::now();
}

void Worker::Impl::deregister() {
  if (!db_ || agent_id_ == 0) return;
  if (db_call("deregister", [&] {
        pqxx::nontransaction tx(db_->conn);
        statements_.run(tx, "adagio_deregister", agent_id_);
        tx.commit();
      }))
    log::info("deregistered agent ", agent_id_);
}

// ------------------------------------------------------------ executions

void Worker::Impl::collect_done() {
  for (auto& d : pool_->take_done()) {
    auto it = inflight_.find(d.token);
    if (it == inflight_.end()) continue;  // abandoned at shutdown, already reported
    InFlight& f = it->second;
    Result r = std::move(d.result);
    if (f.forced && r.conclusion != Conclusion::success) r = Result{Conclusion::error, "worker shutting down"};
    // A success that raced the deadline stands; anything else is the timeout's doing.
    if (f.timed_out && !f.forced && r.conclusion != Conclusion::success)
      r = Result{Conclusion::error, "timed out after " + std::to_string(f.timeout->count()) + " s (timeout_seconds)"};
    log::info("finished run ", f.run_id, " node ", f.node, ": ", to_string(r.conclusion), " in ", d.elapsed.count(),
              " ms");
    if (!f.lost && r.conclusion == Conclusion::success && r.patch) apply_patch(d.token, f, r);
    if (f.lost) {
      log::warn("dropping result of run ", f.run_id, " node ", f.node, ": claim no longer held");
    } else {
      if (std::string rest = f.logs->take_all(); !rest.empty() && ship_logs_)
        final_logs_.push_back(LogChunk{d.token, std::move(rest)});
      queue_report(Report{d.token, f.run_id, f.node, std::move(r)});
    }
    inflight_.erase(it);
    last_activity_ = clock::now();
  }
}

// Applied at once, on the dispatcher's connection: patches are rare, and the report that follows
// must find the added nodes in place. The same patch from the same node is applied once (the
// engine returns the earlier one), so an attempt run again after a lost answer patches safely.
void Worker::Impl::apply_patch(const std::string& token, InFlight& f, Result& r) {
  const auto refuse = [&](const std::string& why) {
    log::warn("patch of run ", f.run_id, " node ", f.node, " not applied: ", why);
    r = Result{Conclusion::error, "worker: patch not applied: " + why};
  };
  for (int rollbacks = 0;; ++rollbacks) {
    if (!db_) return refuse("not connected to the database");
    try {
      pqxx::nontransaction tx(db_->conn);
      const auto res = statements_.run(tx, "adagio_patch_run_from_node", token, r.patch->dump());
      tx.commit();
      const json applied = json::parse(res[0][0].c_str());
      log::info("patched run ", f.run_id, " from node ", f.node, ": patch ", applied.value("patch", 0), " adds ",
                applied.value("nodes", json::array()).dump(),
                applied.value("already_applied", false) ? " (already applied)" : "");
      r.patch.reset();
      return;
    } catch (const pqxx::transaction_rollback& e) {  // not an sql_error in libpqxx 6
      const std::string state = sqlstate_of(e);
      if (is_connection_sqlstate(state)) {
        connection_lost("patch_run_from_node", e.what());
        return refuse(first_line(e.what()));
      }
      // A deadlock with a report of the same run: sent again at once, as a report would be.
      if (rollbacks < max_rollback_retries) continue;
      return refuse(first_line(e.what()) + " (SQLSTATE " + state + ")");
    } catch (const pqxx::sql_error& e) {
      const std::string state = sqlstate_of(e);
      if (state == "55000" && std::string(e.what()).find("is no longer held") != std::string::npos) {
        f.lost = true;  // dropped, as its report would be
        return;
      }
      if (is_connection_sqlstate(state)) connection_lost("patch_run_from_node", e.what());
      return refuse(first_line(e.what()) + " (SQLSTATE " + state + ")");
    } catch (const pqxx::failure& e) {
      connection_lost("patch_run_from_node", e.what());
      return refuse(first_line(e.what()));
    } catch (const std::exception& e) {
      return refuse(e.what());
    }
  }
}

// Cancels the executions that ran past their node's timeout_seconds; each is reported as an
// error when its function returns. One that ignores the cancellation keeps its slot until it
// returns, and the server takes its claim back a lease after the timeout (heartbeats stop
// extending it then).
void Worker::Impl::enforce_timeouts(clock::time_point now) {
  for (auto& [token, f] : inflight_) {
    if (!f.deadline || f.timed_out || now < *f.deadline) continue;
    log::warn("run ", f.run_id, " node ", f.node, " ran past its timeout of ", f.timeout->count(),
              " s: cancelling the execution");
    f.timed_out = true;
    f.cancel->store(true);
  }
}

// -------------------------------------------------------------- lifecycle

void Worker::Impl::handle_stop_requests(clock::time_point now) {
  const int n = stop_requests_.load();
  while (stops_seen_ < n) {
    ++stops_seen_;
    if (phase_ == Phase::running)
      begin_shutdown(now, "stop requested");
    else if (phase_ == Phase::draining)
      force_shutdown(now, "second stop request");
  }
}

void Worker::Impl::begin_shutdown(clock::time_point now, const std::string& why) {
  phase_ = Phase::draining;
  grace_deadline_ = now + opt_.shutdown_grace;
  log::info("shutting down (", why, "): no new claims; waiting up to ", seconds_text(opt_.shutdown_grace), " for ",
            inflight_.size(), " running execution(s)");
}

void Worker::Impl::force_shutdown(clock::time_point now, const std::string& why) {
  phase_ = Phase::forced;
  force_deadline_ = now + force_wait;
  if (!inflight_.empty())
    log::warn("forcing shutdown (", why, "): cancelling ", inflight_.size(), " running execution(s)");
  for (auto& [token, f] : inflight_) {
    f.forced = true;
    f.cancel->store(true);
  }
}

bool Worker::Impl::shutdown_finished(clock::time_point now) {
  if (!cannot_start_ && opt_.once_idle && agent_id_ == 0 && now - started_at_ >= opt_.idle_exit) {
    log::error("could not connect and register within ", seconds_text(opt_.idle_exit), " (--once-idle)");
    cannot_start_ = true;
  }
  if (cannot_start_) return true;  // nothing was claimed: nothing to drain or report
  if (phase_ == Phase::running) {
    if (idle_exit_armed() && now - last_activity_ >= opt_.idle_exit) {
      log::info("no work for ", seconds_text(opt_.idle_exit), " (--once-idle)");
      begin_shutdown(now, "idle");
    } else {
      return false;
    }
  }
  if (phase_ == Phase::draining && !inflight_.empty() && now >= grace_deadline_)
    force_shutdown(now, "grace period over");
  if (phase_ == Phase::forced && !inflight_.empty() && now >= force_deadline_) {
    log::error(inflight_.size(), " execution(s) ignored cancellation; reporting them as errors and abandoning them");
    for (auto& [token, f] : inflight_)
      if (!f.lost)
        queue_report(Report{token, f.run_id, f.node, Result{Conclusion::error, "worker shutting down"}});
    abandoned_ = inflight_.size();
    inflight_.clear();
  }
  if (!inflight_.empty()) return false;
  if (reports_.empty()) return true;
  if (!report_deadline_) report_deadline_ = now + report_wait;
  if (now >= *report_deadline_) {
    log::error("giving up on reporting ", reports_.size(), " result(s): database unavailable");
    for (const auto& r : reports_)
      log::error("  unreported: run ", r.run_id, " node ", r.node, " ", to_string(r.result.conclusion));
    return true;
  }
  return false;
}

void Worker::Impl::wait(clock::time_point now) {
  clock::time_point until = now + milliseconds(1000);
  auto consider = [&](clock::time_point t) { until = std::min(until, t); };
  if (!db_) {
    consider(next_connect_);
  } else {
    consider(next_heartbeat_);
    if (ship_logs_ && !inflight_.empty()) consider(next_log_flush_);
    if (phase_ == Phase::running && free_slots() > 0) {
      if (maybe_more_) consider(now);
      consider(next_poll_);
    }
    if (!reports_.empty()) consider(reports_due(now) ? now + milliseconds(100) : first_report_at_ + report_linger);
  }
  for (const auto& [token, f] : inflight_)
    if (f.deadline && !f.timed_out) consider(*f.deadline);
  if (phase_ == Phase::draining) consider(grace_deadline_);
  if (phase_ == Phase::forced) consider(force_deadline_);
  if (report_deadline_) consider(*report_deadline_);
  if (phase_ == Phase::running && idle_exit_armed()) consider(last_activity_ + opt_.idle_exit);

  auto timeout = std::chrono::duration_cast<milliseconds>(until - now).count();
  if (timeout < 0) timeout = 0;

  pollfd fds[3];
  nfds_t n = 0;
  fds[n++] = pollfd{wake_fd_, POLLIN, 0};
  if (db_) {
    int sock = db_->conn.sock();
    if (sock >= 0) fds[n++] = pollfd{sock, POLLIN, 0};
    if (db_->listen_conn && (sock = db_->listen_conn->sock()) >= 0) fds[n++] = pollfd{sock, POLLIN, 0};
  }
  int r = ::poll(fds, n, static_cast<int>(timeout));
  if (r > 0 && (fds[0].revents & POLLIN)) {
    std::uint64_t v;
    if (::read(wake_fd_, &v, sizeof v) < 0) {
      // EAGAIN: nothing to reset
    }
  }
}

int Worker::Impl::run() {
  log::info("adagio-worker ", worker_version, " starting: name=", opt_.name, " runtimes=", join(opt_.runtimes, ","),
            " concurrency=", opt_.concurrency,
            opt_.transaction_pooling ? opt_.listen_dsn.empty() ? " transaction-pooling (no LISTEN: polling)"
                                                               : " transaction-pooling"
                                     : "");
  pool_ = std::make_unique<detail::ExecutorPool>(opt_.concurrency, [this] { wake(); });
  next_connect_ = clock::now();
  last_activity_ = clock::now();

  for (;;) {
    auto now = clock::now();
    handle_stop_requests(now);
    if (!db_ && now >= next_connect_) connect(now);
    collect_done();
    enforce_timeouts(now);
    if (db_) receive_notifications();
    if (db_) flush_logs(clock::now());
    if (db_) report_pending();
    if (db_ && clock::now() >= next_heartbeat_) heartbeat(clock::now());
    if (db_ && agent_id_ != 0 && phase_ == Phase::running) maybe_claim(clock::now());
    now = clock::now();
    if (shutdown_finished(now)) break;
    wait(now);
  }

  deregister();
  db_.reset();
  if (abandoned_ > 0) {
    // Executor threads are stuck in user code; they cannot be joined.
    log::error("exiting with ", abandoned_, " execution(s) still running");
    std::fflush(nullptr);
    std::_Exit(0);
  }
  pool_.reset();
  log::info("worker stopped");
  return cannot_start_ ? 1 : 0;
}

// ------------------------------------------------------------------ Worker

Worker::Worker(WorkerOptions options, const Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(options), registry)) {}
Worker::~Worker() = default;
int Worker::run() { return impl_->run(); }
void Worker::request_stop() noexcept { impl_->request_stop(); }

}  // namespace adagio::worker
