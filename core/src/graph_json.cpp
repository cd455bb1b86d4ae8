#include "adagio/graph_json.hpp"

#include "adagio/graph_error.hpp"
#include "adagio/patch.hpp"
#include "structure.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace adagio {
namespace {

using nlohmann::json;
using detail::invalid;
using detail::in_quotes;

std::string got(const json& value) { return std::string("got ") + value.type_name(); }

// Unknown fields are errors, as in protobuf JSON parsing: a misspelt "retires" must not be
// silently dropped together with the retries it was meant to configure.
void reject_unknown_fields(const json& object, std::string_view message, const std::string& where) {
  const std::vector<std::string>& fields = graph_json_fields(message);
  for (const auto& item : object.items()) {
    if (std::find(fields.begin(), fields.end(), item.key()) != fields.end()) continue;
    std::string expected;
    for (const std::string& field : fields) expected += (expected.empty() ? "" : ", ") + field;
    invalid("unknown field " + in_quotes(item.key()) + " in " + where + " (expected " + expected + ")");
  }
}

const json* member(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string required_string(const json& object, const char* key, const std::string& where) {
  const json* value = member(object, key);
  if (!value) invalid(where + ": missing \"" + key + "\"");
  if (!value->is_string()) invalid(where + "." + key + ": expected a string, " + got(*value));
  return value->get<std::string>();
}

std::vector<std::string> metadata_values(const json& value, const std::string& where) {
  const std::string shape = where + ": expected {\"values\":[...]}, a string or an array of strings";
  if (value.is_string()) return {value.get<std::string>()};
  if (value.is_object()) {
    reject_unknown_fields(value, "MetadataValue", where);
    const json* values = member(value, "values");
    if (!values) return {};  // proto3: an absent repeated field is empty
    if (!values->is_array()) invalid(where + ".values: expected an array of strings, " + got(*values));
    std::vector<std::string> result;
    for (std::size_t k = 0; k < values->size(); ++k) {
      const json& v = (*values)[k];
      if (!v.is_string())
        invalid(where + ".values[" + std::to_string(k) + "]: expected a string, " + got(v));
      result.push_back(v.get<std::string>());
    }
    return result;
  }
  if (!value.is_array()) invalid(shape + ", " + got(value));
  std::vector<std::string> result;
  for (const json& v : value) {
    if (!v.is_string()) invalid(shape + ", got an array containing a " + v.type_name());
    result.push_back(v.get<std::string>());
  }
  return result;
}

double number_field(const json& object, const char* key, double fallback, const std::string& where) {
  const json* value = member(object, key);
  if (!value) return fallback;
  if (!value->is_number()) invalid(where + "." + key + ": expected a number, " + got(*value));
  return value->get<double>();
}

Backoff backoff_from_json(const json& value, const std::string& where) {
  if (!value.is_object()) invalid(where + ": expected an object, " + got(value));
  reject_unknown_fields(value, "Backoff", where);
  Backoff backoff;
  backoff.initial_delay_seconds = number_field(value, "initial_delay_seconds", backoff.initial_delay_seconds, where);
  backoff.multiplier = number_field(value, "multiplier", backoff.multiplier, where);
  backoff.max_delay_seconds = number_field(value, "max_delay_seconds", backoff.max_delay_seconds, where);
  return backoff;
}

int max_attempts(const json& policy, const std::string& where) {
  const json* value = member(policy, "max_attempts");
  if (!value) invalid(where + ": missing \"max_attempts\"");
  // Only the range is checked here; validate() requires at least 1.
  bool fits = false;
  if (value->is_number_unsigned()) {
    fits = value->get<std::uint64_t>() <= static_cast<std::uint64_t>(INT_MAX);
  } else if (value->is_number_integer()) {
    const auto n = value->get<std::int64_t>();
    fits = n >= INT_MIN && n <= INT_MAX;
  }
  if (!fits) invalid(where + ": max_attempts must be a positive integer, got " + value->dump());
  return value->get<int>();
}

std::map<Conclusion, RetryPolicy> retry_policies(const json& retry, const std::string& label,
                                                 const std::string& path) {
  if (!retry.is_object()) invalid(label + ": retry: expected an object, " + got(retry));
  std::map<Conclusion, RetryPolicy> result;
  for (const auto& item : retry.items()) {
    const std::string& key = item.key();
    const std::optional<Conclusion> conclusion = parse_conclusion(key);
    if (!conclusion)
      invalid(label + ": unknown retry condition " + in_quotes(key) + " (expected \"fail\" or \"error\")");
    if (*conclusion == Conclusion::success)
      invalid(label + ": retry on \"success\" makes no sense (expected \"fail\" or \"error\")");
    const std::string where = label + ": retry \"" + key + "\"";
    const json& policy = item.value();
    if (!policy.is_object()) invalid(where + ": expected {\"max_attempts\": n}, " + got(policy));
    reject_unknown_fields(policy, "RetryPolicy", path + ".retry." + key);
    RetryPolicy parsed{max_attempts(policy, where), std::nullopt};
    if (const json* backoff = member(policy, "backoff")) parsed.backoff = backoff_from_json(*backoff, where + ".backoff");
    result[*conclusion] = parsed;
  }
  return result;
}

NodeSpec node_from_json(const json& value, std::size_t i) {
  const std::string where = "nodes[" + std::to_string(i) + "]";
  if (!value.is_object()) invalid(where + ": expected an object, " + got(value));
  reject_unknown_fields(value, "Node", where);
  NodeSpec node;
  node.name = required_string(value, "name", where);
  node.runtime = required_string(value, "runtime", where);
  if (const json* metadata = member(value, "metadata")) {
    if (!metadata->is_object()) invalid(where + ".metadata: expected an object, " + got(*metadata));
    for (const auto& item : metadata->items())
      node.metadata[item.key()] = metadata_values(item.value(), where + ".metadata." + item.key());
  }
  if (const json* retry = member(value, "retry"))
    node.retry = retry_policies(*retry, "node " + in_quotes(node.name), where);
  if (const json* lease = member(value, "lease_seconds")) {
    if (!lease->is_number_integer() || lease->get<std::int64_t>() < 1 || lease->get<std::int64_t>() > 86400)
      invalid("node " + in_quotes(node.name) + ": lease_seconds must be an integer from 1 to 86400, got " + lease->dump());
    node.lease_seconds = lease->get<int>();
  }
  if (const json* timeout = member(value, "timeout_seconds")) {
    if (!timeout->is_number_integer() || timeout->get<std::int64_t>() < 1 ||
        timeout->get<std::int64_t>() > max_timeout_seconds)
      invalid("node " + in_quotes(node.name) + ": timeout_seconds must be an integer from 1 to " +
              std::to_string(max_timeout_seconds) + " (30 days), got " + timeout->dump());
    node.timeout_seconds = timeout->get<int>();
  }
  return node;
}

Edge edge_from_json(const json& value, std::size_t i) {
  const std::string where = "edges[" + std::to_string(i) + "]";
  if (!value.is_object()) invalid(where + ": expected an object, " + got(value));
  reject_unknown_fields(value, "Edge", where);
  Edge edge;
  edge.source = required_string(value, "source", where);
  edge.destination = required_string(value, "destination", where);
  return edge;
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, column 18: <detail>";
// the byte offset is reported separately, so keep only the detail.
std::string parse_error_detail(const json::parse_error& e) {
  const std::string what = e.what();
  const std::size_t start = what.find("parse error");
  const std::size_t colon = what.find(": ", start == std::string::npos ? 0 : start);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

}  // namespace

namespace {

// GraphSpec and GraphPatch have the same fields: `message` names which, `label` starts messages.
Graph nodes_and_edges_from_json(const json& value, std::string_view message, const std::string& label) {
  if (!value.is_object()) invalid(label + ": expected a JSON object, " + got(value));
  reject_unknown_fields(value, message, label);
  Graph result;
  const json* nodes = member(value, "nodes");
  if (!nodes) invalid(label + ": missing \"nodes\"");
  if (!nodes->is_array()) invalid("nodes: expected an array, " + got(*nodes));
  result.nodes.reserve(nodes->size());
  for (std::size_t i = 0; i < nodes->size(); ++i) result.nodes.push_back(node_from_json((*nodes)[i], i));
  if (const json* edges = member(value, "edges")) {
    if (!edges->is_array()) invalid("edges: expected an array, " + got(*edges));
    result.edges.reserve(edges->size());
    for (std::size_t i = 0; i < edges->size(); ++i) result.edges.push_back(edge_from_json((*edges)[i], i));
  }
  return result;
}

}  // namespace

Graph graph_from_json(const json& value) {
  Graph graph = nodes_and_edges_from_json(value, "GraphSpec", "graph");
  if (graph.nodes.empty()) invalid("graph has no nodes");
  if (const json* timeout = member(value, "timeout_seconds")) {
    if (!timeout->is_number_integer() || timeout->get<std::int64_t>() < 1 ||
        timeout->get<std::int64_t>() > max_run_timeout_seconds)
      invalid("graph: timeout_seconds must be an integer from 1 to " + std::to_string(max_run_timeout_seconds) +
              " (365 days), got " + timeout->dump());
    graph.timeout_seconds = timeout->get<int>();
  }
  return graph;
}

namespace {

// A JSON Patch (RFC 6902) against the run's graph, the form agents that edit JSON documents
// write: only "add" at the end of "/nodes" or "/edges" (a patch only adds), each value in the
// GraphSpec form. Errors name the operation.
GraphPatch patch_from_operations(const json& operations) {
  if (!operations.is_array()) invalid("operations: expected an array, " + got(operations));
  GraphPatch patch;
  for (std::size_t k = 0; k < operations.size(); ++k) {
    const std::string label = "operations[" + std::to_string(k) + "]";
    const json& operation = operations[k];
    if (!operation.is_object()) invalid(label + ": expected a JSON object, " + got(operation));
    for (const auto& item : operation.items())
      if (item.key() != "op" && item.key() != "path" && item.key() != "value")
        invalid("unknown field " + in_quotes(item.key()) + " in " + label + " (expected op, path, value)");
    const std::string op = required_string(operation, "op", label);
    if (op != "add")
      invalid(label + ": op " + in_quotes(op) +
              " is not supported: a patch only adds (op \"add\", path \"/nodes/-\" or \"/edges/-\")");
    const std::string path = required_string(operation, "path", label);
    if (path != "/nodes/-" && path != "/edges/-")
      invalid(label + ": path " + in_quotes(path) + " is not supported: a patch appends (\"/nodes/-\" or \"/edges/-\")");
    const json* value = member(operation, "value");
    if (!value) invalid(label + ": missing \"value\"");
    try {
      if (path == "/nodes/-")
        patch.nodes.push_back(node_from_json(*value, patch.nodes.size()));
      else
        patch.edges.push_back(edge_from_json(*value, patch.edges.size()));
    } catch (const GraphError& e) {
      invalid(label + ".value: " + e.what());
    }
  }
  return patch;
}

}  // namespace

// An empty patch is refused by apply_patch(), with the other patch rules.
GraphPatch patch_from_json(const json& value) {
  if (value.is_array()) return patch_from_operations(value);
  if (value.is_object() && value.contains("operations")) {
    if (value.size() != 1)
      invalid("patch: \"operations\" goes alone (a patch is either nodes and edges, or JSON Patch operations)");
    return patch_from_operations(value["operations"]);
  }
  Graph parsed = nodes_and_edges_from_json(value, "GraphPatch", "patch");
  return GraphPatch{std::move(parsed.nodes), std::move(parsed.edges)};
}

namespace {

json parse_json_text(std::string_view text) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    throw GraphError(GraphErrorKind::malformed_json,
                     "malformed JSON at byte " + std::to_string(e.byte) + ": " + parse_error_detail(e));
  }
}

}  // namespace

Graph parse_graph(std::string_view text) { return graph_from_json(parse_json_text(text)); }

GraphPatch parse_patch(std::string_view text) { return patch_from_json(parse_json_text(text)); }

json to_json(const NodeSpec& node) {
  json metadata = json::object();
  for (const auto& [key, values] : node.metadata) metadata[key] = json{{"values", values}};
  json retry = json::object();
  for (const auto& [conclusion, policy] : node.retry) {
    json entry{{"max_attempts", policy.max_attempts}};
    if (policy.backoff)
      entry["backoff"] = json{{"initial_delay_seconds", policy.backoff->initial_delay_seconds},
                              {"multiplier", policy.backoff->multiplier},
                              {"max_delay_seconds", policy.backoff->max_delay_seconds}};
    retry[to_string(conclusion)] = std::move(entry);
  }
  json out{{"name", node.name}, {"runtime", node.runtime}, {"metadata", metadata}, {"retry", retry}};
  if (node.lease_seconds) out["lease_seconds"] = *node.lease_seconds;
  if (node.timeout_seconds) out["timeout_seconds"] = *node.timeout_seconds;
  return out;
}

namespace {

json nodes_and_edges(const std::vector<NodeSpec>& nodes, const std::vector<Edge>& edges) {
  json node_list = json::array();
  for (const NodeSpec& node : nodes) node_list.push_back(to_json(node));
  json edge_list = json::array();
  for (const Edge& edge : edges) edge_list.push_back(json{{"source", edge.source}, {"destination", edge.destination}});
  return json{{"nodes", std::move(node_list)}, {"edges", std::move(edge_list)}};
}

}  // namespace

json to_json(const Graph& graph) {
  json out = nodes_and_edges(graph.nodes, graph.edges);
  if (graph.timeout_seconds) out["timeout_seconds"] = *graph.timeout_seconds;
  return out;
}

json to_json(const GraphPatch& patch) { return nodes_and_edges(patch.nodes, patch.edges); }

const std::vector<std::string>& graph_json_fields(std::string_view message) {
  static const std::vector<std::string> graph_spec{"nodes", "edges", "timeout_seconds"};
  static const std::vector<std::string> graph_patch{"nodes", "edges"};
  static const std::vector<std::string> node{"name", "runtime", "metadata", "retry", "lease_seconds",
                                                    "timeout_seconds"};
  static const std::vector<std::string> edge{"source", "destination"};
  static const std::vector<std::string> metadata_value{"values"};
  static const std::vector<std::string> retry_policy{"max_attempts", "backoff"};
  static const std::vector<std::string> backoff{"initial_delay_seconds", "multiplier", "max_delay_seconds"};
  if (message == "GraphSpec") return graph_spec;
  if (message == "GraphPatch") return graph_patch;
  if (message == "Node") return node;
  if (message == "Edge") return edge;
  if (message == "MetadataValue") return metadata_value;
  if (message == "RetryPolicy") return retry_policy;
  if (message == "Backoff") return backoff;
  throw std::invalid_argument("graph_json_fields: no message " + std::string(message) + " in adagio.v1");
}

}  // namespace adagio
