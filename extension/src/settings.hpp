// The extension's settings (GUCs), defined in module.cpp.
#pragma once

namespace adagio::pg {
extern int default_lease_seconds;    // adagio.default_lease
extern int agent_timeout_seconds;    // adagio.agent_timeout
extern int sweep_interval_ms;        // adagio.sweep_interval
extern char* sweeper_databases;      // adagio.sweeper_databases (postmaster start only)
extern bool event_notifications;     // adagio.notify_events
extern int retention_seconds;        // adagio.retention (0: the sweeper purges nothing)
extern int retention_batch;          // adagio.retention_batch
extern int max_patch_nodes_per_run;  // adagio.max_patch_nodes_per_run
}  // namespace adagio::pg
