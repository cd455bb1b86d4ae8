// Tests of the Registry, call_function(), text helpers and CLI parsing.
#include <gtest/gtest.h>

#include <adagio/worker/runtime.hpp>
#include <adagio/worker/text.hpp>
#include <adagio/worker/worker.hpp>
#include <cstdlib>
#include <stdexcept>

using namespace adagio::worker;

TEST(WorkerRegistry, BuiltinsAndCustom) {
  Registry reg = builtin_runtimes();
  EXPECT_EQ(reg.names(), (std::vector<std::string>{"debug", "exec"}));
  reg.add("uppercase", [](const Task& t) { return Result{Conclusion::success, t.node}; });
  EXPECT_EQ(reg.names(), (std::vector<std::string>{"debug", "exec", "uppercase"}));
  Task t;
  t.node = "n1";
  EXPECT_EQ((*reg.find("uppercase"))(t).output, "n1");
  EXPECT_EQ(reg.find("nope"), nullptr);
}

TEST(WorkerRegistry, ReplaceExisting) {
  Registry reg = builtin_runtimes();
  reg.add("exec", [](const Task&) { return Result{Conclusion::fail, "replaced"}; });
  EXPECT_EQ((*reg.find("exec"))(Task{}).output, "replaced");
}

TEST(WorkerRegistry, InvalidNames) {
  Registry reg;
  auto fn = [](const Task&) { return Result{}; };
  EXPECT_THROW(reg.add("", fn), std::invalid_argument);
  EXPECT_THROW(reg.add("has space", fn), std::invalid_argument);
  EXPECT_THROW(reg.add("quo\"te", fn), std::invalid_argument);
  EXPECT_THROW(reg.add("ok", Function{}), std::invalid_argument);
  EXPECT_THROW(reg.add("approval", fn), std::invalid_argument) << "the engine decides approval gates";
  EXPECT_THROW(reg.add("timer", fn), std::invalid_argument) << "and ends timers";
  EXPECT_NO_THROW(reg.add("my-runtime.v2_x", fn));
  EXPECT_NO_THROW(reg.add(std::string(48, 'r'), fn));
  EXPECT_THROW(reg.add(std::string(49, 'r'), fn), std::invalid_argument);
}

TEST(WorkerCallFunction, ExceptionBecomesError) {
  Function boom = [](const Task&) -> Result { throw std::runtime_error("boom"); };
  Result r = call_function(boom, Task{});
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_EQ(r.output, "exception: boom");
  Function weird = [](const Task&) -> Result { throw 42; };
  r = call_function(weird, Task{});
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_EQ(r.output.rfind("exception: ", 0), 0u);
}

TEST(WorkerCallFunction, CancelledFlag) {
  std::atomic<bool> flag{false};
  Task t;
  EXPECT_FALSE(t.is_cancelled());
  t.cancelled = &flag;
  EXPECT_FALSE(t.is_cancelled());
  flag = true;
  EXPECT_TRUE(t.is_cancelled());
}

