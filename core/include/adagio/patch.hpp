#pragma once
// Patches: additions to the graph of a run that is already running (the vision's "overlays": a
// node, or an operator, extends the workflow while it runs, e.g. fanning out over what a node
// found). A patch only adds: nodes, and edges that end at them. Nothing that already exists
// changes, so every node already waiting, running or done keeps its meaning, and the run's
// graph is always its first graph plus its patches, in order.

#include "adagio/graph.hpp"

#include <nlohmann/json.hpp>

#include <string_view>
#include <vector>

namespace adagio {

// proto/adagio.proto GraphPatch.
struct GraphPatch {
  std::vector<NodeSpec> nodes;
  std::vector<Edge> edges;
};

// Parses the JSON form of adagio.v1.GraphPatch ({"nodes": [...], "edges": [...]}), shape only.
// Also takes the same additions as JSON Patch (RFC 6902) operations on the run's graph, bare or as
// {"operations": [...]}: each {"op": "add", "path": "/nodes/-" or "/edges/-", "value": a node or
// an edge}; any other op or path is refused, since a patch only adds.
// Throws GraphError: malformed_json when the text is not JSON, invalid_graph otherwise.
GraphPatch parse_patch(std::string_view json);
GraphPatch patch_from_json(const nlohmann::json& json);

nlohmann::json to_json(const GraphPatch& patch);

// `base` with `patch` added: base's nodes and edges first, then the patch's, each in its order.
// Checks the patch's nodes as validate() checks a graph's (messages count "nodes[i]" within the
// patch), then the patch rules: at least one node; no name already in `base`; every edge ends at
// a node of the patch and starts at a node of either. Throws GraphError(invalid_graph).
Graph apply_patch(const Graph& base, const GraphPatch& patch);

}  // namespace adagio
