#include "adagio/retry.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace adagio {

int attempts_allowed(const NodeSpec& node, Conclusion conclusion) {
  if (conclusion == Conclusion::success) return 1;
  auto policy = node.retry.find(conclusion);
  if (policy == node.retry.end()) return 1;
  return std::max(1, policy->second.max_attempts);
}

NextStep next_step(const NodeSpec& node, Conclusion concluded,
                   int attempts_ending_in_this_conclusion_including_this_one) {
  const int attempts = attempts_ending_in_this_conclusion_including_this_one;
  if (attempts < 1)
    throw std::invalid_argument("next_step: the attempt that just ended must be counted, got " +
                                std::to_string(attempts) + " attempts ending in " + to_string(concluded));
  if (concluded == Conclusion::success) return NextStep::succeeded;
  return attempts < attempts_allowed(node, concluded) ? NextStep::retry : NextStep::failed;
}

double retry_delay_seconds(const NodeSpec& node, Conclusion concluded, int attempts_ending_in_this_conclusion) {
  auto policy = node.retry.find(concluded);
  if (policy == node.retry.end() || !policy->second.backoff) return 0;
  const Backoff& b = *policy->second.backoff;
  const int retries_before = std::max(0, attempts_ending_in_this_conclusion - 1);
  if (b.initial_delay_seconds == 0) return 0;
  const double delay = b.initial_delay_seconds * std::pow(b.multiplier, retries_before);
  // A multiplier raised past what a double holds gives infinity: the cap applies.
  return delay < b.max_delay_seconds ? delay : b.max_delay_seconds;
}

}  // namespace adagio
