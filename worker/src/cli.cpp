// Command line parsing and the signal-handling main loop wrapper.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <adagio/graph.hpp>
#include <adagio/worker/log.hpp>
#include <adagio/worker/worker.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <iostream>

namespace adagio::worker {

namespace {

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000.0)));
}

std::string program_name(int argc, const char* const* argv) {
  if (argc < 1 || !argv[0]) return "adagio-worker";
  std::string p = argv[0];
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// A number of seconds: positive (or >= 0) and at most a day.
CLI::Validator seconds(bool allow_zero) {
  return CLI::Validator(
      [allow_zero](std::string& in) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(in, v)) return "not a number of seconds: " + in;
        if (!(allow_zero ? v >= 0 : v > 0) || v > 86400)
          return std::string("must be ") + (allow_zero ? ">= 0" : "> 0") + " and at most 86400 seconds: " + in;
        return {};
      },
      "SECONDS");
}

std::atomic<Worker*> g_worker{nullptr};

extern "C" void on_stop_signal(int) {
  const int saved = errno;
  if (Worker* w = g_worker.load()) w->request_stop();
  errno = saved;
}

// Installs SIGTERM/SIGINT handlers that stop `worker`, ignores SIGPIPE,
// and restores everything on destruction.
class SignalGuard {
 public:
  explicit SignalGuard(Worker& worker) {
    g_worker.store(&worker);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, &old_term_);
    sigaction(SIGINT, &sa, &old_int_);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe_);
  }
  ~SignalGuard() {
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGPIPE, &old_pipe_, nullptr);
    g_worker.store(nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  struct sigaction old_term_ {
  }, old_int_{}, old_pipe_{};
};

// Children inherit fds 0-2 by dup2 onto them; make sure they exist so that
// pipes never land there.
void ensure_std_fds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
      int n = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (n >= 0 && n != fd) {
        ::dup2(n, fd);
        ::close(n);
      }
    }
  }
}

}  // namespace

CliParse parse_cli(int argc, const char* const* argv, const Registry& registry) {
  const std::string prog = program_name(argc, argv);
  const std::vector<std::string> available = registry.names();
  std::string available_text;
  for (const auto& n : available) available_text += (available_text.empty() ? "" : ",") + n;

  CLI::App app{"adagio worker: claims workflow nodes from PostgreSQL (adagio extension) and runs them", prog};
  WorkerOptions o;
  std::string dsn;
  std::vector<std::string> runtimes;
  double poll = 1.0, heartbeat = 3.0, grace = 30.0, idle = 5.0;
  std::string level = "info";

  auto* dsn_opt = app.add_option("--dsn", dsn,
                                 "libpq connection string or URI (default: $ADAGIO_DSN, else the PG* "
                                 "environment variables: PGHOST, PGPORT, PGDATABASE, PGUSER, PGSERVICE...)");
  app.add_option("--name", o.name, "agent name (default: <hostname>:<pid>)");
  app.add_option("--concurrency", o.concurrency, "number of nodes run at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--runtimes", runtimes, "comma-separated runtimes to serve (default: all: " + available_text +
                     "); NAME=RUNTIME serves nodes of runtime NAME with RUNTIME (a pool of workers)")
      ->delimiter(',');
  app.add_option("--poll-interval", poll, "seconds between claim polls (besides LISTEN/NOTIFY wakeups)")
      ->capture_default_str()
      ->check(seconds(false));
  app.add_option("--heartbeat-interval", heartbeat, "seconds between heartbeats")
      ->capture_default_str()
      ->check(seconds(false));
  app.add_option("--shutdown-grace", grace,
                 "seconds to let running nodes finish after SIGTERM/SIGINT before killing them")
      ->capture_default_str()
      ->check(seconds(true));
  app.add_option("--log-level", level, "debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_flag("--once-idle", o.once_idle, "exit 0 once no work has been available for --idle-exit seconds");
  app.add_option("--idle-exit", idle, "idle seconds before --once-idle exits")
      ->capture_default_str()
      ->check(seconds(true));
  app.add_option("--max-log-bytes", o.max_log_bytes,
                 "bytes of what one attempt prints that go to its node's log (the rest is cut); 0: send no logs")
      ->capture_default_str()
      ->check(CLI::Range(0LL, 1LL << 30));
  app.add_flag("--transaction-pooling", o.transaction_pooling,
               "--dsn leads to a pooler in transaction mode (PgBouncer before 1.21): send statements "
               "unprepared, and LISTEN only on --listen-dsn (else poll)");
  app.add_option("--listen-dsn", o.listen_dsn,
                 "a direct connection (not through a pooler) for LISTEN alone, to be woken when work is ready");
  app.set_version_flag("--version", std::string(prog + " " + worker_version));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return CliParse{std::nullopt, rc == 0 ? 0 : 2};
  }

  if (dsn_opt->count() > 0) {
    o.dsn = dsn;
  } else if (const char* env = std::getenv("ADAGIO_DSN")) {
    o.dsn = env;
  }
  for (auto& r : runtimes) {
    if (r.empty()) continue;
    std::string served = r, target = r;
    if (auto eq = r.find('='); eq != std::string::npos) {  // alias=runtime: a pool of its own
      served = r.substr(0, eq);
      target = r.substr(eq + 1);
      std::string why;
      if (registry.find(served))
        why = "\"" + served + "\" is already a runtime of this binary";
      else if (o.runtime_aliases.count(served))
        why = "\"" + served + "\" is given twice";
      else if (!adagio::is_runtime_name(served))
        why = "\"" + served + "\" is not a runtime name (1 to 48 of letters, digits, '_', '.', '-')";
      else if (adagio::is_engine_runtime(served))
        why = "\"" + served + "\" is the engine's own (approval gates, timers)";
      if (!why.empty()) {
        std::cerr << prog << ": bad runtime alias \"" << r << "\": " << why << "\n";
        return CliParse{std::nullopt, 2};
      }
    }
    if (!registry.find(target)) {
      std::cerr << prog << ": unknown runtime \"" << target << "\" (this binary has: " << available_text << ")\n";
      return CliParse{std::nullopt, 2};
    }
    if (served != target) o.runtime_aliases[served] = target;
    o.runtimes.push_back(served);
  }
  if (!runtimes.empty() && o.runtimes.empty()) {
    std::cerr << prog << ": --runtimes is empty\n";
    return CliParse{std::nullopt, 2};
  }
  o.poll_interval = std::max(to_ms(poll), std::chrono::milliseconds(1));
  o.heartbeat_interval = std::max(to_ms(heartbeat), std::chrono::milliseconds(1));
  o.shutdown_grace = to_ms(grace);
  o.idle_exit = to_ms(idle);
  log::set_level(*log::parse_level(level));
  return CliParse{std::move(o), 0};
}

int run_worker_main(int argc, char** argv, const Registry& registry) {
  CliParse parsed = parse_cli(argc, argv, registry);
  if (!parsed.options) return parsed.exit_code;
  ensure_std_fds();
  try {
    Worker worker(std::move(*parsed.options), registry);
    SignalGuard signals(worker);
    return worker.run();
  } catch (const std::exception& e) {
    log::error("fatal: ", e.what());
    return 1;
  }
}

}  // namespace adagio::worker
