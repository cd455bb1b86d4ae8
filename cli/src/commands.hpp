// The subcommands, grouped by what they act on; each group adds itself to the app.
#pragma once

#include "context.hpp"

#include <CLI/CLI.hpp>

namespace adagio::cli {

void add_run_commands(CLI::App& app, Context& context);       // run start|ls|show|cancel|retry
void add_events_command(CLI::App& app, Context& context);     // events [--follow]
void add_logs_command(CLI::App& app, Context& context);       // logs RUN [--follow]
void add_info_commands(CLI::App& app, Context& context);      // agents, stats, graph, workflow
void add_gate_commands(CLI::App& app, Context& context);      // gate ls|approve|reject
void add_dashboard_command(CLI::App& app, Context& context);  // dashboard

}  // namespace adagio::cli
