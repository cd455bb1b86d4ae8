// The progress line of `adagio run start --wait`: a bar of nodes finished out of the total.
#pragma once

#include <string>

namespace adagio::cli {

struct RunProgress {
  long long total = 0;
  long long finished = 0;  // completed or cancelled
  long long running = 0;
  long long failed = 0;         // completed with fail or error
  long long never_reached = 0;  // completed without running: an upstream node failed
  long long retrying = 0;
  std::string status;
};

// "[##########----------]  5/10 nodes  2 running  1 failed"; `width` is the bar's width.
std::string render_progress(const RunProgress& progress, int width);

}  // namespace adagio::cli
