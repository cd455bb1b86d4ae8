// Parsing the GraphSpec JSON: the original Adagio form is accepted unchanged, shorthand metadata
// is normalised, output is canonical, and every shape error names the bad part.
#include "adagio/graph_error.hpp"
#include "adagio/graph_json.hpp"
#include "adagio/patch.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace adagio {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Values = std::vector<std::string>;

struct Rejection {
  GraphErrorKind kind;
  std::string message;
};

Rejection rejection(std::string_view json) {
  try {
    parse_graph(json);
  } catch (const GraphError& e) {
    return {e.kind(), e.what()};
  }
  ADD_FAILURE() << "parse_graph accepted " << json;
  return {GraphErrorKind::invalid_graph, "<accepted>"};
}

// Parser message for one node, so each case shows only the part under test.
std::string node_rejection(std::string_view node_json) {
  const Rejection r = rejection(R"({"nodes":[)" + std::string(node_json) + "]}");
  EXPECT_EQ(r.kind, GraphErrorKind::invalid_graph);
  return r.message;
}

constexpr std::string_view original_example =
    R"({"nodes":[{"name":"a","runtime":"exec","metadata":{"command":{"values":["echo"]},"args":{"values":["hi"]}},)"
    R"("retry":{"error":{"max_attempts":2}}}],"edges":[{"source":"a","destination":"b"}]})";

TEST(ParseGraph, AcceptsTheOriginalGraphSpecUnchanged) {
  const Graph g = parse_graph(original_example);
  ASSERT_EQ(g.nodes.size(), 1u);
  const NodeSpec& a = g.nodes[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.runtime, "exec");
  EXPECT_THAT(a.metadata.at("command"), ElementsAre("echo"));
  EXPECT_THAT(a.metadata.at("args"), ElementsAre("hi"));
  ASSERT_EQ(a.retry.size(), 1u);
  EXPECT_EQ(a.retry.at(Conclusion::error).max_attempts, 2);
  ASSERT_EQ(g.edges.size(), 1u);
  EXPECT_EQ(g.edges[0].source, "a");
  EXPECT_EQ(g.edges[0].destination, "b");  // shape only: "b" not being a node is validate()'s business
}

TEST(ParseGraph, AcceptsShorthandMetadata) {
  const Graph g = parse_graph(
      R"({"nodes":[{"name":"a","runtime":"exec","metadata":{"command":"echo","args":["x","y"],"env":[]}}]})");
  const auto& metadata = g.nodes[0].metadata;
  EXPECT_THAT(metadata.at("command"), ElementsAre("echo"));
  EXPECT_THAT(metadata.at("args"), ElementsAre("x", "y"));
  EXPECT_TRUE(metadata.at("env").empty());
}

TEST(ParseGraph, MetadataValueWithoutValuesIsEmptyAsInProto3) {
  const Graph g = parse_graph(R"({"nodes":[{"name":"a","runtime":"exec","metadata":{"flags":{}}}]})");
  EXPECT_TRUE(g.nodes[0].metadata.at("flags").empty());
}

TEST(ParseGraph, EdgesMetadataAndRetryAreOptional) {
  const Graph g = parse_graph(R"({"nodes":[{"name":"a","runtime":"exec"}]})");
  EXPECT_TRUE(g.edges.empty());
  EXPECT_TRUE(g.nodes[0].metadata.empty());
  EXPECT_TRUE(g.nodes[0].retry.empty());
}

TEST(ParseGraph, ReadsBothRetryConditions) {
  const Graph g = parse_graph(
      R"({"nodes":[{"name":"a","runtime":"exec","retry":{"fail":{"max_attempts":3},"error":{"max_attempts":1}}}]})");
  EXPECT_EQ(g.nodes[0].retry.at(Conclusion::fail).max_attempts, 3);
  EXPECT_EQ(g.nodes[0].retry.at(Conclusion::error).max_attempts, 1);
}

