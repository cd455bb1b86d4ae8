// Reporting an attempt. The claim token is the fence: only the current holder of a running node
// can report, and a stale token changes nothing.
#include "args.hpp"
#include "attempts.hpp"
#include "pg_guard.hpp"
#include "spi.hpp"
#include "successes.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace adagio::pg {
namespace {

// A success goes through the batch statement as its only report: the same locks, rows and events
// as complete_many()'s.
nlohmann::json report_success(SpiSession& spi, const std::string& token, const Value& output) {
  const Report report{token, Conclusion::success, output};
  Tally tally;
  complete_successes(spi, {&report}, nullptr, tally);
  if (!tally.not_held.empty()) refuse_stale_claim(spi, token);
  auto done = spi.query(
      "SELECT n.run_id, n.name, r.status, r.conclusion FROM adagio.nodes n JOIN adagio.runs r ON r.id = n.run_id"
      " WHERE n.id = adagio.claim_token_node($1::uuid) AND n.success_token = $1::uuid",
      {token});
  const Row& row = done.at(0);
  return {{"run_id", row.integer(0)},
          {"node", row.text(1)},
          {"conclusion", "success"},
          {"outcome", "succeeded"},
          {"run_status", row.text(2)},
          {"run_conclusion", row[3] ? nlohmann::json(*row[3]) : nlohmann::json()}};
}

// Fail or error: the retry rules decide (attempts.hpp).
nlohmann::json report_failure(SpiSession& spi, const std::string& token, Conclusion conclusion, const Value& output) {
  const std::optional<HeldNode> held = lock_held_node(spi, token);
  if (!held) refuse_stale_claim(spi, token);
  const AttemptOutcome result = record_attempt(spi, *held, {conclusion, output, std::nullopt});
  nlohmann::json summary = {{"run_id", std::stoll(held->run_id)},
                            {"node", held->name},
                            {"conclusion", to_string(conclusion)},
                            {"outcome", result.outcome},
                            {"run_status", result.run_status},
                            {"run_conclusion", result.run_conclusion ? nlohmann::json(*result.run_conclusion)
                                                                     : nlohmann::json()}};
  if (result.retry_at) summary["retry_at"] = *result.retry_at;
  return summary;
}

}  // namespace
}  // namespace adagio::pg

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_complete);

// adagio.complete(claim_token uuid, conclusion text, output text) -> jsonb summary.
Datum adagio_complete(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    auto token = arg_as_text(fcinfo, 0);
    if (!token) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "claim_token must not be NULL");
    auto conclusion_text = arg_as_text(fcinfo, 1);
    if (!conclusion_text) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "conclusion must not be NULL");
    auto conclusion = adagio::parse_conclusion(*conclusion_text);
    if (!conclusion)
      throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "unknown conclusion \"" + *conclusion_text + "\"",
                     {}, "a conclusion is one of success, fail, error");

    SpiSession spi;
    const nlohmann::json summary = *conclusion == adagio::Conclusion::success
                                       ? report_success(spi, *token, arg_as_text(fcinfo, 2))
                                       : report_failure(spi, *token, *conclusion, arg_as_text(fcinfo, 2));
    spi.finish();
    return jsonb_result(summary.dump());
  });
}

}  // extern "C"
