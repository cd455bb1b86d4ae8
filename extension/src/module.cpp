// Module entry: the magic block, the settings and, when preloaded, the sweeper background workers.
#include "pg_includes.hpp"
#include "settings.hpp"

namespace adagio::pg {
int default_lease_seconds = 30;
int agent_timeout_seconds = 60;
int sweep_interval_ms = 1000;
char* sweeper_databases = nullptr;
bool event_notifications = true;
int retention_seconds = 0;
int retention_batch = 5000;
int max_patch_nodes_per_run = 10000;
void register_sweepers();
}  // namespace adagio::pg

extern "C" {

PG_MODULE_MAGIC;

void _PG_init(void);

void _PG_init(void) {
  using namespace adagio::pg;
  DefineCustomIntVariable("adagio.default_lease", "Lease of a claim when neither the node nor the claimer sets one.",
                          "A claim whose lease lapses without a heartbeat is orphaned by the next sweep.",
                          &default_lease_seconds, 30, 1, 24 * 3600, PGC_USERSET, GUC_UNIT_S, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("adagio.agent_timeout", "Silence after which a sweep marks an agent gone.", nullptr,
                          &agent_timeout_seconds, 60, 1, 7 * 24 * 3600, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable("adagio.sweep_interval", "Time between two sweeps of the sweeper background worker.",
                          nullptr, &sweep_interval_ms, 1000, 10, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr,
                          nullptr, nullptr);
  DefineCustomBoolVariable("adagio.notify_events", "Whether changes NOTIFY channel adagio.events with the ids of the runs whose timelines grew.",
                           "Followers of the timeline (adagio events --follow, the dashboard) wake on it and also poll,"
                           " so turning it off only delays them.",
                           &event_notifications, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("adagio.retention", "Age after which the sweeper deletes finished runs with all their rows (0: never).",
                          "As purge_runs(): runs that completed or were cancelled longer ago than this go, with their"
                          " nodes, attempts and events, in batches of adagio.retention_batch runs.",
                          &retention_seconds, 0, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("adagio.retention_batch", "Finished runs the sweeper deletes per transaction.",
                          "Short transactions keep row locks brief and let autovacuum follow; the sweeper repeats"
                          " full batches, up to ten per sweep and for about one sweep interval.",
                          &retention_batch, 5000, 1, 1000000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("adagio.max_patch_nodes_per_run", "Nodes that patches may add to one run, in all (0: no patches).",
                          "A function that patches its run on every attempt, or in a loop, stops at a clear error"
                          " instead of growing its run without end. Only superusers change it (per role or database"
                          " with ALTER ROLE/DATABASE ... SET), so a worker's login cannot raise its own bound.",
                          &max_patch_nodes_per_run, 10000, 0, INT_MAX, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  // A postmaster-only setting can only be defined while preloading; loaded later (no preload),
  // there is no background sweeper to configure.
  if (process_shared_preload_libraries_in_progress)
    DefineCustomStringVariable("adagio.sweeper_databases",
                               "Databases (comma-separated) the sweeper background workers serve.",
                               "Needs adagio in shared_preload_libraries; empty disables the background sweeper.",
                               &sweeper_databases, "postgres", PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("adagio");
  if (process_shared_preload_libraries_in_progress) register_sweepers();
}

}  // extern "C"
