// The runtimes the engine concludes itself, approval gates and timers (adagio::is_engine_runtime()
// in the core): no worker claims their nodes, and the claim queue's index, nodes_ready, leaves
// them out. Its condition, for the statements that walk it: a planner uses a partial index only
// for a query that states the index's condition. A macro, because the engine's statements are
// string literals (SPI's plan cache is keyed by their address).
#pragma once

#define ADAGIO_WORKER_RUNTIME(alias) alias ".runtime NOT IN ('approval', 'timer')"
