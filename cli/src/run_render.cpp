#include "adagio/cli/run_render.hpp"

#include "adagio/cli/duration.hpp"
#include "adagio/cli/table.hpp"
#include "adagio/graph.hpp"

#include <map>

namespace adagio::cli {
namespace {

using nlohmann::json;

std::string text_or(const json& value, const std::string& fallback) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  return fallback;
}

double number_or(const json& value, double fallback) { return value.is_number() ? value.get<double>() : fallback; }

// Quotes a string for dot: "..." with backslashes and quotes escaped.
std::string dot_quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Mermaid labels go inside "..."; quotes and the few characters it parses become entity codes.
std::string mermaid_label(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"': out += "#quot;"; break;
      case '#': out += "#35;"; break;
      case '<': out += "#lt;"; break;
      case '>': out += "#gt;"; break;
      default: out += c;
    }
  }
  return out;
}

const json& nodes_of(const json& run) {
  static const json none = json::array();
  const auto it = run.find("nodes");
  return it != run.end() && it->is_array() ? *it : none;
}

const json& edges_of(const json& run) {
  static const json none = json::array();
  const auto it = run.find("edges");
  return it != run.end() && it->is_array() ? *it : none;
}

std::string attempts_label(const json& node) {
  const long long count = node.value("attempt_count", 0LL);
  return count == 1 ? "1 attempt" : std::to_string(count) + " attempts";
}

}  // namespace

std::string display_state(const json& node) {
  const std::string state = node.value("state", "");
  if (state == "completed") return text_or(node.value("conclusion", json()), "completed");
  // The engine's own ready nodes wait for no worker: an open approval gate for a person (adagio
  // gate approve / reject), a timer for its time.
  if (state == "ready" && node.value("runtime", "") == adagio::approval_runtime) return "awaiting";
  if (state == "ready" && node.value("runtime", "") == adagio::timer_runtime) return "sleeping";
  if (node.value("retrying", false)) return "retrying";  // inspect_run() says
  return state;
}

StateColors colors_for(const std::string& s) {
  if (s == "success") return {"#c8e6c9", "#2e7d32", "solid"};
  if (s == "fail") return {"#ffcdd2", "#c62828", "solid"};
  if (s == "error") return {"#ffab91", "#bf360c", "solid"};
  if (s == "running") return {"#bbdefb", "#1565c0", "solid"};
  if (s == "retrying") return {"#fff59d", "#f9a825", "solid"};
  if (s == "awaiting") return {"#f3e5f5", "#8e24aa", "solid"};
  if (s == "sleeping") return {"#e0f2f1", "#00897b", "solid"};
  if (s == "ready" || s == "scheduled") return {"#e3f2fd", "#64b5f6", "solid"};
  if (s == "never_reached") return {"#eeeeee", "#9e9e9e", "dashed"};
  if (s == "cancelled") return {"#e0e0e0", "#616161", "dotted"};
  return {"#ffffff", "#757575", "solid"};  // waiting
}

std::string short_timestamp(const json& value) {
  if (!value.is_string()) return "-";
  std::string text = value.get<std::string>();
  if (text.size() >= 19) {
    text = text.substr(0, 19);
    if (text[10] == 'T') text[10] = ' ';
  }
  return text;
}

