#include "adagio/patch.hpp"

#include "adagio/validate.hpp"
#include "structure.hpp"

#include <set>
#include <string>

namespace adagio {

Graph apply_patch(const Graph& base, const GraphPatch& patch) {
  if (patch.nodes.empty()) detail::invalid("a patch adds at least one node");
  // The patch's nodes by the graph rules first, alone: errors then count nodes within the patch.
  validate(Graph{patch.nodes, {}});
  std::set<std::string> existing, added;
  for (const NodeSpec& node : base.nodes) existing.insert(node.name);
  for (std::size_t i = 0; i < patch.nodes.size(); ++i) {
    if (existing.count(patch.nodes[i].name))
      detail::invalid("nodes[" + std::to_string(i) + "]: the run already has a node " +
                      detail::in_quotes(patch.nodes[i].name));
    added.insert(patch.nodes[i].name);
  }
  for (std::size_t i = 0; i < patch.edges.size(); ++i) {
    const Edge& edge = patch.edges[i];
    const std::string label =
        "edges[" + std::to_string(i) + "] " + edge.source + " -> " + edge.destination + ": ";
    if (!added.count(edge.destination))
      detail::invalid(label + (existing.count(edge.destination)
                                   ? "destination " + detail::in_quotes(edge.destination) +
                                         " is already in the run (a patch adds edges only to the nodes it adds)"
                                   : "destination " + detail::in_quotes(edge.destination) + " is not a node"));
    if (!added.count(edge.source) && !existing.count(edge.source))
      detail::invalid(label + "source " + detail::in_quotes(edge.source) + " is not a node");
  }
  Graph merged = base;
  merged.nodes.insert(merged.nodes.end(), patch.nodes.begin(), patch.nodes.end());
  merged.edges.insert(merged.edges.end(), patch.edges.begin(), patch.edges.end());
  // Duplicate edges and cycles among the added nodes, in the whole graph's terms.
  validate(merged);
  return merged;
}

}  // namespace adagio