TEST(ToJson, EmitsTheCanonicalForm) {
  const Graph g = parse_graph(
      R"({"nodes":[{"name":"a","runtime":"exec","metadata":{"command":"echo","args":["x","y"]}},)"
      R"({"name":"b","runtime":"exec"}],"edges":[{"source":"a","destination":"b"}]})");
  const nlohmann::json expected = nlohmann::json::parse(R"({
    "nodes": [
      {"name": "a", "runtime": "exec",
       "metadata": {"command": {"values": ["echo"]}, "args": {"values": ["x", "y"]}}, "retry": {}},
      {"name": "b", "runtime": "exec", "metadata": {}, "retry": {}}],
    "edges": [{"source": "a", "destination": "b"}]})");
  EXPECT_EQ(to_json(g), expected);
}

TEST(ToJson, AlwaysEmitsEdges) {
  EXPECT_EQ(to_json(parse_graph(R"({"nodes":[{"name":"a","runtime":"exec"}]})")).at("edges"),
            nlohmann::json::array());
}

TEST(ToJson, TheOriginalExampleRoundTripsUnchanged) {
  EXPECT_EQ(to_json(parse_graph(original_example)), nlohmann::json::parse(original_example));
}

TEST(ToJson, RoundTripsThroughParse) {
  const Graph g = parse_graph(
      R"({"nodes":[{"name":"a","runtime":"exec","metadata":{"command":"echo"},"retry":{"fail":{"max_attempts":4}}},)"
      R"({"name":"b \"quoted\" ✓","runtime":"py"}],"edges":[{"source":"a","destination":"b \"quoted\" ✓"}]})");
  const nlohmann::json once = to_json(g);
  const Graph again = parse_graph(once.dump());
  EXPECT_EQ(to_json(again), once);
  EXPECT_EQ(again.nodes[1].name, "b \"quoted\" ✓");
  EXPECT_EQ(again.nodes[0].retry.at(Conclusion::fail).max_attempts, 4);
}

TEST(ToJson, NodeFormIsReadBackByGraphFromJson) {
  // The extension stores each node's to_json(NodeSpec) and reads it back this way.
  const NodeSpec node = parse_graph(original_example).nodes[0];
  const Graph g = graph_from_json({{"nodes", nlohmann::json::array({to_json(node)})}});
  EXPECT_EQ(to_json(g.nodes[0]), to_json(node));
}

TEST(ParseGraphRejects, MalformedJsonWithTheByteOffset) {
  const Rejection r = rejection(R"({"nodes":[{"name"x}]})");
  EXPECT_EQ(r.kind, GraphErrorKind::malformed_json);
  EXPECT_THAT(r.message, StartsWith("malformed JSON at byte 18: syntax error"));
  EXPECT_THAT(r.message, Not(HasSubstr("json.exception")));
}

TEST(ParseGraphRejects, EmptyInputAsMalformedJson) {
  const Rejection r = rejection("");
  EXPECT_EQ(r.kind, GraphErrorKind::malformed_json);
  EXPECT_THAT(r.message, StartsWith("malformed JSON at byte 1: "));
}

TEST(ParseGraphRejects, TopLevelShape) {
  EXPECT_EQ(rejection("[]").message, "graph: expected a JSON object, got array");
  EXPECT_EQ(rejection("{}").message, R"(graph: missing "nodes")");
  EXPECT_EQ(rejection(R"({"nodes":{}})").message, "nodes: expected an array, got object");
  EXPECT_EQ(rejection(R"({"nodes":[]})").message, "graph has no nodes");
  EXPECT_EQ(rejection(R"({"nodes":[{"name":"a","runtime":"exec"}],"edges":{}})").message,
            "edges: expected an array, got object");
  EXPECT_EQ(rejection(R"({"nodes":[{"name":"a","runtime":"exec"}],"edge":[]})").message,
            R"(unknown field "edge" in graph (expected nodes, edges, timeout_seconds))");
  EXPECT_EQ(rejection("[]").kind, GraphErrorKind::invalid_graph);
}

