#pragma once

#include "adagio/conclusion.hpp"
#include "adagio/graph.hpp"

namespace adagio {

// What happens to a node after an attempt ended.
enum class NextStep {
  succeeded,  // the attempt succeeded: the node is done, its output flows downstream
  retry,      // run the node again
  failed,     // the node is done without success: nothing downstream is reached
};

// How many attempts of `node` may end in `conclusion` in total: the node's retry entry for it,
// or 1 when there is none (also for success, which is never retried). At least 1 even for an
// unvalidated max_attempts below 1, since the attempt that was just made always counts.
int attempts_allowed(const NodeSpec& node, Conclusion conclusion);

// Decides after an attempt ended in `concluded`. The count is of the node's attempts that ended
// in `concluded`, including this one; attempts ending in other conclusions are counted
// separately and do not matter. With {"error": {"max_attempts": 2}}: the 1st error retries, the
// 2nd fails. Throws std::invalid_argument when the count is below 1.
NextStep next_step(const NodeSpec& node, Conclusion concluded,
                   int attempts_ending_in_this_conclusion_including_this_one);

// Seconds to wait before the retry that follows the n-th attempt ending in `concluded` (n counts
// this one): 0 without a backoff, else initial * multiplier^(n-1), capped at max.
double retry_delay_seconds(const NodeSpec& node, Conclusion concluded, int attempts_ending_in_this_conclusion);

}  // namespace adagio