TEST(WorkerText, SanitizeUtf8) {
  EXPECT_EQ(sanitize_utf8("plain"), "plain");
  EXPECT_EQ(sanitize_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(sanitize_utf8(std::string("a\0b", 3)), "ab");
  EXPECT_EQ(sanitize_utf8("x\xFFy"), "x\xEF\xBF\xBDy");
  EXPECT_EQ(sanitize_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(sanitize_utf8("end\xE2\x82"), "end\xEF\xBF\xBD\xEF\xBF\xBD");            // truncated
}

TEST(WorkerText, PgArrays) {
  EXPECT_EQ(pg_array_literal({}), "{}");
  EXPECT_EQ(pg_array_literal({"exec", "de\"b\\ug"}), "{\"exec\",\"de\\\"b\\\\ug\"}");
  EXPECT_TRUE(parse_pg_array("").empty());
  EXPECT_TRUE(parse_pg_array("{}").empty());
  EXPECT_EQ(parse_pg_array("{0b8a4c1e-7f44-4a0e-9e55-0c1f0d3f7a11,1b8a4c1e-7f44-4a0e-9e55-0c1f0d3f7a12}"),
            (std::vector<std::string>{"0b8a4c1e-7f44-4a0e-9e55-0c1f0d3f7a11", "1b8a4c1e-7f44-4a0e-9e55-0c1f0d3f7a12"}));
  EXPECT_EQ(parse_pg_array("{a,NULL,\"NULL\",\"x,y\"}"), (std::vector<std::string>{"a", "NULL", "x,y"}));
}

namespace {
CliParse parse(std::vector<const char*> args, const Registry& reg) {
  args.insert(args.begin(), "adagio-worker");
  return parse_cli(static_cast<int>(args.size()), args.data(), reg);
}
}  // namespace

TEST(WorkerCli, Defaults) {
  ::unsetenv("ADAGIO_DSN");
  Registry reg = builtin_runtimes();
  CliParse p = parse({}, reg);
  ASSERT_TRUE(p.options.has_value());
  const WorkerOptions& o = *p.options;
  EXPECT_EQ(o.dsn, "");
  EXPECT_EQ(o.name, "");
  EXPECT_EQ(o.concurrency, 4);
  EXPECT_TRUE(o.runtimes.empty());  // all
  EXPECT_EQ(o.poll_interval, std::chrono::milliseconds(1000));
  EXPECT_EQ(o.heartbeat_interval, std::chrono::milliseconds(3000));
  EXPECT_EQ(o.shutdown_grace, std::chrono::milliseconds(30000));
  EXPECT_FALSE(o.once_idle);
  EXPECT_EQ(o.max_log_bytes, std::size_t{8} << 20);
}

TEST(WorkerCli, Flags) {
  ::setenv("ADAGIO_DSN", "dbname=fromenv", 1);
  Registry reg = builtin_runtimes();
  CliParse p = parse({"--dsn", "dbname=x", "--name", "w1", "--concurrency", "8", "--runtimes", "exec,debug",
                      "--poll-interval", "0.25", "--heartbeat-interval", "2", "--log-level", "info", "--once-idle",
                      "--idle-exit", "1.5", "--shutdown-grace", "0", "--max-log-bytes", "0"},
                     reg);
  ASSERT_TRUE(p.options.has_value());
  const WorkerOptions& o = *p.options;
  EXPECT_EQ(o.dsn, "dbname=x");
  EXPECT_EQ(o.name, "w1");
  EXPECT_EQ(o.concurrency, 8);
  EXPECT_EQ(o.runtimes, (std::vector<std::string>{"exec", "debug"}));
  EXPECT_EQ(o.poll_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(o.heartbeat_interval, std::chrono::milliseconds(2000));
  EXPECT_TRUE(o.once_idle);
  EXPECT_EQ(o.idle_exit, std::chrono::milliseconds(1500));
  EXPECT_EQ(o.shutdown_grace, std::chrono::milliseconds(0));
  EXPECT_EQ(o.max_log_bytes, 0u);
  ::unsetenv("ADAGIO_DSN");
}

TEST(WorkerCli, DsnFromEnvironment) {
  ::setenv("ADAGIO_DSN", "dbname=fromenv", 1);
  Registry reg = builtin_runtimes();
  CliParse p = parse({}, reg);
  ASSERT_TRUE(p.options.has_value());
  EXPECT_EQ(p.options->dsn, "dbname=fromenv");
  ::unsetenv("ADAGIO_DSN");
}

TEST(WorkerCli, UnknownRuntimeIsUsageError) {
  Registry reg = builtin_runtimes();
  CliParse p = parse({"--runtimes", "exec,python"}, reg);
  EXPECT_FALSE(p.options.has_value());
  EXPECT_EQ(p.exit_code, 2);
}

TEST(WorkerCli, BadValuesAreUsageErrors) {
  Registry reg = builtin_runtimes();
  EXPECT_EQ(parse({"--concurrency", "0"}, reg).exit_code, 2);
  EXPECT_EQ(parse({"--poll-interval", "-1"}, reg).exit_code, 2);
  EXPECT_EQ(parse({"--log-level", "loud"}, reg).exit_code, 2);
  EXPECT_EQ(parse({"--bogus"}, reg).exit_code, 2);
  EXPECT_EQ(parse({"--max-log-bytes", "-1"}, reg).exit_code, 2);
}

TEST(WorkerCli, HelpExitsZero) {
  Registry reg = builtin_runtimes();
  testing::internal::CaptureStdout();
  CliParse p = parse({"--help"}, reg);
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_FALSE(p.options.has_value());
  EXPECT_EQ(p.exit_code, 0);
  EXPECT_NE(out.find("--heartbeat-interval"), std::string::npos);
}

TEST(WorkerCli, WorkerRejectsUnknownRuntime) {
  Registry reg = builtin_runtimes();
  WorkerOptions o;
  o.runtimes = {"nope"};
  EXPECT_THROW(Worker(o, reg), std::invalid_argument);
}

TEST(WorkerCli, RuntimeAliasServesAPool) {
  Registry reg = builtin_runtimes();
  CliParse p = parse({"--runtimes", "gpu=exec,debug"}, reg);
  ASSERT_TRUE(p.options.has_value());
  EXPECT_EQ(p.options->runtimes, (std::vector<std::string>{"gpu", "debug"}));  // not exec
  EXPECT_EQ(p.options->runtime_aliases, (std::map<std::string, std::string>{{"gpu", "exec"}}));
  EXPECT_NO_THROW(Worker(*p.options, reg));
}

TEST(WorkerCli, BadRuntimeAliasesAreUsageErrors) {
  Registry reg = builtin_runtimes();
  testing::internal::CaptureStderr();
  EXPECT_EQ(parse({"--runtimes", "gpu=python"}, reg).exit_code, 2);      // unknown target
  EXPECT_EQ(parse({"--runtimes", "debug=exec"}, reg).exit_code, 2);      // shadows a runtime
  EXPECT_EQ(parse({"--runtimes", "gpu=exec,gpu=debug"}, reg).exit_code, 2);  // twice
  EXPECT_EQ(parse({"--runtimes", "g p u=exec"}, reg).exit_code, 2);      // not a runtime name
  EXPECT_EQ(parse({"--runtimes", "=exec"}, reg).exit_code, 2);
  EXPECT_EQ(parse({"--runtimes", "timer=exec"}, reg).exit_code, 2);      // the engine's own
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("bad runtime alias \"debug=exec\": \"debug\" is already a runtime of this binary"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("unknown runtime \"python\""), std::string::npos) << err;
}

TEST(WorkerCli, WorkerRejectsAliasOfUnknownRuntime) {
  Registry reg = builtin_runtimes();
  WorkerOptions o;
  o.runtime_aliases = {{"gpu", "python"}};
  o.runtimes = {"gpu"};
  EXPECT_THROW(Worker(o, reg), std::invalid_argument);
}

TEST(WorkerCli, TransactionPoolingAndListenDsn) {
  Registry reg = builtin_runtimes();
  CliParse p = parse({}, reg);
  ASSERT_TRUE(p.options.has_value());
  EXPECT_FALSE(p.options->transaction_pooling);
  EXPECT_EQ(p.options->listen_dsn, "");
  p = parse({"--dsn", "port=6432", "--transaction-pooling", "--listen-dsn", "port=5432"}, reg);
  ASSERT_TRUE(p.options.has_value());
  EXPECT_TRUE(p.options->transaction_pooling);
  EXPECT_EQ(p.options->listen_dsn, "port=5432");
}
