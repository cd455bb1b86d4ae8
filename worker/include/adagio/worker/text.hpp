// Small text helpers used when talking to PostgreSQL.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace adagio::worker {

/// Makes `in` acceptable as PostgreSQL text in a UTF-8 database: NUL bytes
/// are removed and invalid UTF-8 sequences become U+FFFD.
std::string sanitize_utf8(std::string_view in);

/// Formats a PostgreSQL array literal ({"a","b"}) from plain strings.
std::string pg_array_literal(const std::vector<std::string>& items);

/// Parses a one-dimensional PostgreSQL array literal of simple values
/// (e.g. uuid[] output "{a,b}"); NULL elements are skipped. Empty input
/// (SQL NULL) gives an empty vector.
std::vector<std::string> parse_pg_array(std::string_view text);

}  // namespace adagio::worker
