// Tests of the "debug" runtime and duration parsing.
#include <gtest/gtest.h>

#include <adagio/worker/debug.hpp>
#include <atomic>
#include <thread>

using namespace adagio::worker;
using namespace std::chrono_literals;

namespace {

Task debug_task(std::map<std::string, std::vector<std::string>> metadata = {}) {
  Task t;
  t.run_id = 1;
  t.node = "d";
  t.runtime = "debug";
  t.metadata = std::move(metadata);
  return t;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(WorkerDebug, DefaultIsSuccess) {
  Result r = run_debug(debug_task());
  EXPECT_EQ(r.conclusion, Conclusion::success);
  EXPECT_EQ(r.output, "debug: success");
}

TEST(WorkerDebug, Conclusions) {
  Result r = run_debug(debug_task({{"conclusion", {"fail"}}}));
  EXPECT_EQ(r.conclusion, Conclusion::fail);
  EXPECT_EQ(r.output, "debug: fail");
  r = run_debug(debug_task({{"conclusion", {"error"}}}));
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_EQ(r.output, "debug: error");
  r = run_debug(debug_task({{"conclusion", {"success"}}}));
  EXPECT_EQ(r.conclusion, Conclusion::success);
}

TEST(WorkerDebug, OutputOverride) {
  Result r = run_debug(debug_task({{"conclusion", {"fail"}}, {"output", {"custom text"}}}));
  EXPECT_EQ(r.conclusion, Conclusion::fail);
  EXPECT_EQ(r.output, "custom text");
}

TEST(WorkerDebug, PatchComesWithASuccessOnly) {
  const std::string patch = R"({"nodes": [{"name": "more", "runtime": "debug"}]})";
  Result r = run_debug(debug_task({{"patch", {patch}}}));
  EXPECT_EQ(r.conclusion, Conclusion::success);
  ASSERT_TRUE(r.patch.has_value());
  EXPECT_EQ((*r.patch)["nodes"][0]["name"], "more");
  r = run_debug(debug_task({{"patch", {patch}}, {"conclusion", {"fail"}}}));
  EXPECT_FALSE(r.patch.has_value());
  r = run_debug(debug_task({{"patch", {"\"text\""}}}));
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_TRUE(contains(r.output, "metadata \"patch\" is not a JSON object or array")) << r.output;
  EXPECT_FALSE(run_debug(debug_task()).patch.has_value());
}

TEST(WorkerDebug, CertainChanceWins) {
  Result r = run_debug(debug_task({{"chances", {"1.0 fail"}}}));
  EXPECT_EQ(r.conclusion, Conclusion::fail);
  EXPECT_EQ(r.output, "debug: fail");
}

TEST(WorkerDebug, ImpossibleChanceNeverWins) {
  for (int i = 0; i < 200; ++i) {
    Result r = run_debug(debug_task({{"chances", {"0.0 fail"}}}));
    ASSERT_EQ(r.conclusion, Conclusion::success);
  }
}

TEST(WorkerDebug, ChancesAreTriedInOrder) {
  Result r = run_debug(debug_task({{"chances", {"0.0 fail", "1 error", "1 fail"}}}));
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_EQ(r.output, "debug: error");
}

TEST(WorkerDebug, ChanceCanOverrideToSuccess) {
  Result r = run_debug(debug_task({{"conclusion", {"fail"}}, {"chances", {"1 success"}}}));
  EXPECT_EQ(r.conclusion, Conclusion::success);
}

TEST(WorkerDebug, PanicIsError) {
  Result r = run_debug(debug_task({{"chances", {"1.0 panic"}}, {"output", {"ignored"}}}));
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_EQ(r.output, "debug: panic");
}

TEST(WorkerDebug, HalfChanceGivesBoth) {
  int fails = 0;
  for (int i = 0; i < 400; ++i)
    if (run_debug(debug_task({{"chances", {"0.5 fail"}}})).conclusion == Conclusion::fail) ++fails;
  EXPECT_GT(fails, 100);
  EXPECT_LT(fails, 300);
}

TEST(WorkerDebug, BadConclusion) {
  Result r = run_debug(debug_task({{"conclusion", {"maybe"}}}));
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_TRUE(contains(r.output, "\"maybe\"")) << r.output;
}

TEST(WorkerDebug, BadSleep) {
  Result r = run_debug(debug_task({{"sleep", {"forever"}}}));
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_TRUE(contains(r.output, "\"forever\"")) << r.output;
}

TEST(WorkerDebug, BadChances) {
  for (const char* bad : {"x fail", "0.5 explode", "0.5", "1.5 fail", "-0.1 fail", "0.5 fail extra", "nan fail"}) {
    Result r = run_debug(debug_task({{"chances", {bad}}}));
    EXPECT_EQ(r.conclusion, Conclusion::error) << bad;
    EXPECT_TRUE(r.output.rfind("debug: bad chance", 0) == 0) << r.output;
  }
  Result r = run_debug(debug_task({{"chances", {"0.5 explode"}}}));
  EXPECT_TRUE(contains(r.output, "\"explode\"")) << r.output;
  r = run_debug(debug_task({{"chances", {"1.5 fail"}}}));
  EXPECT_TRUE(contains(r.output, "\"1.5\"")) << r.output;
}

TEST(WorkerDebug, BadMetadataFailsBeforeSleeping) {
  const auto t0 = std::chrono::steady_clock::now();
  Result r = run_debug(debug_task({{"sleep", {"10s"}}, {"conclusion", {"nope"}}}));
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

TEST(WorkerDebug, Sleeps) {
  const auto t0 = std::chrono::steady_clock::now();
  Result r = run_debug(debug_task({{"sleep", {"200ms"}}}));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.conclusion, Conclusion::success);
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 2s);
}

TEST(WorkerDebug, SleepHonoursCancellation) {
  std::atomic<bool> cancel{false};
  Task t = debug_task({{"sleep", {"30s"}}});
  t.cancelled = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(150ms);
    cancel = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  Result r = run_debug(t);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  canceller.join();
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_EQ(r.output, "cancelled");
  EXPECT_LT(elapsed, 1s);
}

TEST(WorkerDebugDuration, Units) {
  EXPECT_EQ(parse_duration("250ms"), std::chrono::nanoseconds(250ms));
  EXPECT_EQ(parse_duration("2s"), std::chrono::nanoseconds(2s));
  EXPECT_EQ(parse_duration("1m"), std::chrono::nanoseconds(1min));
  EXPECT_EQ(parse_duration("1h"), std::chrono::nanoseconds(1h));
  EXPECT_EQ(parse_duration("500us"), std::chrono::nanoseconds(500us));
  EXPECT_EQ(parse_duration("500\xC2\xB5s"), std::chrono::nanoseconds(500us));
  EXPECT_EQ(parse_duration("7ns"), std::chrono::nanoseconds(7));
}

TEST(WorkerDebugDuration, CompoundAndFractions) {
  EXPECT_EQ(parse_duration("1m30s"), std::chrono::nanoseconds(90s));
  EXPECT_EQ(parse_duration("1.5s"), std::chrono::nanoseconds(1500ms));
  EXPECT_EQ(parse_duration(".5s"), std::chrono::nanoseconds(500ms));
  EXPECT_EQ(parse_duration("1h2m3s4ms"), std::chrono::nanoseconds(1h + 2min + 3s + 4ms));
  EXPECT_EQ(parse_duration(" 2s "), std::chrono::nanoseconds(2s));
}

TEST(WorkerDebugDuration, BareIntegerIsNanoseconds) {
  EXPECT_EQ(parse_duration("100"), std::chrono::nanoseconds(100));
  EXPECT_EQ(parse_duration("0"), std::chrono::nanoseconds(0));
  EXPECT_EQ(parse_duration("1000000000"), std::chrono::nanoseconds(1s));
}

TEST(WorkerDebugDuration, Sign) {
  EXPECT_EQ(parse_duration("-1s"), std::chrono::nanoseconds(-1s));
  EXPECT_EQ(parse_duration("+1s"), std::chrono::nanoseconds(1s));
}

TEST(WorkerDebugDuration, Invalid) {
  for (const char* bad :
       {"", " ", "abc", "5x", "ms", "1s2", "1..5s", "s1", "-", "1 s", "99999999999999999999", "3000000h"})
    EXPECT_FALSE(parse_duration(bad).has_value()) << '"' << bad << '"';
}

TEST(WorkerDebug, BuiltinRegistryHasDebug) {
  Registry reg = builtin_runtimes();
  ASSERT_NE(reg.find("debug"), nullptr);
  Result r = (*reg.find("debug"))(debug_task({{"conclusion", {"fail"}}}));
  EXPECT_EQ(r.conclusion, Conclusion::fail);
}
