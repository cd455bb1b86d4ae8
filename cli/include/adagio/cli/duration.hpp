// Human durations for tables and progress lines: "850ms", "12.4s", "3m05s", "2h14m", "3d4h".
#pragma once

#include <optional>
#include <string>

namespace adagio::cli {

std::string format_duration_ms(double milliseconds);

// Parses "90s", "15m", "2h", "7d" or a bare number of seconds into seconds; nullopt if malformed.
std::optional<double> parse_duration_seconds(const std::string& text);

}  // namespace adagio::cli
