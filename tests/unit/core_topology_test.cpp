// Topological order, neighbour lists and descendants, on the 7-node example graph:
//
//   a ──> c ──> e ──> g
//    └──> d ──┘      ^
//   b ──┘            |
//    └──> f ─────────┘
#include "adagio/graph_error.hpp"
#include "adagio/topology.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace adagio {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Names = std::vector<std::string>;

const std::vector<std::pair<std::string, std::string>> example_edges = {
    {"a", "c"}, {"a", "d"}, {"b", "d"}, {"b", "f"}, {"c", "e"}, {"d", "e"}, {"e", "g"}, {"f", "g"}};

Graph graph(const Names& names, const std::vector<std::pair<std::string, std::string>>& edges) {
  Graph g;
  for (const std::string& name : names) g.nodes.push_back(NodeSpec{name, "exec", {}, {}, std::nullopt});
  for (const auto& [source, destination] : edges) g.edges.push_back(Edge{source, destination});
  return g;
}

Names names(const Graph& g, const std::vector<std::size_t>& indices) {
  Names result;
  for (std::size_t i : indices) result.push_back(g.nodes[i].name);
  return result;
}

std::size_t index_of(const Graph& g, const std::string& name) {
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].name == name) return i;
  throw std::logic_error("no node " + name);
}

TEST(Topology, OrderOfTheExampleGraph) {
  const Graph g = graph({"a", "b", "c", "d", "e", "f", "g"}, example_edges);
  EXPECT_THAT(names(g, build_topology(g).order), ElementsAre("a", "b", "c", "d", "e", "f", "g"));
}

TEST(Topology, TiesGoToTheNodeEarlierInTheInput) {
  // Same graph, nodes listed backwards: whenever several nodes are ready, the one listed first wins.
  const Graph g = graph({"g", "f", "e", "d", "c", "b", "a"}, example_edges);
  EXPECT_THAT(names(g, build_topology(g).order), ElementsAre("b", "f", "a", "d", "c", "e", "g"));
}

TEST(Topology, OrderDoesNotDependOnEdgeOrder) {
  auto reversed = example_edges;
  std::reverse(reversed.begin(), reversed.end());
  const Graph forward = graph({"a", "b", "c", "d", "e", "f", "g"}, example_edges);
  const Graph backward = graph({"a", "b", "c", "d", "e", "f", "g"}, reversed);
  EXPECT_EQ(build_topology(forward).order, build_topology(backward).order);
}

TEST(Topology, UpstreamAndDownstreamFollowTheEdges) {
  const Graph g = graph({"a", "b", "c", "d", "e", "f", "g"}, example_edges);
  const Topology t = build_topology(g);
  EXPECT_THAT(names(g, t.upstream[index_of(g, "d")]), ElementsAre("a", "b"));
  EXPECT_THAT(names(g, t.downstream[index_of(g, "d")]), ElementsAre("e"));
  EXPECT_THAT(names(g, t.downstream[index_of(g, "b")]), ElementsAre("d", "f"));
  EXPECT_THAT(names(g, t.upstream[index_of(g, "g")]), ElementsAre("e", "f"));
  EXPECT_THAT(t.upstream[index_of(g, "a")], IsEmpty());
  EXPECT_THAT(t.downstream[index_of(g, "g")], IsEmpty());
}

TEST(Topology, NodesWithoutEdges) {
  const Graph g = graph({"z", "y", "x"}, {});
  EXPECT_THAT(names(g, build_topology(g).order), ElementsAre("z", "y", "x"));
}

TEST(Topology, Descendants) {
  const Graph g = graph({"a", "b", "c", "d", "e", "f", "g"}, example_edges);
  const Topology t = build_topology(g);
  EXPECT_THAT(names(g, descendants(t, index_of(g, "a"))), ElementsAre("c", "d", "e", "g"));
  EXPECT_THAT(names(g, descendants(t, index_of(g, "b"))), ElementsAre("d", "e", "f", "g"));
  EXPECT_THAT(names(g, descendants(t, index_of(g, "d"))), ElementsAre("e", "g"));
  EXPECT_THAT(names(g, descendants(t, index_of(g, "f"))), ElementsAre("g"));
  EXPECT_THAT(descendants(t, index_of(g, "g")), IsEmpty());
}

TEST(Topology, DescendantsFollowTopologicalOrderNotInputOrder) {
  const Graph g = graph({"g", "f", "e", "d", "c", "b", "a"}, example_edges);
  EXPECT_THAT(names(g, descendants(build_topology(g), index_of(g, "b"))), ElementsAre("f", "d", "e", "g"));
}

TEST(Topology, DescendantsOfAnUnknownIndexThrow) {
  const Topology t = build_topology(graph({"a"}, {}));
  EXPECT_THROW(descendants(t, 1), std::out_of_range);
}

TEST(Topology, RejectsACycle) {
  const Graph g = graph({"a", "b", "c", "d"}, {{"a", "b"}, {"b", "c"}, {"c", "d"}, {"d", "b"}});
  try {
    build_topology(g);
    FAIL() << "cycle accepted";
  } catch (const GraphError& e) {
    EXPECT_EQ(e.kind(), GraphErrorKind::cycle);
    EXPECT_STREQ(e.what(), "graph has a cycle: b -> c -> d -> b");
  }
}

TEST(Topology, RejectsWhatItCannotResolve) {
  try {
    build_topology(graph({"a"}, {{"a", "b"}}));
    FAIL() << "unknown endpoint accepted";
  } catch (const GraphError& e) {
    EXPECT_EQ(e.kind(), GraphErrorKind::invalid_graph);
    EXPECT_STREQ(e.what(), R"(edge a -> b: destination "b" is not a node)");
  }
}

}  // namespace
}  // namespace adagio
