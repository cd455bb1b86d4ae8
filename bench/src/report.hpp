// Merging one bench run's results into a single JSON document and the table people read.
#pragma once

#include <string>

// Reads DIR/*.json (one per workload and system) and DIR/*.resources, writes DIR/results.json,
// prints the table; returns the process exit code.
int report(const std::string& dir);
