// The graph rules validate() enforces, each with the message a user would see.
#include "adagio/graph_error.hpp"
#include "adagio/graph_json.hpp"
#include "adagio/topology.hpp"
#include "adagio/validate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace adagio {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

NodeSpec node(std::string name, std::string runtime = "exec") {
  NodeSpec n;
  n.name = std::move(name);
  n.runtime = std::move(runtime);
  return n;
}

Graph graph(std::vector<std::string> names, std::vector<std::pair<std::string, std::string>> edges = {}) {
  Graph g;
  for (auto& name : names) g.nodes.push_back(node(std::move(name)));
  for (auto& [source, destination] : edges) g.edges.push_back(Edge{std::move(source), std::move(destination)});
  return g;
}

struct Rejection {
  GraphErrorKind kind;
  std::string message;
};

Rejection rejection(const Graph& g) {
  try {
    validate(g);
  } catch (const GraphError& e) {
    return {e.kind(), e.what()};
  }
  ADD_FAILURE() << "validate accepted " << to_json(g).dump();
  return {GraphErrorKind::invalid_graph, "<accepted>"};
}

std::string invalid(const Graph& g) {
  const Rejection r = rejection(g);
  EXPECT_EQ(r.kind, GraphErrorKind::invalid_graph) << r.message;
  return r.message;
}

std::string cycle(const Graph& g) {
  const Rejection r = rejection(g);
  EXPECT_EQ(r.kind, GraphErrorKind::cycle) << r.message;
  return r.message;
}

TEST(Validate, AcceptsAValidGraph) {
  Graph g = parse_graph(
      R"({"nodes":[{"name":"a","runtime":"exec","metadata":{"command":"echo"},"retry":{"error":{"max_attempts":2}}},)"
      R"({"name":"b","runtime":"python3.11"}],"edges":[{"source":"a","destination":"b"}]})");
  EXPECT_NO_THROW(validate(g));
}

TEST(Validate, RejectsAnEmptyGraph) { EXPECT_EQ(invalid(Graph{}), "graph has no nodes"); }

TEST(Validate, NodeNames) {
  EXPECT_EQ(invalid(graph({"a", ""})), "nodes[1]: name must not be empty");
  EXPECT_NO_THROW(validate(graph({std::string(128, 'n')})));
  EXPECT_EQ(invalid(graph({std::string(129, 'n')})), "nodes[0]: name is 129 bytes long, at most 128 are allowed");
  EXPECT_EQ(invalid(graph({"a\nb"})), R"(nodes[0]: name "a\nb" contains a control character at byte 1)");
  EXPECT_EQ(invalid(graph({"ok", "del\x7f"})), "nodes[1]: name \"del\x7f\" contains a control character at byte 3");
  EXPECT_THAT(invalid(graph({"c1\xc2\x85"})), HasSubstr("contains a control character at byte 2"));
  EXPECT_NO_THROW(validate(graph({"café ✓", "with space", "a/b:c"})));
}

TEST(Validate, NodeNamesAreUnique) {
  EXPECT_EQ(invalid(graph({"a", "b", "c", "a"})), R"(duplicate node name "a" (nodes[0] and nodes[3]))");
}

TEST(Validate, Runtime) {
  const std::string rule = "must match ^[A-Za-z0-9_.-]{1,48}$";
  EXPECT_EQ(invalid(Graph{{node("a", "")}, {}}), R"(node "a": runtime "" )" + rule + " (it is empty)");
  EXPECT_EQ(invalid(Graph{{node("a", "py thon")}, {}}),
            R"(node "a": runtime "py thon" )" + rule + " (byte 2 is not allowed)");
  EXPECT_EQ(invalid(Graph{{node("a", std::string(49, 'r'))}, {}}),
            "node \"a\": runtime \"" + std::string(49, 'r') + "\" " + rule + " (it is 49 bytes long)");
  EXPECT_NO_THROW(validate(Graph{{node("a", std::string(48, 'r')), node("b", "Exec_2.v-1")}, {}}));
}

