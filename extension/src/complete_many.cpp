// Reporting many attempts in one call and one transaction. A worker that runs many small functions
// spends most of its time on round trips and commits if it reports them one by one; here the
// successes (the common case) are applied set-based in one statement whatever their number
// (successes.hpp), and the rest go through the same record_attempt() as complete(). Same fencing:
// only claims still held count; a claim no longer held is returned as such instead of failing the
// whole batch.
//
// complete_and_claim() is the same report followed by a claim for the reporting agent's free
// slots. The nodes its report makes ready that the agent can run are handed to it in the report's
// own statement (as Temporal hands a worker the activities its workflow task scheduled): each goes
// from waiting to running in one update, without a trip through the queue, and a chain's next
// node is already claimed when the call returns. Older ready nodes fill the slots left.
#include "args.hpp"
#include "attempts.hpp"
#include "claims.hpp"
#include "pg_guard.hpp"
#include "spi.hpp"
#include "successes.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace adagio::pg {
namespace {

// Anything but success: one by one, exactly as complete() does it (retry rules, never_reached).
void complete_one(SpiSession& spi, const Report& item, Tally& tally) {
  const std::optional<HeldNode> held = lock_held_node(spi, item.token);
  if (!held) {
    tally.not_held.push_back(item.token);
    return;
  }
  const AttemptOutcome result = record_attempt(spi, *held, {item.conclusion, item.output, std::nullopt});
  if (result.outcome == "retrying") ++tally.retrying;
  else ++tally.failed;
}

// The reports of one call, read from the arguments (claim tokens, conclusions, outputs at
// `first` and the next two) and checked before anything is applied; a NULL outputs array means no
// output for any of them.
std::vector<Report> read_reports(FunctionCallInfo fcinfo, int first) {
  const auto tokens = arg_array_elements(fcinfo, first);
  const auto conclusions = arg_array_elements(fcinfo, first + 1);
  const auto outputs = arg_array_elements(fcinfo, first + 2);
  if (!tokens || !conclusions)
    throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "claim_tokens and conclusions must not be NULL");
  const std::size_t count = std::max({tokens->size(), conclusions->size(), outputs ? outputs->size() : 0});
  if (count > 10000)
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "at most 10000 reports per call, got " + std::to_string(count));
  if (tokens->size() != conclusions->size() || (outputs && outputs->size() != tokens->size()))
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "claim_tokens, conclusions and outputs differ in length");
  std::vector<Report> items;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < count; ++i) {
    const Value& token = (*tokens)[i];
    const Value& conclusion_name = (*conclusions)[i];
    if (!token) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "a claim token must not be NULL");
    if (!conclusion_name) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "a conclusion must not be NULL");
    auto conclusion = adagio::parse_conclusion(*conclusion_name);
    if (!conclusion)
      throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "unknown conclusion \"" + *conclusion_name + "\"", {},
                     "a conclusion is one of success, fail, error");
    if (!seen.insert(*token).second)
      throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "claim " + *token + " is reported twice in one call");
    items.push_back(Report{*token, *conclusion, outputs ? (*outputs)[i] : Value()});
  }
  return items;
}

// Successes first, set-based (with the hand-off, if any); then the rest one by one.
Tally apply_reports(SpiSession& spi, const std::vector<Report>& items, const ClaimRequest* handoff) {
  Tally tally;
  std::vector<const Report*> successes;
  for (const Report& item : items)
    if (item.conclusion == adagio::Conclusion::success) successes.push_back(&item);
  if (!successes.empty()) complete_successes(spi, successes, handoff, tally);
  for (const Report& item : items)
    if (item.conclusion != adagio::Conclusion::success) complete_one(spi, item, tally);
  return tally;
}

std::string summary_json(const Tally& tally) {
  return nlohmann::json{{"succeeded", tally.succeeded},
                        {"retrying", tally.retrying},
                        {"failed", tally.failed},
                        {"not_held", tally.not_held}}
      .dump();
}

}  // namespace
}  // namespace adagio::pg

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_complete_many);
PG_FUNCTION_INFO_V1(adagio_complete_and_claim);

// adagio.complete_many(claim_tokens uuid[], conclusions text[], outputs text[]) -> jsonb summary.
Datum adagio_complete_many(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    const std::vector<Report> reports = read_reports(fcinfo, 0);
    SpiSession spi;
    const Tally tally = apply_reports(spi, reports, nullptr);
    spi.finish();
    return jsonb_result(summary_json(tally));
  });
}

// adagio.complete_and_claim(agent_id bigint, max_nodes int, claim_tokens uuid[], conclusions text[],
// outputs text[], lease interval) -> json: complete_many()'s summary plus "claims", as claim()'s.
Datum adagio_complete_and_claim(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    // 0 slots allowed: the reports of a worker whose slots are all busy.
    const ClaimRequest handoff = read_claim_request(fcinfo, 5, 0);
    const std::vector<Report> reports = read_reports(fcinfo, 2);

    SpiSession spi;
    const Tally tally = apply_reports(spi, reports, &handoff);
    // The queue fills the slots the hand-off left. Run even for none left when nothing was handed:
    // it sees the agent, and refuses one that is not registered (the reports roll back with it).
    // After a hand-off (which saw the agent), only if the queue holds a node for it: a claim
    // statement that finds nothing made each hop of a chain on a worker of a few slots about a
    // tenth slower.
    Claims claims = tally.handed;
    if (claims.count == 0 || (claims.count < handoff.max_nodes && ready_nodes_for(spi, handoff.agent)))
      claims = concatenate(claims, claim_ready_nodes(spi, handoff.agent,
                                                     handoff.max_nodes - static_cast<int>(claims.count), handoff.lease));
    spi.finish();
    std::string result = summary_json(tally);
    result.pop_back();  // the summary's closing brace: the claims go in as they were built
    return json_result(result + ", \"claims\": " + claims.json + "}");
  });
}

}  // extern "C"
