#include "adagio/cli/style.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace adagio::cli {

Style Style::for_fd(int fd, ColorMode mode) {
  if (mode != ColorMode::automatic) return Style(mode == ColorMode::always);
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  const bool dumb = term != nullptr && std::strcmp(term, "dumb") == 0;
  return Style(::isatty(fd) == 1 && (no_color == nullptr || *no_color == '\0') && !dumb);
}

std::string Style::wrap(const char* code, const std::string& text) const {
  if (!enabled_ || text.empty()) return text;
  return std::string("\033[") + code + "m" + text + "\033[0m";
}

std::string Style::state(const std::string& text) const {
  if (text == "success" || text == "completed/success" || text == "succeeded") return green(text);
  if (text == "fail" || text == "failed" || text == "error" || text.rfind("completed/f", 0) == 0 ||
      text == "completed/error")
    return red(text);
  if (text == "running" || text == "sleeping") return blue(text);
  if (text == "ready" || text == "scheduled" || text == "retrying") return yellow(text);
  if (text == "awaiting") return magenta(text);
  if (text == "never_reached" || text == "cancelled" || text == "completed/never_reached") return dim(text);
  return text;
}

}  // namespace adagio::cli
