#pragma once

#include "adagio/graph.hpp"

#include <string>
#include <string_view>

namespace adagio {

// A graph's shape: its node names in order and its edges, nothing else. The extension stores it
// beside the canonical JSON and loads it when a backend first meets the graph: following edges
// needs only this, and reading it back from a 20,000-node graph's JSON took a quarter of a second
// in every backend.
//
// The text is each node name on its own line, an empty line, then each edge as source, a tab and
// destination on its own line. Names never contain control characters (validate() refuses them),
// so neither separator can occur inside one.
std::string shape_text(const Graph& graph);

// The graph of a shape text: nodes with their names only, and the edges. Throws GraphError
// (invalid_graph) when the text is not a shape.
Graph graph_from_shape(std::string_view text);

}  // namespace adagio
