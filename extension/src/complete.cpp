// Reporting an attempt. The claim token is the fence: only the current holder of a running node
// can report, and a stale token changes nothing.
#include "args.hpp"
#include "attempts.hpp"
#include "pg_guard.hpp"
#include "spi.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace adagio::pg {
namespace {

[[noreturn]] void refuse_stale_claim(SpiSession& spi, const std::string& token) {
  auto concluded = spi.query(
      "SELECT n.name, n.run_id::text, t.attempt::text, t.conclusion, t.reason"
      " FROM adagio.attempts t JOIN adagio.nodes n ON n.id = t.node_id"
      " WHERE t.node_id = adagio.claim_token_node($1::uuid) AND t.claim_token = $1::uuid",
      {token});
  if (!concluded.empty()) {
    const Row& a = concluded[0];
    const std::string which = "attempt " + a.text(2) + " of node \"" + a.text(0) + "\" in run " + a.text(1);
    throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "claim " + token + " is no longer held",
                   a[4] ? which + " was concluded by the engine: " + a.text(4)
                        : which + " was already reported (" + a.text(3) + ")",
                   "drop this result: a worker must not report a claim it no longer holds");
  }
  throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "claim " + token + " is no longer held",
                 "no claim with this token was ever handed out",
                 "drop this result: a worker must not report a claim it no longer holds");
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
    auto conclusion = adagio::parse_conclusion(conclusion_text.value_or(""));
    if (!conclusion)
      throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "unknown conclusion \"" + conclusion_text.value_or("NULL") + "\"",
                     {}, "a conclusion is one of success, fail, error");

    SpiSession spi;
    const std::optional<HeldNode> held = lock_held_node(spi, *token);
    if (!held) refuse_stale_claim(spi, *token);
    const HeldNode& node = *held;
    const AttemptOutcome result = record_attempt(spi, node, {*conclusion, arg_as_text(fcinfo, 2), std::nullopt});
    spi.finish();

    nlohmann::json summary = {{"run_id", std::stoll(node.run_id)},
                              {"node", node.name},
                              {"conclusion", adagio::to_string(*conclusion)},
                              {"outcome", result.outcome},
                              {"run_status", result.run_status},
                              {"run_conclusion", result.run_conclusion ? nlohmann::json(*result.run_conclusion)
                                                                       : nlohmann::json()}};
    if (result.retry_at) summary["retry_at"] = *result.retry_at;
    return jsonb_result(summary.dump());
  });
}

}  // extern "C"
