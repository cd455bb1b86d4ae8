// Completing successful attempts, set-based, in one statement whatever their number. Every
// success is reported here: complete()'s as one report, complete_many()'s and
// complete_and_claim()'s as a batch. So all take their locks in one order (two completions never
// deadlock) and leave the same rows and events.
#pragma once

#include "claims.hpp"
#include "spi.hpp"

#include "adagio/conclusion.hpp"

#include <string>
#include <vector>

namespace adagio::pg {

// One report of an attempt: the claim it answers, how it ended, and its output.
struct Report {
  std::string token;
  Conclusion conclusion;
  Value output;
};

// What the reports of one call did.
struct Tally {
  long long succeeded = 0, retrying = 0, failed = 0;
  std::vector<std::string> not_held;  // tokens of the reports whose claim was no longer held
  Claims handed;                      // nodes the reports made ready, claimed for the reporting agent
};

// Completes the successful reports `items` whose claims are still held, passes their outputs
// downstream and counts them in their runs; with a hand-off, claims the nodes they make ready for
// its agent. Adds to `tally`, and notifies as each report's consequences require.
void complete_successes(SpiSession& spi, const std::vector<const Report*>& items, const ClaimRequest* handoff,
                        Tally& tally);

}  // namespace adagio::pg
