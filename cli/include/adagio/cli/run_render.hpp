// Renders one run, as returned by adagio.inspect_run(), for a terminal (a table of nodes and
// their attempts) or as a picture: Graphviz dot or Mermaid, coloured by state like the seed's
// diagram (green success, red failure, white waiting, and distinct colours for the rest).
#pragma once

#include "adagio/cli/style.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace adagio::cli {

// The state a person cares about: "success", "fail", "error", "never_reached" for completed
// nodes, "retrying" for a node waiting for another attempt, else the engine state.
std::string display_state(const nlohmann::json& node);

struct StateColors {
  const char* fill;
  const char* border;
  const char* line_style;  // "solid", "dashed" or "dotted"
};
StateColors colors_for(const std::string& display_state);

std::string render_run_table(const nlohmann::json& run, const Style& style);
std::string render_run_dot(const nlohmann::json& run);
std::string render_run_mermaid(const nlohmann::json& run);

// "2026-11-22T22:05:15.123456+00:00" -> "2026-11-22 22:05:15".
std::string short_timestamp(const nlohmann::json& value);

}  // namespace adagio::cli