std::string render_run_table(const json& run, const Style& style) {
  std::string out;
  std::string workflow = text_or(run.value("workflow", json()), "");
  if (!workflow.empty() && run.contains("workflow_version") && run["workflow_version"].is_number())
    workflow += ":" + std::to_string(run["workflow_version"].get<long long>());
  out += style.bold("run " + text_or(run.value("id", json()), "?"));
  if (!workflow.empty()) out += "  " + workflow;
  out += "  " + style.state(run.value("status", ""));
  if (run.value("conclusion", json()).is_string()) out += " " + style.state(run["conclusion"].get<std::string>());
  out += "\n";
  out += "created " + short_timestamp(run.value("created_at", json()));
  if (run.value("started_at", json()).is_string()) out += "  started " + short_timestamp(run["started_at"]);
  if (run.value("finished_at", json()).is_string()) out += "  finished " + short_timestamp(run["finished_at"]);
  if (run.contains("duration_ms") && run["duration_ms"].is_number())
    out += (run.value("finished_at", json()).is_string() ? "  took " : "  for ") +
           format_duration_ms(run["duration_ms"].get<double>());
  out += "\n";
  const json inputs = run.value("inputs", json::object());
  if (inputs.is_object() && !inputs.empty()) out += "inputs " + inputs.dump() + "\n";
  if (run.value("idempotency_key", json()).is_string()) out += "idempotency key " + run["idempotency_key"].get<std::string>() + "\n";
  if (run.value("start_at", json()).is_string()) out += "start at " + short_timestamp(run["start_at"]) + "\n";
  if (run.value("priority", 0LL) != 0) out += "priority " + std::to_string(run["priority"].get<long long>()) + "\n";
  if (run.value("timeout_seconds", json()).is_number_integer()) {
    out += "timeout " + format_duration_ms(run["timeout_seconds"].get<double>() * 1000);
    if (run.value("deadline_at", json()).is_string()) out += "  (deadline " + short_timestamp(run["deadline_at"]) + ")";
    out += "\n";
  }
  if (run.value("concurrency_key", json()).is_string()) {
    out += "concurrency key " + run["concurrency_key"].get<std::string>();
    const long long limit = run.value("concurrency_limit", 1LL);
    if (limit > 1) out += " (" + std::to_string(limit) + " at a time)";
    const long long behind = run.value("queued_behind", 0LL);
    if (behind > 0) out += "  (waiting for " + std::to_string(behind) + (behind == 1 ? " run" : " runs") + " to end)";
    out += "\n";
  }
  out += "\n";

  Table nodes({"NODE", "RUNTIME", "STATE", "ATTEMPTS", "DURATION", "AGENT", "UPSTREAM", "OUTPUT"});
  bool any_history = false;
  for (const json& node : nodes_of(run)) {
    const json& attempts = node.value("attempts", json::array()).is_array() ? node["attempts"] : json::array();
    std::string duration = "-";
    if (!attempts.empty()) duration = format_duration_ms(number_or(attempts.back().value("duration_ms", json()), -1));
    if (node.value("state", "") == "running") duration = "running";
    std::string upstream;
    for (const json& u : node.value("upstream", json::array())) upstream += (upstream.empty() ? "" : ",") + text_or(u, "");
    std::string agent = text_or(node.value("agent", json()), "");
    if (agent.empty() && !attempts.empty()) agent = text_or(attempts.back().value("agent", json()), "-");
    nodes.add_row({node.value("name", ""), node.value("runtime", ""), style.state(display_state(node)),
                   std::to_string(node.value("attempt_count", 0LL)), duration, agent.empty() ? "-" : agent,
                   upstream.empty() ? "-" : upstream, one_line(text_or(node.value("output", json()), ""), 48)});
    if (attempts.size() > 1 || (!attempts.empty() && attempts.back().value("conclusion", "") != "success"))
      any_history = true;
  }
  out += nodes.render();

  if (any_history) {
    // Only nodes whose history says more than "succeeded at the first try".
    out += "\n" + style.bold("attempts") + "\n";
    Table history({"NODE", "#", "CONCLUSION", "AGENT", "QUEUED", "DURATION", "OUTPUT / REASON"});
    for (const json& node : nodes_of(run)) {
      const json attempts = node.value("attempts", json::array());
      if (attempts.size() <= 1 && (attempts.empty() || attempts.back().value("conclusion", "") == "success")) continue;
      for (const json& a : attempts) {
        std::string detail = text_or(a.value("reason", json()), "");
        if (detail.empty()) detail = text_or(a.value("output", json()), "");
        history.add_row({node.value("name", ""), text_or(a.value("attempt", json()), "?"),
                         style.state(a.value("conclusion", "")), text_or(a.value("agent", json()), "-"),
                         format_duration_ms(number_or(a.value("queue_ms", json()), -1)),
                         format_duration_ms(number_or(a.value("duration_ms", json()), -1)), one_line(detail, 60)});
      }
    }
    out += history.render();
  }

  // Nodes added while the run ran, so that a reader sees where the graph grew and who grew it.
  const json patches = run.value("patches", json::array());
  if (patches.is_array() && !patches.empty()) {
    out += "\n" + style.bold("patches") + "\n";
    Table table({"#", "ADDED", "SENT BY", "APPLIED BY", "AT"});
    for (const json& p : patches) {
      std::string added;
      for (const json& name : p.value("nodes", json::array())) added += (added.empty() ? "" : ",") + text_or(name, "");
      const std::string node = text_or(p.value("node", json()), "");
      table.add_row({text_or(p.value("patch", json()), "?"), one_line(added, 60),
                     node.empty() ? "an operator" : "node " + node, text_or(p.value("by", json()), "-"),
                     short_timestamp(p.value("at", json()))});
    }
    out += table.render();
  }
  return out;
}

