// Parsing of the JSON returned by adagio.claim() into Tasks.
#pragma once

#include <adagio/worker/runtime.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace adagio::worker {

/// One node handed to this agent by adagio.claim().
struct Claim {
  Task task;                                          ///< task.cancelled is left null
  std::string claim_token;                            ///< uuid text, needed for complete()/heartbeat()
  std::string lease_expires_at;                       ///< timestamptz text as sent by the server
  nlohmann::json attempts = nlohmann::json::array();  ///< previous attempts, raw
  /// Non-empty if the claim could not be parsed; then only claim_token (if
  /// it was readable) is meaningful, and the worker reports the attempt as
  /// an error with this text.
  std::string error;
};

/// Parses one claim object. Throws std::invalid_argument on malformed input.
///
/// Leniency: metadata values may be arrays of strings, single strings, or
/// scalars (serialized as JSON); null means no values. Inputs that are not
/// strings are serialized as JSON. A null/missing run_inputs is {}.
Claim parse_claim(const nlohmann::json& j);

/// Parses the result of adagio.claim(): an array (null means empty). A
/// malformed element does not spoil the others: it comes back with `error`
/// set (and its claim_token if one could be read). Throws
/// std::invalid_argument if `j` is neither an array nor null.
std::vector<Claim> parse_claims(const nlohmann::json& j);

}  // namespace adagio::worker