TEST(Validate, ApprovalGatesHaveATimeoutButNoLease) {
  NodeSpec gate = node("sign-off", approval_runtime);
  gate.timeout_seconds = 86400;
  gate.retry[Conclusion::fail] = RetryPolicy{2, std::nullopt};
  EXPECT_NO_THROW(validate(Graph{{gate}, {}}));
  gate.lease_seconds = 60;
  EXPECT_EQ(invalid(Graph{{gate}, {}}),
            "node \"sign-off\": lease_seconds does not apply to an approval gate (no worker claims it); "
            "timeout_seconds sets how long it stays open");
  NodeSpec task = node("task");  // the same lease on a worker's node is fine
  task.lease_seconds = 60;
  EXPECT_NO_THROW(validate(Graph{{task}, {}}));
}

TEST(Validate, TimersNeedTheirSecondsAndNothingOfAWorkers) {
  NodeSpec timer = node("cool-down", timer_runtime);
  EXPECT_EQ(invalid(Graph{{timer}, {}}),
            R"(node "cool-down": a timer needs metadata "seconds" with one value: how long it waits, e.g. "3600")");
  timer.metadata["seconds"] = {"60", "120"};
  EXPECT_THAT(invalid(Graph{{timer}, {}}), HasSubstr("with one value"));
  for (const char* bad : {"", "soon", "0", "-5", "60s", "nan", "inf", "31536001"}) {
    timer.metadata["seconds"] = {bad};
    EXPECT_EQ(invalid(Graph{{timer}, {}}),
              std::string(R"(node "cool-down": timer metadata "seconds" must be a number of seconds above 0 and at most )"
                          R"(31536000 (365 days), got ")") + bad + "\"");
  }
  for (const char* good : {"0.5", "60", "3600", "1e3", "31536000"}) {
    timer.metadata["seconds"] = {good};
    EXPECT_NO_THROW(validate(Graph{{timer}, {}})) << good;
  }
  timer.timeout_seconds = 10;
  EXPECT_THAT(invalid(Graph{{timer}, {}}), HasSubstr("timeout_seconds does not apply to a timer"));
  timer.timeout_seconds.reset();
  timer.lease_seconds = 10;
  EXPECT_THAT(invalid(Graph{{timer}, {}}), HasSubstr("lease_seconds does not apply to a timer"));
  EXPECT_TRUE(is_engine_runtime("timer") && is_engine_runtime("approval") && !is_engine_runtime("exec"));
}

TEST(Validate, RetryOnSuccessMakesNoSense) {
  Graph g = graph({"a"});
  g.nodes[0].retry[Conclusion::success] = RetryPolicy{2, std::nullopt};
  EXPECT_EQ(invalid(g), R"(node "a": retry on "success" makes no sense (expected "fail" or "error"))");
}

TEST(Validate, MaxAttemptsIsPositive) {
  const Graph zero =
      parse_graph(R"({"nodes":[{"name":"a","runtime":"exec","retry":{"error":{"max_attempts":0}}}]})");
  EXPECT_EQ(invalid(zero), R"(node "a": retry "error": max_attempts must be a positive integer, got 0)");
  Graph negative = graph({"a"});
  negative.nodes[0].retry[Conclusion::fail] = RetryPolicy{-3, std::nullopt};
  EXPECT_EQ(invalid(negative), R"(node "a": retry "fail": max_attempts must be a positive integer, got -3)");
}

TEST(Validate, EdgeEndpointsAreNodes) {
  EXPECT_EQ(invalid(graph({"a", "b"}, {{"a", "b"}, {"b", "zz"}})), R"(edge b -> zz: destination "zz" is not a node)");
  EXPECT_EQ(invalid(graph({"a", "b"}, {{"x", "b"}})), R"(edge x -> b: source "x" is not a node)");
}

TEST(Validate, NoDuplicateEdges) {
  EXPECT_THAT(invalid(graph({"a", "b", "c"}, {{"a", "b"}, {"b", "c"}, {"a", "b"}})),
              StartsWith("duplicate edge a -> b"));
  EXPECT_EQ(invalid(graph({"a", "b", "c"}, {{"a", "b"}, {"b", "c"}, {"a", "b"}})),
            "duplicate edge a -> b (edges[0] and edges[2])");
  // The same endpoints in the other direction are a cycle, not a duplicate.
  EXPECT_EQ(cycle(graph({"a", "b"}, {{"a", "b"}, {"b", "a"}})), "graph has a cycle: a -> b -> a");
}

