// Tests of the graph shape: node names and edges as the extension stores and loads them.
#include <gtest/gtest.h>

#include "adagio/graph_error.hpp"
#include "adagio/graph_json.hpp"
#include "adagio/graph_shape.hpp"
#include "adagio/topology.hpp"

using namespace adagio;

namespace {

Graph example() {
  return parse_graph(R"({"nodes": [
      {"name": "fetch", "runtime": "exec", "metadata": {"argv": {"values": ["curl"]}}},
      {"name": "parse step", "runtime": "debug"},
      {"name": "ünïcode", "runtime": "debug"},
      {"name": "store", "runtime": "debug"}],
    "edges": [{"source": "fetch", "destination": "parse step"}, {"source": "fetch", "destination": "ünïcode"},
              {"source": "parse step", "destination": "store"}, {"source": "ünïcode", "destination": "store"}]})");
}

void expect_malformed(const std::string& text) {
  try {
    graph_from_shape(text);
    ADD_FAILURE() << "accepted: " << text;
  } catch (const GraphError& e) {
    EXPECT_EQ(e.kind(), GraphErrorKind::invalid_graph);
    EXPECT_NE(std::string(e.what()).find("malformed graph shape"), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(CoreShape, TextIsNamesThenEdges) {
  EXPECT_EQ(shape_text(example()),
            "fetch\nparse step\nünïcode\nstore\n\nfetch\tparse step\nfetch\tünïcode\nparse step\tstore\nünïcode\tstore\n");
}

TEST(CoreShape, RoundTripKeepsNamesEdgesAndTopology) {
  const Graph graph = example();
  const Graph shape = graph_from_shape(shape_text(graph));
  ASSERT_EQ(shape.nodes.size(), graph.nodes.size());
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    EXPECT_EQ(shape.nodes[i].name, graph.nodes[i].name);
    EXPECT_TRUE(shape.nodes[i].runtime.empty());  // only names travel
  }
  ASSERT_EQ(shape.edges.size(), graph.edges.size());
  for (std::size_t i = 0; i < graph.edges.size(); ++i) {
    EXPECT_EQ(shape.edges[i].source, graph.edges[i].source);
    EXPECT_EQ(shape.edges[i].destination, graph.edges[i].destination);
  }
  const Topology a = build_topology(graph), b = build_topology(shape);
  EXPECT_EQ(a.order, b.order);
  EXPECT_EQ(a.downstream, b.downstream);
  EXPECT_EQ(a.upstream, b.upstream);
}

TEST(CoreShape, SingleNodeWithoutEdges) {
  const Graph shape = graph_from_shape("only\n\n");
  ASSERT_EQ(shape.nodes.size(), 1u);
  EXPECT_EQ(shape.nodes[0].name, "only");
  EXPECT_TRUE(shape.edges.empty());
}

TEST(CoreShape, MalformedTextIsRefused) {
  expect_malformed("");                  // no nodes, no separator
  expect_malformed("a\nb\n");            // no empty line after the nodes
  expect_malformed("\n");                // no nodes
  expect_malformed("a\n\na b\n");        // an edge without a tab
  expect_malformed("a\n\n\tb\n");        // no source
  expect_malformed("a\n\na\t\n");        // no destination
  expect_malformed("a\n\na\tb");         // last line not ended
}
