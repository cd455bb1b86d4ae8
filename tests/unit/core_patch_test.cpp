// Patches to a running run's graph: the JSON form and the rules apply_patch() enforces.
#include "adagio/graph_error.hpp"
#include "adagio/graph_json.hpp"
#include "adagio/patch.hpp"
#include "adagio/topology.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace adagio {
namespace {

using ::testing::HasSubstr;

const Graph base = parse_graph(R"({"nodes": [{"name": "fetch", "runtime": "exec"}, {"name": "split", "runtime": "exec"}],
                                    "edges": [{"source": "fetch", "destination": "split"}]})");

std::string refusal(const std::string& patch_json) {
  try {
    apply_patch(base, parse_patch(patch_json));
  } catch (const GraphError& e) {
    EXPECT_EQ(e.kind(), GraphErrorKind::invalid_graph) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "patch accepted: " << patch_json;
  return "";
}

TEST(Patch, AddsNodesAndEdgesAfterTheBase) {
  const Graph merged = apply_patch(base, parse_patch(R"({
    "nodes": [{"name": "part-1", "runtime": "debug"}, {"name": "part-2", "runtime": "debug"},
              {"name": "join", "runtime": "exec", "retry": {"error": {"max_attempts": 2}}}],
    "edges": [{"source": "split", "destination": "part-1"}, {"source": "split", "destination": "part-2"},
              {"source": "part-1", "destination": "join"}, {"source": "part-2", "destination": "join"}]})"));
  ASSERT_EQ(merged.nodes.size(), 5u);
  EXPECT_EQ(merged.nodes[0].name, "fetch");
  EXPECT_EQ(merged.nodes[4].name, "join");
  EXPECT_EQ(merged.nodes[4].retry.at(Conclusion::error).max_attempts, 2);
  ASSERT_EQ(merged.edges.size(), 5u);
  EXPECT_EQ(merged.edges[0].source, "fetch");
  EXPECT_EQ(merged.edges[4].destination, "join");
  // Still a DAG, the added nodes after the ones they follow.
  const Topology topology = build_topology(merged);
  EXPECT_EQ(topology.order.back(), 4u);
}

TEST(Patch, NeedsNoEdges) {
  // A node of its own: it is ready as soon as the patch lands.
  EXPECT_EQ(apply_patch(base, parse_patch(R"({"nodes": [{"name": "audit", "runtime": "debug"}]})")).nodes.size(), 3u);
}

TEST(Patch, CanonicalJsonRoundTrips) {
  const GraphPatch patch = parse_patch(R"({"nodes": [{"name": "x", "runtime": "debug", "metadata": {"sleep": "1"}}],
                                           "edges": [{"source": "split", "destination": "x"}]})");
  const nlohmann::json json = to_json(patch);
  EXPECT_EQ(json["nodes"][0]["metadata"]["sleep"]["values"][0], "1");
  EXPECT_EQ(to_json(patch_from_json(json)), json);
}

TEST(Patch, RefusesWhatWouldChangeTheRun) {
  EXPECT_THAT(refusal(R"({"nodes": []})"), HasSubstr("a patch adds at least one node"));
  EXPECT_THAT(refusal(R"({"nodes": [{"name": "split", "runtime": "exec"}]})"),
              HasSubstr("nodes[0]: the run already has a node \"split\""));
  // An edge into a node the run has would change when that node may run.
  EXPECT_THAT(refusal(R"({"nodes": [{"name": "x", "runtime": "exec"}],
                          "edges": [{"source": "x", "destination": "split"}]})"),
              HasSubstr("edges[0] x -> split: destination \"split\" is already in the run"));
  EXPECT_THAT(refusal(R"({"nodes": [{"name": "x", "runtime": "exec"}],
                          "edges": [{"source": "nope", "destination": "x"}]})"),
              HasSubstr("edges[0] nope -> x: source \"nope\" is not a node"));
  EXPECT_THAT(refusal(R"({"nodes": [{"name": "x", "runtime": "exec"}],
                          "edges": [{"source": "split", "destination": "y"}]})"),
              HasSubstr("destination \"y\" is not a node"));
}

TEST(Patch, ChecksItsNodesAsAGraphDoes) {
  // Messages count nodes within the patch, not within the merged graph.
  EXPECT_THAT(refusal(R"({"nodes": [{"name": "ok", "runtime": "exec"}, {"name": "bad", "runtime": "no spaces"}]})"),
              HasSubstr("node \"bad\""));
  EXPECT_THAT(refusal(R"({"nodes": [{"name": "a", "runtime": "exec"}, {"name": "a", "runtime": "exec"}]})"),
              HasSubstr("\"a\""));
  EXPECT_THAT(refusal(R"({"nodes": [{"name": "g", "runtime": "approval", "lease_seconds": 5}]})"),
              HasSubstr("lease_seconds"));
}