TEST(ParseGraphRejects, NodeShape) {
  EXPECT_EQ(node_rejection(R"("a")"), "nodes[0]: expected an object, got string");
  EXPECT_EQ(node_rejection(R"({"runtime":"exec"})"), R"(nodes[0]: missing "name")");
  EXPECT_EQ(node_rejection(R"({"name":7,"runtime":"exec"})"), "nodes[0].name: expected a string, got number");
  EXPECT_EQ(node_rejection(R"({"name":"a","runtime":null})"), "nodes[0].runtime: expected a string, got null");
  EXPECT_EQ(node_rejection(R"({"name":"a","runtime":"exec","retires":{"error":{"max_attempts":2}}})"),
            R"(unknown field "retires" in nodes[0] (expected name, runtime, metadata, retry, lease_seconds, timeout_seconds))");
}

TEST(ParseGraphRejects, MissingRuntimeNamingThePosition) {
  const Rejection r = rejection(
      R"({"nodes":[{"name":"a","runtime":"exec"},{"name":"b","runtime":"exec"},{"name":"c"}]})");
  EXPECT_EQ(r.message, R"(nodes[2]: missing "runtime")");
}

TEST(ParseGraphRejects, MetadataShape) {
  const std::string shape = R"(expected {"values":[...]}, a string or an array of strings)";
  EXPECT_EQ(node_rejection(R"({"name":"a","runtime":"exec","metadata":[]})"),
            "nodes[0].metadata: expected an object, got array");
  const Rejection second_node = rejection(
      R"({"nodes":[{"name":"a","runtime":"exec"},{"name":"b","runtime":"exec","metadata":{"command":42}}]})");
  EXPECT_EQ(second_node.message, "nodes[1].metadata.command: " + shape + ", got number");
  EXPECT_EQ(node_rejection(R"({"name":"a","runtime":"exec","metadata":{"args":["x",1]}})"),
            "nodes[0].metadata.args: " + shape + ", got an array containing a number");
  EXPECT_EQ(node_rejection(R"({"name":"a","runtime":"exec","metadata":{"args":{"values":"x"}}})"),
            "nodes[0].metadata.args.values: expected an array of strings, got string");
  EXPECT_EQ(node_rejection(R"({"name":"a","runtime":"exec","metadata":{"args":{"values":["x",null]}}})"),
            "nodes[0].metadata.args.values[1]: expected a string, got null");
  EXPECT_EQ(node_rejection(R"({"name":"a","runtime":"exec","metadata":{"args":{"value":["x"]}}})"),
            R"(unknown field "value" in nodes[0].metadata.args (expected values))");
}

TEST(ParseGraphRejects, UnknownRetryCondition) {
  EXPECT_EQ(node_rejection(R"({"name":"x","runtime":"exec","retry":{"crash":{"max_attempts":2}}})"),
            R"(node "x": unknown retry condition "crash" (expected "fail" or "error"))");
  // Conclusion names are lower case everywhere.
  EXPECT_EQ(node_rejection(R"({"name":"x","runtime":"exec","retry":{"ERROR":{"max_attempts":2}}})"),
            R"(node "x": unknown retry condition "ERROR" (expected "fail" or "error"))");
}

TEST(ParseGraphRejects, RetryOnSuccess) {
  EXPECT_EQ(node_rejection(R"({"name":"x","runtime":"exec","retry":{"success":{"max_attempts":2}}})"),
            R"(node "x": retry on "success" makes no sense (expected "fail" or "error"))");
}

