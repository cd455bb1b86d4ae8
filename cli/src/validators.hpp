// Checks of numeric arguments with messages that name what is wanted. CLI11's PositiveNumber says
// "Value abc not in range 0.000000 to 1.797...e+308" and lets 99999999999999999999 through to a
// conversion that clamps it.
#pragma once

#include <CLI/CLI.hpp>

#include <charconv>
#include <limits>
#include <string>

namespace adagio::cli {

// A whole number from `least` to the largest long long.
inline CLI::Validator integer_at_least(long long least) {
  const std::string want = least == 1 ? "a positive integer" : "an integer of at least " + std::to_string(least);
  return CLI::Validator(
      [least, want](std::string& text) -> std::string {
        long long value = 0;
        const char* end = text.data() + text.size();
        const auto [stop, error] = std::from_chars(text.data(), end, value);
        if (error == std::errc::result_out_of_range)
          return "must be " + want + " up to " + std::to_string(std::numeric_limits<long long>::max()) + ", got " + text;
        if (error != std::errc() || stop != end || value < least) return "must be " + want + ", got " + text;
        return {};
      },
      least == 1 ? "POSITIVE" : "INTEGER");
}

}  // namespace adagio::cli
