// Merging one bench run's results into a single JSON document and the table people read.
#pragma once

#include <string>

// Reads DIR/*.json (one per workload and system) and DIR/*.resources, writes DIR/results.json,
// prints the table; returns the process exit code. With require_all (the smoke test), a figure
// that is missing or a drain that left nodes unfinished makes it 1, each named on stderr.
int report(const std::string& dir, bool require_all = false);
