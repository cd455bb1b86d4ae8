#pragma once

#include <optional>
#include <string_view>

namespace adagio {

// How an attempt of a node ended (adagio.v1.Conclusion in proto/adagio.proto).
enum class Conclusion { success, fail, error };

// "success", "fail" or "error" (lower case only, as in JSON, SQL and retry keys); nullopt otherwise.
std::optional<Conclusion> parse_conclusion(std::string_view text);

// The lower-case name accepted by parse_conclusion.
const char* to_string(Conclusion conclusion);

}  // namespace adagio
