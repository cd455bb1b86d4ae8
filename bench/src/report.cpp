#include "report.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

using nlohmann::json;

namespace {

// A missing file is an empty object: a workload that failed shows as "-" rather than no table.
json load(const std::string& dir, const std::string& name) {
  std::ifstream in(dir + "/" + name + ".json");
  if (!in) return json::object();
  try {
    return json::parse(in);
  } catch (const std::exception&) {
    return json::object();
  }
}

// "key value" lines written by bench/workloads: worker_rss_kb, worker_cpu_s, db_cpu_s, wal_bytes, nodes.
json load_resources(const std::string& dir, const std::string& name) {
  std::ifstream in(dir + "/" + name + ".resources");
  json out = json::object();
  std::string key;
  double value = 0;
  while (in >> key >> value) out[key] = value;
  return out;
}

double number(const json& j, const std::string& path) {
  const json* at = &j;
  std::istringstream parts(path);
  std::string key;
  while (std::getline(parts, key, '.')) {
    if (!at->is_object() || !at->contains(key)) return -1;
    at = &at->at(key);
  }
  return at->is_number() ? at->get<double>() : -1;
}

std::string fmt(double v, const char* spec = "%.0f") {
  if (v < 0) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

struct Line {
  std::string metric;
  double ours, theirs;
  std::string theirs_label;  // what the right-hand figure is, when it is not Graphile Worker's
  const char* spec;
  std::string target;      // e.g. ">= 1.5"
  double target_ratio;     // 0: no target
  bool lower_is_better;
  bool compared = true;    // false: no right-hand figure exists (the dag's resources)
};

}  // namespace

int report(const std::string& dir, bool require_all) {
  json doc = {{"adagio", json::object()}, {"graphile", json::object()}};
  for (const char* w : {"flat", "flat_notify_off", "flat_no_events", "dag", "chain", "starts", "steady"}) {
    json j = load(dir, std::string("adagio_") + w);
    j["resources"] = load_resources(dir, std::string("adagio_") + w);
    doc["adagio"][w] = j;
  }
  for (const char* w : {"flat", "chain", "starts"}) {
    json j = load(dir, std::string("graphile_") + w);
    j["resources"] = load_resources(dir, std::string("graphile_") + w);
    doc["graphile"][w] = j;
  }
  doc["machine"] = load(dir, "machine");

  const json& a = doc["adagio"];
  const json& g = doc["graphile"];
  auto per_1000 = [](const json& w, const char* cpu_key = "resources.db_cpu_s") {
    const double cpu = number(w, cpu_key), nodes = number(w, "resources.nodes");
    return cpu < 0 || nodes <= 0 ? -1.0 : cpu / nodes * 1000.0;
  };
  // What the server wrote to its WAL per node: the drain's write volume, which replicas, backups
  // and checkpoints all pay for again.
  auto wal_kb_per_node = [](const json& w) {
    const double bytes = number(w, "resources.wal_bytes"), nodes = number(w, "resources.nodes");
    return bytes < 0 || nodes <= 0 ? -1.0 : bytes / nodes / 1024.0;
  };
  auto rss_mb = [](const json& w) {
    const double kb = number(w, "resources.worker_rss_kb");
    return kb < 0 ? -1.0 : kb / 1024.0;
  };
  const double flat = number(a["flat"], "nodes_per_s");
  std::vector<Line> lines = {
      {"flat: nodes/s", flat, number(g["flat"], "nodes_per_s"), "", "%.0f", ">= 1.5", 1.5, false},
      {"flat, notify_events=off: nodes/s", number(a["flat_notify_off"], "nodes_per_s"), flat, "adagio flat (on)",
       "%.0f", "", 0, false},
      {"flat, no event rows: nodes/s", number(a["flat_no_events"], "nodes_per_s"), flat, "adagio flat (with)", "%.0f",
       "", 0, false},
      {"dag: nodes/s", number(a["dag"], "nodes_per_s"), flat, "adagio flat", "%.0f", ">= 0.7", 0.7, false},
      {"chain: hop P50 ms", number(a["chain"], "p50_ms"), number(g["chain"], "p50_ms"), "", "%.2f", "<= 0.5", 0.5,
       true},
      {"chain: hop P99 ms", number(a["chain"], "p99_ms"), number(g["chain"], "p99_ms"), "", "%.2f", "", 0, true},
      {"starts one at a time: runs/s (GW: jobs/s)", number(a["starts"], "one_at_a_time_per_s"),
       number(g["starts"], "one_at_a_time_per_s"), "", "%.0f", "", 0, false},
      {"starts batched: runs/s (GW: jobs/s)", number(a["starts"], "batched_per_s"),
       number(g["starts"], "batched_per_s"), "", "%.0f", ">= 10000/s", 0, false},
      {"steady: nodes/s last span vs first", number(a["steady"], "last.nodes_per_s"),
       number(a["steady"], "first.nodes_per_s"), "adagio first span", "%.0f", ">= 0.8", 0.8, false},
      {"steady: claim P50 ms last span vs first", number(a["steady"], "last.claim_p50_ms"),
       number(a["steady"], "first.claim_p50_ms"), "adagio first span", "%.2f", "", 0, true},
      {"steady: nodes/s last vs the very first span", number(a["steady"], "last.nodes_per_s"),
       number(a["steady"], "first_from_start.nodes_per_s"), "adagio first span, warm-up in", "%.0f", "", 0, false},
      {"flat: worker peak RSS MB", rss_mb(a["flat"]), rss_mb(g["flat"]), "", "%.1f", "", 0, true},
      {"flat: DB CPU s per 1000 nodes", per_1000(a["flat"]), per_1000(g["flat"]), "", "%.3f", "", 0, true},
      {"dag: DB CPU s per 1000 nodes", per_1000(a["dag"]), -1, "", "%.3f", "", 0, true, false},
      {"flat: WAL KB per node", wal_kb_per_node(a["flat"]), wal_kb_per_node(g["flat"]), "", "%.2f", "", 0, true},
      {"dag: WAL KB per node", wal_kb_per_node(a["dag"]), -1, "", "%.2f", "", 0, true, false},
      {"flat: worker CPU s per 1000 nodes", per_1000(a["flat"], "resources.worker_cpu_s"),
       per_1000(g["flat"], "resources.worker_cpu_s"), "", "%.3f", "", 0, true},
      {"dag: worker CPU s per 1000 nodes", per_1000(a["dag"], "resources.worker_cpu_s"), -1, "", "%.3f", "", 0, true, false},
  };

  json table = json::array();
  std::printf("\n%-44s %12s %12s %8s  %-10s %s\n", "workload / figure", "adagio", "other", "ratio", "target", "");
  std::printf("%s\n", std::string(100, '-').c_str());
  for (const Line& l : lines) {
    const double ratio = l.ours > 0 && l.theirs > 0 ? l.ours / l.theirs : -1;
    std::string verdict;
    if (l.target == ">= 10000/s") verdict = l.ours < 0 ? "?" : (l.ours >= 10000 ? "met" : "NOT met");
    else if (l.target_ratio > 0 && ratio >= 0)
      verdict = (l.lower_is_better ? ratio <= l.target_ratio : ratio >= l.target_ratio) ? "met" : "NOT met";
    else if (l.target_ratio > 0) verdict = "?";
    std::printf("%-44s %12s %12s %8s  %-10s %s%s\n", l.metric.c_str(), fmt(l.ours, l.spec).c_str(),
                fmt(l.theirs, l.spec).c_str(), fmt(ratio, "%.2fx").c_str(), l.target.c_str(), verdict.c_str(),
                l.theirs_label.empty() ? "" : ("  (other = " + l.theirs_label + ")").c_str());
    table.push_back({{"figure", l.metric}, {"adagio", l.ours}, {"other", l.theirs},
                     {"other_is", l.theirs_label.empty() ? "graphile-worker" : l.theirs_label}, {"ratio", ratio},
                     {"target", l.target}, {"verdict", verdict}});
  }
  std::printf("(other = Graphile Worker unless noted; - = not measured)\n");
  if (const json* runs = a["flat"].contains("of_runs_nodes_per_s") ? &a["flat"]["of_runs_nodes_per_s"] : nullptr)
    std::printf("(flat on both systems and dag: the median of %zu drains each, taken in turn)\n", runs->size());
  if (const json* spans = a["starts"].contains("of_spans") ? &a["starts"]["of_spans"]["batched_per_s"] : nullptr)
    std::printf("(starts on both systems: the median of %zu spans each, one at a time and batched in turn, each from"
                " empty tables)\n", spans->size());
  doc["table"] = table;
  std::ofstream(dir + "/results.json") << doc.dump(2) << "\n";
  std::printf("results: %s/results.json\n", dir.c_str());
  if (!require_all) return 0;

  std::vector<std::string> problems;
  for (const Line& l : lines) {
    if (l.ours < 0) problems.push_back(l.metric + ": adagio's figure is missing");
    if (l.compared && l.theirs < 0) problems.push_back(l.metric + ": the other figure is missing");
  }
  for (const char* w : {"flat", "flat_notify_off", "flat_no_events", "dag"})
    if (const double left = number(a[w], "unfinished"); left != 0)
      problems.push_back(std::string(w) + ": " + (left < 0 ? "no count of unfinished nodes" : fmt(left) + " nodes unfinished"));
  for (const std::string& p : problems) std::fprintf(stderr, "bench: %s\n", p.c_str());
  return problems.empty() ? 0 : 1;
}