std::string render_run_dot(const json& run) {
  std::string out = "digraph " + dot_quote("run " + text_or(run.value("id", json()), "?")) + " {\n";
  out += "  rankdir=LR;\n";
  out += "  graph [fontname=\"Helvetica\", label=" +
         dot_quote("run " + text_or(run.value("id", json()), "?") + ": " + run.value("status", "") +
                   (run.value("conclusion", json()).is_string() ? " " + run["conclusion"].get<std::string>() : "")) +
         ", labelloc=t];\n";
  out += "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n";
  for (const json& node : nodes_of(run)) {
    const std::string state = display_state(node);
    const StateColors colors = colors_for(state);
    std::string style = std::string("rounded,filled") + (std::string(colors.line_style) == "solid" ? "" : std::string(",") + colors.line_style);
    out += "  " + dot_quote(node.value("name", "")) + " [label=" +
           dot_quote(node.value("name", "") + "\n" + state + " (" + attempts_label(node) + ")") + ", fillcolor=" +
           dot_quote(colors.fill) + ", color=" + dot_quote(colors.border) + ", style=" + dot_quote(style) + "];\n";
  }
  for (const json& edge : edges_of(run))
    out += "  " + dot_quote(edge.value("source", "")) + " -> " + dot_quote(edge.value("destination", "")) + ";\n";
  out += "}\n";
  return out;
}

std::string render_run_mermaid(const json& run) {
  // Node names may hold any character, so mermaid ids are n0, n1, ... and names are labels.
  std::map<std::string, std::string> ids;
  std::map<std::string, std::vector<std::string>> by_state;
  std::string out = "flowchart LR\n";
  std::size_t next = 0;
  for (const json& node : nodes_of(run)) {
    const std::string name = node.value("name", "");
    const std::string id = "n" + std::to_string(next++);
    ids[name] = id;
    const std::string state = display_state(node);
    by_state[state].push_back(id);
    out += "  " + id + "[\"" + mermaid_label(name) + "<br/>" + state + "\"]\n";
  }
  for (const json& edge : edges_of(run)) {
    const auto from = ids.find(edge.value("source", ""));
    const auto to = ids.find(edge.value("destination", ""));
    if (from != ids.end() && to != ids.end()) out += "  " + from->second + " --> " + to->second + "\n";
  }
  for (const auto& [state, members] : by_state) {
    const StateColors colors = colors_for(state);
    out += "  classDef " + state + " fill:" + colors.fill + ",stroke:" + colors.border;
    if (std::string(colors.line_style) == "dashed") out += ",stroke-dasharray:5 5";
    if (std::string(colors.line_style) == "dotted") out += ",stroke-dasharray:2 2";
    out += "\n  class ";
    for (std::size_t i = 0; i < members.size(); ++i) out += (i ? "," : "") + members[i];
    out += " " + state + "\n";
  }
  return out;
}

}  // namespace adagio::cli
