// Recording an attempt that did not succeed and applying the retry rules. Shared by complete()
// and complete_many() (a worker reports fail or error) and sweep() (the engine concludes an
// orphaned claim), so all follow the same rules. Successes: successes.hpp.
#pragma once

#include "spi.hpp"

#include "adagio/conclusion.hpp"
#include "adagio/graph.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace adagio::pg {

// A running node, locked FOR UPDATE by the caller.
struct HeldNode {
  std::string node_id;
  std::string run_id;
  std::int64_t graph_id;
  std::string name;
  NodeSpec spec;
};

struct AttemptReport {
  Conclusion conclusion;
  std::optional<std::string> output;
  std::optional<std::string> reason;  // set when the engine concluded the attempt, not the function
};

struct AttemptOutcome {
  std::string outcome;  // succeeded, retrying, failed
  std::optional<std::string> retry_at;  // when a retry waits for its backoff
  std::string run_status;
  std::optional<std::string> run_conclusion;
};

NodeSpec node_spec_from(const std::string& spec_json);

// The running node whose current claim is `token`, locked FOR UPDATE; nullopt when the token is
// not (or no longer) held. The fence of complete() and complete_many().
std::optional<HeldNode> lock_held_node(SpiSession& spi, const std::string& token);

// Raises 55000 "claim <token> is no longer held", its detail saying why (the attempt reported
// already, concluded by the engine, or never handed out): for a call that needs a held claim.
[[noreturn]] void refuse_stale_claim(SpiSession& spi, const std::string& token);

// An attempt of `node` that did not succeed (fail or error): the retry rules decide whether the
// node runs again or fails, marking the nodes downstream never reached. Successes take
// complete_successes() (successes.hpp).
AttemptOutcome record_attempt(SpiSession& spi, const HeldNode& node, const AttemptReport& report);

}  // namespace adagio::pg
