#pragma once

#include "adagio/graph.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace adagio {

// Parses the proto3 JSON form of adagio.v1.GraphSpec. Checks the shape only (types, required and
// unknown fields, retry keys, non-empty "nodes"); call validate() for the graph rules.
// Throws GraphError: malformed_json when the text is not JSON, invalid_graph otherwise.
Graph parse_graph(std::string_view json);

// As parse_graph, for an already parsed document. Throws GraphError(invalid_graph).
Graph graph_from_json(const nlohmann::json& json);

// The canonical JSON form: metadata always as {"values": [...]}, and "metadata", "retry" and
// "edges" always present (possibly empty) so the output is stable.
nlohmann::json to_json(const Graph& graph);
nlohmann::json to_json(const NodeSpec& node);

// The JSON field names the parser accepts for a proto message: "GraphSpec", "Node", "Edge",
// "MetadataValue" or "RetryPolicy", in proto field-number order. Throws std::invalid_argument for
// any other message name. Kept in sync with proto/adagio.proto by core_proto_contract_test.
const std::vector<std::string>& graph_json_fields(std::string_view message);

}  // namespace adagio
