#include "adagio/graph_shape.hpp"

#include "adagio/graph_error.hpp"

#include <algorithm>

namespace adagio {
namespace {

[[noreturn]] void malformed(const std::string& why) {
  throw GraphError(GraphErrorKind::invalid_graph, "malformed graph shape: " + why);
}

}  // namespace

std::string shape_text(const Graph& graph) {
  std::string text;
  for (const NodeSpec& node : graph.nodes) text.append(node.name).push_back('\n');
  text.push_back('\n');
  for (const Edge& edge : graph.edges) text.append(edge.source).append(1, '\t').append(edge.destination).push_back('\n');
  return text;
}

Graph graph_from_shape(std::string_view text) {
  Graph graph;
  // One allocation per list: a large graph's shape is read in every backend that meets it.
  if (const std::size_t nodes_end = text.find("\n\n"); nodes_end != std::string_view::npos) {
    const auto split = text.begin() + static_cast<std::ptrdiff_t>(nodes_end) + 1;
    graph.nodes.reserve(static_cast<std::size_t>(std::count(text.begin(), split, '\n')));
    graph.edges.reserve(static_cast<std::size_t>(std::count(split + 1, text.end(), '\n')));
  }
  bool in_edges = false;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    if (end == std::string_view::npos) malformed("the last line does not end");
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    ++line_number;
    if (!in_edges) {
      if (line.empty()) in_edges = true;
      else graph.nodes.push_back(NodeSpec{std::string(line), {}, {}, {}, {}});
      continue;
    }
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos || tab == 0 || tab + 1 == line.size())
      malformed("line " + std::to_string(line_number) + " is not an edge");
    graph.edges.push_back(Edge{std::string(line.substr(0, tab)), std::string(line.substr(tab + 1))});
  }
  if (!in_edges) malformed("no empty line after the nodes");
  if (graph.nodes.empty()) malformed("no nodes");
  return graph;
}

}  // namespace adagio