TEST(Validate, SelfLoopIsACycle) {
  EXPECT_EQ(cycle(graph({"a", "b"}, {{"a", "b"}, {"b", "b"}})), "graph has a cycle: b -> b");
}

TEST(Validate, CycleMessageNamesOnlyTheNodesOnTheCycle) {
  // x leads into the cycle and d hangs off it; neither is part of it.
  const Graph g = graph({"x", "a", "b", "c", "d"}, {{"x", "a"}, {"a", "b"}, {"b", "c"}, {"c", "d"}, {"c", "a"}});
  EXPECT_EQ(cycle(g), "graph has a cycle: a -> b -> c -> a");
}

TEST(Validate, CycleMessageStartsAtTheNodeListedFirst) {
  // The search enters the cycle at a (via x), but b is listed before a.
  EXPECT_EQ(cycle(graph({"x", "b", "a"}, {{"x", "a"}, {"a", "b"}, {"b", "a"}})), "graph has a cycle: b -> a -> b");
}

TEST(Validate, FindsACycleAfterAnAcyclicPart) {
  const Graph g = graph({"a", "b", "c", "d", "e"}, {{"a", "b"}, {"b", "c"}, {"d", "e"}, {"e", "d"}});
  EXPECT_EQ(cycle(g), "graph has a cycle: d -> e -> d");
}

// `layers` layers of `width` nodes, each node feeding three nodes of the next layer.
Graph layered_graph(std::size_t layers, std::size_t width) {
  Graph g;
  auto name = [](std::size_t layer, std::size_t i) { return "L" + std::to_string(layer) + "n" + std::to_string(i); };
  for (std::size_t layer = 0; layer < layers; ++layer)
    for (std::size_t i = 0; i < width; ++i) g.nodes.push_back(node(name(layer, i)));
  const std::size_t steps[] = {0, 1, 7};
  for (std::size_t layer = 0; layer + 1 < layers; ++layer)
    for (std::size_t i = 0; i < width; ++i)
      for (std::size_t step : steps) g.edges.push_back(Edge{name(layer, i), name(layer + 1, (i + step) % width)});
  return g;
}

TEST(Validate, LargeLayeredGraph) {
  Graph g = layered_graph(200, 100);
  ASSERT_EQ(g.nodes.size(), 20000u);
  EXPECT_NO_THROW(validate(g));

  const Topology t = build_topology(g);
  ASSERT_EQ(t.order.size(), g.nodes.size());
  std::vector<std::size_t> position(g.nodes.size());
  for (std::size_t p = 0; p < t.order.size(); ++p) position[t.order[p]] = p;
  for (std::size_t u = 0; u < g.nodes.size(); ++u)
    for (std::size_t v : t.downstream[u]) EXPECT_LT(position[u], position[v]);

  g.edges.push_back(Edge{"L199n5", "L0n5"});
  const std::string message = cycle(g);
  EXPECT_THAT(message, StartsWith("graph has a cycle: L0n5 -> L1n5 -> "));
  EXPECT_THAT(message, EndsWith(" -> L199n5 -> L0n5"));
}

TEST(Validate, DeepChainDoesNotExhaustTheStack) {
  Graph g;
  const std::size_t n = 100000;
  for (std::size_t i = 0; i < n; ++i) g.nodes.push_back(node("n" + std::to_string(i)));
  for (std::size_t i = 0; i + 1 < n; ++i) g.edges.push_back(Edge{g.nodes[i].name, g.nodes[i + 1].name});
  EXPECT_NO_THROW(validate(g));

  g.edges.push_back(Edge{"n99999", "n0"});
  const std::string message = cycle(g);
  EXPECT_THAT(message, StartsWith("graph has a cycle: n0 -> n1 -> n2 -> "));
  EXPECT_THAT(message, EndsWith(" -> n99998 -> n99999 -> n0"));
}

}  // namespace
}  // namespace adagio
