#include "adagio/cli/progress.hpp"

#include <algorithm>

namespace adagio::cli {

std::string render_progress(const RunProgress& p, int width) {
  const long long total = std::max(p.total, 1LL);
  const int filled = static_cast<int>(std::min(p.finished, total) * width / total);
  std::string line = "[" + std::string(filled, '#') + std::string(width - filled, '-') + "]  ";
  line += std::to_string(p.finished) + "/" + std::to_string(p.total) + " nodes";
  if (p.running > 0) line += "  " + std::to_string(p.running) + " running";
  if (p.retrying > 0) line += "  " + std::to_string(p.retrying) + " retrying";
  if (p.failed > 0) line += "  " + std::to_string(p.failed) + " failed";
  if (p.never_reached > 0) line += "  " + std::to_string(p.never_reached) + " never reached";
  return line;
}

}  // namespace adagio::cli
