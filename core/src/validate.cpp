#include "adagio/validate.hpp"

#include "structure.hpp"

#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>

namespace adagio {
namespace {

constexpr std::size_t max_name_bytes = 128;
constexpr double max_backoff_seconds = 365 * 86400;
constexpr std::size_t max_runtime_bytes = 48;
constexpr const char* runtime_rule = "^[A-Za-z0-9_.-]{1,48}$";

std::string at(std::size_t i) { return "nodes[" + std::to_string(i) + "]"; }

// Offset of the first C0, DEL or C1 control character (C1 as its UTF-8 encoding), or npos.
std::size_t control_character(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) return i;
    if (byte == 0xc2 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9f) return i;
    }
  }
  return std::string::npos;
}

void check_name(const NodeSpec& node, std::size_t i) {
  if (node.name.empty()) detail::invalid(at(i) + ": name must not be empty");
  if (node.name.size() > max_name_bytes)
    detail::invalid(at(i) + ": name is " + std::to_string(node.name.size()) + " bytes long, at most " +
                    std::to_string(max_name_bytes) + " are allowed");
  const std::size_t control = control_character(node.name);
  if (control != std::string::npos)
    detail::invalid(at(i) + ": name " + detail::in_quotes(node.name) + " contains a control character at byte " +
                    std::to_string(control));
}

bool runtime_character(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

void check_runtime(const NodeSpec& node, const std::string& label) {
  const std::string& runtime = node.runtime;
  std::string reason;
  if (runtime.empty()) {
    reason = "it is empty";
  } else if (runtime.size() > max_runtime_bytes) {
    reason = "it is " + std::to_string(runtime.size()) + " bytes long";
  } else {
    for (std::size_t i = 0; i < runtime.size() && reason.empty(); ++i)
      if (!runtime_character(runtime[i])) reason = "byte " + std::to_string(i) + " is not allowed";
  }
  if (!reason.empty())
    detail::invalid(label + ": runtime " + detail::in_quotes(runtime) + " must match " + runtime_rule + " (" + reason +
                    ")");
}

// 0.5, 3600, 1e+300: as the graph's JSON would say them (std::to_string printed 3600.000000).
std::string number(double value) {
  std::ostringstream out;
  out.precision(15);
  out << value;
  return out.str();
}

void check_retry(const NodeSpec& node, const std::string& label) {
  for (const auto& [conclusion, policy] : node.retry) {
    // Same message as the parser gives for a "success" key, for graphs built in code.
    if (conclusion == Conclusion::success)
      detail::invalid(label + ": retry on \"success\" makes no sense (expected \"fail\" or \"error\")");
    if (policy.max_attempts < 1)
      detail::invalid(label + ": retry \"" + to_string(conclusion) +
                      "\": max_attempts must be a positive integer, got " + std::to_string(policy.max_attempts));
    if (policy.backoff) {
      const Backoff& b = *policy.backoff;
      const std::string where = label + ": retry \"" + to_string(conclusion) + "\": backoff: ";
      if (!(b.initial_delay_seconds >= 0))
        detail::invalid(where + "initial_delay_seconds must be at least 0, got " + number(b.initial_delay_seconds));
      if (!(b.multiplier >= 1))
        detail::invalid(where + "multiplier must be at least 1, got " + number(b.multiplier));
      if (!(b.max_delay_seconds >= b.initial_delay_seconds))
        detail::invalid(where + "max_delay_seconds must be at least initial_delay_seconds, got " +
                        number(b.max_delay_seconds));
      // A bound the database's timestamps can always add: a wait of 1e300 s overflowed when the
      // retry was scheduled, and every sweep of the database failed on it from then on.
      if (b.max_delay_seconds > max_backoff_seconds)
        detail::invalid(where + "max_delay_seconds must be at most " + number(max_backoff_seconds) +
                        " (365 days), got " + number(b.max_delay_seconds));
    }
  }
  if (node.lease_seconds && (*node.lease_seconds < 1 || *node.lease_seconds > 86400))
    detail::invalid(label + ": lease_seconds must be from 1 to 86400, got " + std::to_string(*node.lease_seconds));
  if (node.timeout_seconds && (*node.timeout_seconds < 1 || *node.timeout_seconds > max_timeout_seconds))
    detail::invalid(label + ": timeout_seconds must be from 1 to " + std::to_string(max_timeout_seconds) +
                    " (30 days), got " + std::to_string(*node.timeout_seconds));
}

// The engine's own nodes: no worker claims them, so a lease would mean nothing; a timer needs its
// duration, and has no attempt that could run too long.
void check_engine_node(const NodeSpec& node, const std::string& label) {
  if (node.lease_seconds && node.runtime == approval_runtime)
    detail::invalid(label + ": lease_seconds does not apply to an approval gate (no worker claims it); "
                            "timeout_seconds sets how long it stays open");
  if (node.runtime != timer_runtime) return;
  if (node.lease_seconds || node.timeout_seconds)
    detail::invalid(label + ": " + (node.lease_seconds ? "lease_seconds" : "timeout_seconds") +
                    " does not apply to a timer (no worker runs it); metadata \"seconds\" sets how long it waits");
  const auto seconds = node.metadata.find("seconds");
  if (seconds == node.metadata.end() || seconds->second.size() != 1)
    detail::invalid(label + ": a timer needs metadata \"seconds\" with one value: how long it waits, e.g. \"3600\"");
  const std::string& text = seconds->second.front();
  double value = 0;
  std::size_t used = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !(value > 0 && value <= max_timer_seconds))
    detail::invalid(label + ": timer metadata \"seconds\" must be a number of seconds above 0 and at most " +
                    number(max_timer_seconds) + " (365 days), got " + detail::in_quotes(text));
}

}  // namespace

bool is_runtime_name(std::string_view name) {
  if (name.empty() || name.size() > max_runtime_bytes) return false;
  for (char c : name)
    if (!runtime_character(c)) return false;
  return true;
}

void validate(const Graph& graph) {
  if (graph.nodes.empty()) detail::invalid("graph has no nodes");
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const NodeSpec& node = graph.nodes[i];
    check_name(node, i);
    const std::string label = "node " + detail::in_quotes(node.name);
    check_runtime(node, label);
    check_retry(node, label);
    check_engine_node(node, label);
  }
  const detail::Structure structure = detail::resolve_structure(graph);
  if (auto cycle = detail::find_cycle(structure.downstream)) detail::throw_cycle(graph, *cycle);
}

}  // namespace adagio
