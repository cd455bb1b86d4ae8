// The CLI's rendering, without a database: states, tables, durations, dot and mermaid.
#include "adagio/cli/duration.hpp"
#include "adagio/cli/progress.hpp"
#include "adagio/cli/run_render.hpp"
#include "adagio/cli/table.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace adagio::cli;
using nlohmann::json;

namespace {

json sample_run() {
  return json::parse(R"({
    "id": 12, "status": "completed", "conclusion": "failed", "workflow": "nightly", "workflow_version": 3,
    "created_at": "2026-11-22T22:05:15.123+00:00", "started_at": "2026-11-22T22:05:16.000+00:00",
    "finished_at": "2026-11-22T22:05:19.000+00:00", "duration_ms": 3000, "inputs": {"day": "mon"},
    "idempotency_key": "nightly-2026-11-22", "start_at": "2026-11-22T22:05:16.000+00:00", "priority": -3,
    "concurrency_key": "customer-7", "concurrency_limit": 3, "queued_behind": 2,
    "nodes": [
      {"name": "fetch \"all\"", "runtime": "exec", "state": "completed", "conclusion": "success", "attempt_count": 2,
       "output": "42\nmore", "upstream": [], "attempts": [
         {"attempt": 1, "conclusion": "error", "reason": "orphaned: w1 missed its lease", "agent": "w1", "queue_ms": 5, "duration_ms": 30000},
         {"attempt": 2, "conclusion": "success", "output": "42", "agent": "w2", "queue_ms": 2, "duration_ms": 850}]},
      {"name": "check", "runtime": "debug", "state": "completed", "conclusion": "fail", "attempt_count": 1,
       "upstream": ["fetch \"all\""], "attempts": [{"attempt": 1, "conclusion": "fail", "output": "bad", "agent": "w2", "duration_ms": 12}]},
      {"name": "publish", "runtime": "debug", "state": "completed", "conclusion": "never_reached", "attempt_count": 0,
       "upstream": ["check"], "attempts": []},
      {"name": "again", "runtime": "debug", "state": "scheduled", "conclusion": null, "attempt_count": 1, "retrying": true,
       "attempts": []}
    ],
    "edges": [{"source": "fetch \"all\"", "destination": "check"}, {"source": "check", "destination": "publish"}]
  })");
}

}  // namespace

TEST(CliRender, DisplayStateNamesWhatAPersonCaresAbout) {
  const json run = sample_run();
  EXPECT_EQ(display_state(run["nodes"][0]), "success");
  EXPECT_EQ(display_state(run["nodes"][1]), "fail");
  EXPECT_EQ(display_state(run["nodes"][2]), "never_reached");
  EXPECT_EQ(display_state(run["nodes"][3]), "retrying");
  EXPECT_EQ(display_state(json{{"state", "ready"}, {"attempt_count", 0}}), "ready");
  EXPECT_EQ(display_state(json{{"state", "scheduled"}, {"attempt_count", 2}, {"retrying", false}}), "scheduled")
      << "inspect_run() says whether a node is retrying (attempts of a try before retry_run() make no retry)";
  EXPECT_EQ(display_state(json{{"state", "scheduled"}, {"attempt_count", 3}, {"retrying", true}}), "retrying");
  EXPECT_EQ(display_state(json{{"state", "running"}, {"attempt_count", 1}}), "running");
  EXPECT_EQ(display_state(json{{"state", "ready"}, {"runtime", "approval"}, {"attempt_count", 1}, {"retrying", true}}),
            "awaiting")
      << "an open approval gate waits for a decision, even when a rejection opened it again";
  EXPECT_EQ(display_state(json{{"state", "waiting"}, {"runtime", "approval"}}), "waiting");
  EXPECT_EQ(display_state(json{{"state", "ready"}, {"runtime", "timer"}, {"attempt_count", 0}}), "sleeping")
      << "a ready timer waits for its time, not for a worker";
}