TEST(ParseGraphRejects, RetryShape) {
  EXPECT_EQ(node_rejection(R"({"name":"a","runtime":"exec","retry":[]})"),
            R"(node "a": retry: expected an object, got array)");
  EXPECT_EQ(node_rejection(R"({"name":"a","runtime":"exec","retry":{"error":2}})"),
            R"(node "a": retry "error": expected {"max_attempts": n}, got number)");
  EXPECT_EQ(node_rejection(R"({"name":"a","runtime":"exec","retry":{"error":{}}})"),
            R"(node "a": retry "error": missing "max_attempts")");
  EXPECT_EQ(node_rejection(R"({"name":"a","runtime":"exec","retry":{"error":{"max_attempts":2,"delay":5}}})"),
            R"(unknown field "delay" in nodes[0].retry.error (expected max_attempts, backoff))");
}

TEST(ParseGraphRejects, MaxAttemptsThatIsNotAnInt) {
  const std::string prefix = R"(node "a": retry "error": max_attempts must be a positive integer, got )";
  auto with = [](const std::string& value) {
    return node_rejection(R"({"name":"a","runtime":"exec","retry":{"error":{"max_attempts":)" + value + "}}}");
  };
  EXPECT_EQ(with(R"("2")"), prefix + R"("2")");
  EXPECT_EQ(with("1.5"), prefix + "1.5");
  EXPECT_EQ(with("true"), prefix + "true");
  EXPECT_EQ(with("2147483648"), prefix + "2147483648");
  EXPECT_EQ(with("-2147483649"), prefix + "-2147483649");
}

TEST(ParseGraph, LeavesMaxAttemptsRangeToValidate) {
  // Shape only: 0 is an int; validate() explains why it is not allowed.
  EXPECT_EQ(parse_graph(R"({"nodes":[{"name":"a","runtime":"exec","retry":{"error":{"max_attempts":0}}}]})")
                .nodes[0]
                .retry.at(Conclusion::error)
                .max_attempts,
            0);
}

TEST(ParseGraphRejects, EdgeShape) {
  const std::string node = R"({"nodes":[{"name":"a","runtime":"exec"}],"edges":)";
  EXPECT_EQ(rejection(node + R"([["a","b"]]})").message, "edges[0]: expected an object, got array");
  EXPECT_EQ(rejection(node + R"([{"source":"a","destination":"a"},{"source":"a"}]})").message,
            R"(edges[1]: missing "destination")");
  EXPECT_EQ(rejection(node + R"([{"source":1,"destination":"a"}]})").message,
            "edges[0].source: expected a string, got number");
  EXPECT_EQ(rejection(node + R"([{"source":"a","to":"b"}]})").message,
            R"(unknown field "to" in edges[0] (expected source, destination))");
}


TEST(ParseGraph, RunTimeoutIsReadCheckedAndKept) {
  const Graph g = parse_graph(R"({"nodes":[{"name":"a","runtime":"exec"}],"timeout_seconds":90})");
  ASSERT_TRUE(g.timeout_seconds.has_value());
  EXPECT_EQ(*g.timeout_seconds, 90);
  EXPECT_EQ(to_json(g).at("timeout_seconds"), 90);
  EXPECT_FALSE(to_json(parse_graph(R"({"nodes":[{"name":"a","runtime":"exec"}]})")).contains("timeout_seconds"));
  for (const char* bad : {"0", "-1", "1.5", "\"60\"", "31536001", "null"})
    EXPECT_EQ(rejection(R"({"nodes":[{"name":"a","runtime":"exec"}],"timeout_seconds":)" + std::string(bad) + "}").message,
              "graph: timeout_seconds must be an integer from 1 to 31536000 (365 days), got " + std::string(bad));
  // A patch adds nodes and edges only; the patched graph keeps the run's timeout.
  EXPECT_THROW(parse_patch(R"({"nodes":[{"name":"b","runtime":"exec"}],"timeout_seconds":5})"), GraphError);
  const Graph patched = apply_patch(g, parse_patch(R"({"nodes":[{"name":"b","runtime":"exec"}]})"));
  EXPECT_EQ(patched.timeout_seconds, std::optional<int>(90));
}

}  // namespace
}  // namespace adagio