TEST(Patch, RefusesCyclesAndDuplicateEdgesAmongItsNodes) {
  try {
    apply_patch(base, parse_patch(R"({"nodes": [{"name": "a", "runtime": "exec"}, {"name": "b", "runtime": "exec"}],
                                      "edges": [{"source": "a", "destination": "b"}, {"source": "b", "destination": "a"}]})"));
    ADD_FAILURE() << "cycle accepted";
  } catch (const GraphError& e) {
    EXPECT_EQ(e.kind(), GraphErrorKind::cycle);
    EXPECT_THAT(e.what(), HasSubstr("a -> b -> a"));
  }
  EXPECT_THAT(refusal(R"({"nodes": [{"name": "a", "runtime": "exec"}],
                          "edges": [{"source": "split", "destination": "a"}, {"source": "split", "destination": "a"}]})"),
              HasSubstr("split -> a"));
}

TEST(Patch, JsonShapeErrorsNameTheField) {
  try {
    parse_patch(R"({"nodes": [{"name": "a", "runtime": "exec"}], "extra": 1})");
    ADD_FAILURE() << "unknown field accepted";
  } catch (const GraphError& e) {
    EXPECT_THAT(e.what(), HasSubstr("extra"));
  }
  try {
    parse_patch(R"({"edges": []})");
    ADD_FAILURE() << "patch without nodes accepted";
  } catch (const GraphError& e) {
    EXPECT_THAT(e.what(), HasSubstr("patch: missing \"nodes\""));
  }
  try {
    parse_patch("{nope");
    ADD_FAILURE() << "malformed JSON accepted";
  } catch (const GraphError& e) {
    EXPECT_EQ(e.kind(), GraphErrorKind::malformed_json);
  }
}

TEST(Patch, JsonPatchOperationsAreTheSameAdditions) {
  const std::string operations = R"([
    {"op": "add", "path": "/nodes/-", "value": {"name": "email", "runtime": "exec", "metadata": {"command": "mail"}}},
    {"op": "add", "path": "/edges/-", "value": {"source": "split", "destination": "email"}}])";
  const GraphPatch bare = parse_patch(operations);
  const GraphPatch wrapped = parse_patch(R"({"operations": )" + operations + "}");
  const GraphPatch plain = parse_patch(R"({"nodes": [{"name": "email", "runtime": "exec", "metadata": {"command": "mail"}}],
                                          "edges": [{"source": "split", "destination": "email"}]})");
  EXPECT_EQ(to_json(bare), to_json(plain));
  EXPECT_EQ(to_json(wrapped), to_json(plain));
  const Graph merged = apply_patch(base, bare);
  ASSERT_EQ(merged.nodes.size(), 3u);
  EXPECT_EQ(merged.edges.back().destination, "email");
}

TEST(Patch, JsonPatchOperationsOnlyAppend) {
  auto error_of = [](const std::string& text) -> std::string {
    try {
      parse_patch(text);
    } catch (const GraphError& e) {
      EXPECT_EQ(e.kind(), GraphErrorKind::invalid_graph) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "accepted: " << text;
    return "";
  };
  EXPECT_EQ(error_of(R"([{"op": "remove", "path": "/nodes/0"}])"),
            R"(operations[0]: op "remove" is not supported: a patch only adds (op "add", path "/nodes/-" or "/edges/-"))");
  EXPECT_EQ(error_of(R"([{"op": "add", "path": "/nodes/-", "value": {"name": "a", "runtime": "exec"}},
                        {"op": "add", "path": "/nodes/0", "value": {"name": "b", "runtime": "exec"}}])"),
            R"(operations[1]: path "/nodes/0" is not supported: a patch appends ("/nodes/-" or "/edges/-"))");
  EXPECT_EQ(error_of(R"([{"op": "add", "path": "/edges/-"}])"), R"(operations[0]: missing "value")");
  EXPECT_EQ(error_of(R"([{"op": "add", "path": "/nodes/-", "value": {"name": "a"}}])"),
            R"(operations[0].value: nodes[0]: missing "runtime")");
  EXPECT_EQ(error_of(R"([{"op": "add", "path": "/nodes/-", "value": {}, "from": "/x"}])"),
            R"(unknown field "from" in operations[0] (expected op, path, value))");
  EXPECT_EQ(error_of(R"({"operations": [], "nodes": []})"),
            R"(patch: "operations" goes alone (a patch is either nodes and edges, or JSON Patch operations))");
  EXPECT_EQ(error_of(R"({"operations": {}})"), "operations: expected an array, got object");
  EXPECT_EQ(error_of(R"([7])"), "operations[0]: expected a JSON object, got number");
}

}  // namespace
}  // namespace adagio
