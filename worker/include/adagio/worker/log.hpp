// A tiny thread-safe logger: one line per message on stderr,
// "2024-01-02T03:04:05.678Z INFO  message".
#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace adagio::worker::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(Level level);
Level level();
std::optional<Level> parse_level(std::string_view text);
bool enabled(Level level);

/// Writes one line (thread-safe).
void write(Level level, std::string_view message);

template <class... Args>
void emit(Level lv, const Args&... args) {
  if (!enabled(lv)) return;
  std::ostringstream out;
  (out << ... << args);
  write(lv, out.str());
}

template <class... Args>
void debug(const Args&... a) {
  emit(Level::debug, a...);
}
template <class... Args>
void info(const Args&... a) {
  emit(Level::info, a...);
}
template <class... Args>
void warn(const Args&... a) {
  emit(Level::warn, a...);
}
template <class... Args>
void error(const Args&... a) {
  emit(Level::error, a...);
}

}  // namespace adagio::worker::log
