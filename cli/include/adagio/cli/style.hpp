// Terminal styling: colour only when it will be seen as colour (a terminal, NO_COLOR unset).
#pragma once

#include <string>

namespace adagio::cli {

enum class ColorMode { automatic, always, never };

class Style {
 public:
  explicit Style(bool enabled = false) : enabled_(enabled) {}
  // automatic: on when `fd` is a terminal, NO_COLOR is unset and TERM is not "dumb".
  static Style for_fd(int fd, ColorMode mode);

  bool enabled() const { return enabled_; }
  std::string bold(const std::string& text) const { return wrap("1", text); }
  std::string dim(const std::string& text) const { return wrap("2", text); }
  std::string green(const std::string& text) const { return wrap("32", text); }
  std::string red(const std::string& text) const { return wrap("31", text); }
  std::string yellow(const std::string& text) const { return wrap("33", text); }
  std::string blue(const std::string& text) const { return wrap("34", text); }
  std::string magenta(const std::string& text) const { return wrap("35", text); }
  // A node state or conclusion, or a run status, coloured as the seed's diagram does.
  std::string state(const std::string& text) const;

 private:
  std::string wrap(const char* code, const std::string& text) const;
  bool enabled_;
};

}  // namespace adagio::cli