TEST(CliRender, EveryStateHasItsOwnColour) {
  const char* states[] = {"success", "fail", "error", "running", "retrying", "awaiting", "sleeping", "ready", "never_reached", "cancelled", "waiting"};
  std::set<std::string> fills;
  for (const char* s : states) fills.insert(colors_for(s).fill);
  EXPECT_EQ(fills.size(), std::size(states)) << "each state is told apart by its fill";
  EXPECT_STREQ(colors_for("waiting").fill, "#ffffff");
  EXPECT_STREQ(colors_for("never_reached").line_style, "dashed");
}

TEST(CliRender, DotQuotesNamesAndColoursNodes) {
  const std::string dot = render_run_dot(sample_run());
  EXPECT_NE(dot.find("digraph \"run 12\" {"), std::string::npos);
  EXPECT_NE(dot.find(R"x("fetch \"all\"" [label="fetch \"all\"\nsuccess (2 attempts)", fillcolor="#c8e6c9")x"), std::string::npos) << dot;
  EXPECT_NE(dot.find(R"("fetch \"all\"" -> "check";)"), std::string::npos);
  EXPECT_NE(dot.find("style=\"rounded,filled,dashed\""), std::string::npos) << "never reached is dashed";
  EXPECT_EQ(dot.find('\n', dot.find("[label=")), dot.find(";\n", dot.find("[label=")) + 1) << "no raw newline inside a label";
}

TEST(CliRender, MermaidUsesSafeIdsAndEscapedLabels) {
  const std::string mermaid = render_run_mermaid(sample_run());
  EXPECT_EQ(mermaid.rfind("flowchart LR\n", 0), 0u);
  EXPECT_NE(mermaid.find("n0[\"fetch #quot;all#quot;<br/>success\"]"), std::string::npos) << mermaid;
  EXPECT_NE(mermaid.find("n0 --> n1\n"), std::string::npos);
  EXPECT_NE(mermaid.find("class n2 never_reached\n"), std::string::npos);
  EXPECT_NE(mermaid.find("classDef fail fill:#ffcdd2,stroke:#c62828\n"), std::string::npos);
}

TEST(CliRender, TableListsTheRunsPatches) {
  json run = json::parse(R"({"id": 5, "status": "running", "nodes": [], "patches": [
    {"patch": 1, "nodes": ["part-1", "part-2"], "node": "split", "agent_id": 3, "by": "worker", "at": "2026-11-22T22:05:16.000+00:00"},
    {"patch": 2, "nodes": ["notify"], "by": "alice", "at": "2026-11-22T22:06:00.000+00:00"}]})");
  const std::string table = render_run_table(run, Style(false));
  EXPECT_NE(table.find("\npatches\n"), std::string::npos) << table;
  EXPECT_NE(table.find("part-1,part-2"), std::string::npos) << table;
  EXPECT_NE(table.find("node split"), std::string::npos) << table;
  EXPECT_NE(table.find("an operator"), std::string::npos) << table;
  EXPECT_NE(table.find("2026-11-22 22:06:00"), std::string::npos) << table;
  EXPECT_EQ(render_run_table(sample_run(), Style(false)).find("patches"), std::string::npos) << "no patches, no section";
}

TEST(CliRender, TableShowsNodesAndTheAttemptsThatMatter) {
  const std::string table = render_run_table(sample_run(), Style(false));
  EXPECT_NE(table.find("run 12  nightly:3  completed failed"), std::string::npos) << table;
  EXPECT_NE(table.find("took 3.0s"), std::string::npos);
  EXPECT_NE(table.find("inputs {\"day\":\"mon\"}"), std::string::npos);
  EXPECT_NE(table.find("\nidempotency key nightly-2026-11-22\n"), std::string::npos) << "a run started with a key shows it";
  EXPECT_EQ(render_run_table(json::parse(R"({"id": 1, "status": "running", "nodes": []})"), Style(false)).find("idempotency"),
            std::string::npos)
      << "and one without shows nothing";
  EXPECT_NE(table.find("\nstart at 2026-11-22 22:05:16\n"), std::string::npos) << "a delayed run shows its start time";
  EXPECT_EQ(render_run_table(json::parse(R"({"id": 1, "status": "running", "start_at": null, "nodes": []})"), Style(false))
                .find("start at"),
            std::string::npos)
      << "and one started at once does not";
  EXPECT_NE(table.find("\npriority -3\n"), std::string::npos) << "a priority other than the default shows";
  EXPECT_EQ(render_run_table(json::parse(R"({"id": 1, "status": "running", "priority": 0, "nodes": []})"), Style(false))
                .find("priority"),
            std::string::npos)
      << "the default does not";
  EXPECT_NE(render_run_table(json::parse(R"({"id": 1, "status": "running", "timeout_seconds": 90,
                                             "deadline_at": "2026-11-22T22:06:46.5+00:00", "nodes": []})"),
                             Style(false))
                .find("\ntimeout 1m30s  (deadline 2026-11-22 22:06:46)\n"),
            std::string::npos)
      << "a run with a timeout shows it and its deadline";
  EXPECT_EQ(table.find("timeout"), std::string::npos) << "a run without one does not";
  EXPECT_NE(table.find("\nconcurrency key customer-7 (3 at a time)  (waiting for 2 runs to end)\n"), std::string::npos)
      << "a run of a concurrency key shows it, and how many runs are before it";
  EXPECT_NE(table.find("42…"), std::string::npos) << "multi-line output is cut to its first line";
  EXPECT_NE(table.find("orphaned: w1 missed its lease"), std::string::npos) << "the attempts section shows reasons";
  EXPECT_EQ(table.find("\033"), std::string::npos) << "no colour codes without colour";
}

