// Where the built front end lives: given explicitly, next to the binary (build tree:
// build/dashboard/web; the CLI's build/cli/adagio finds ../dashboard/web), the install share dir,
// or the build tree this library was compiled in.
#include <filesystem>
#include <system_error>
#include <vector>

#include "app.hpp"

namespace adagio::dashboard {

std::string find_assets_dir(const std::string& configured) {
  namespace fs = std::filesystem;
  const auto has_index = [](const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(dir / "index.html", ec);
  };
  if (!configured.empty()) return has_index(configured) ? configured : "";
  std::vector<fs::path> candidates;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path dir = exe.parent_path();
    candidates = {dir / "web", dir / ".." / "dashboard" / "web", dir / ".." / "share" / "adagio" / "dashboard"};
  }
  candidates.emplace_back(ADAGIO_DASHBOARD_INSTALL_ASSETS);
  candidates.emplace_back(ADAGIO_DASHBOARD_BUILD_ASSETS);
  for (const auto& dir : candidates)
    if (has_index(dir)) return fs::weakly_canonical(dir, ec).string();
  return "";
}

}  // namespace adagio::dashboard