TEST(CliTable, PadsByDisplayWidthIgnoringColourCodes) {
  Table t({"A", "B"});
  t.add_row({"\033[32mok\033[0m", "x"});
  t.add_row({"héllo", "y"});
  EXPECT_EQ(t.render(), "A      B\n\033[32mok\033[0m     x\nhéllo  y\n");
  EXPECT_EQ(display_width("\033[1mbold\033[0m"), 4u);
  EXPECT_EQ(one_line("short", 10), "short");
  EXPECT_EQ(one_line("first\nsecond", 20), "first…");
  EXPECT_EQ(one_line("abcdefghij", 5), "abcd…");
  EXPECT_EQ(one_line("no rows for this day…\nsee the log", 40), "no rows for this day…") << "one ellipsis, not two";
}

TEST(CliDuration, FormatsAndParses) {
  EXPECT_EQ(format_duration_ms(850), "850ms");
  EXPECT_EQ(format_duration_ms(12'400), "12.4s");
  EXPECT_EQ(format_duration_ms(185'000), "3m05s");
  EXPECT_EQ(format_duration_ms(2 * 3600'000.0 + 14 * 60'000), "2h14m");
  EXPECT_EQ(format_duration_ms(-1), "-");
  EXPECT_EQ(parse_duration_seconds("90"), 90);
  EXPECT_EQ(parse_duration_seconds("15m"), 900);
  EXPECT_EQ(parse_duration_seconds("2h"), 7200);
  EXPECT_EQ(parse_duration_seconds("7d"), 7 * 86400);
  EXPECT_EQ(parse_duration_seconds("2026-11-22"), std::nullopt) << "a date is not a duration";
  EXPECT_EQ(parse_duration_seconds("-5s"), std::nullopt);
  EXPECT_EQ(parse_duration_seconds(""), std::nullopt);
}

TEST(CliProgress, BarCountsFinishedNodes) {
  RunProgress p;
  p.total = 10;
  p.finished = 5;
  p.running = 2;
  p.failed = 1;
  EXPECT_EQ(render_progress(p, 10), "[#####-----]  5/10 nodes  2 running  1 failed");
  p.finished = 10;
  p.running = 0;
  p.failed = 0;
  EXPECT_EQ(render_progress(p, 4), "[####]  10/10 nodes");
}
