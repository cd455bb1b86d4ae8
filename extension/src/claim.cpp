// adagio.claim(): ready nodes from the queue (claims.cpp), for an agent with free slots.
#include "args.hpp"
#include "claims.hpp"
#include "pg_guard.hpp"
#include "spi.hpp"

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_claim);

// adagio.claim(agent_id bigint, max_nodes int, lease interval) -> jsonb array of claims.
Datum adagio_claim(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    auto agent = arg_int64(fcinfo, 0);
    if (!agent) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "agent_id must not be NULL");
    const int max_nodes = arg_int32(fcinfo, 1).value_or(1);
    if (max_nodes < 1 || max_nodes > 10000)
      throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                     "max_nodes must be between 1 and 10000, got " + std::to_string(max_nodes));
    const std::string lease = lease_or_default(arg_as_text(fcinfo, 2));

    SpiSession spi;
    const Claims claims = claim_ready_nodes(spi, *agent, max_nodes, lease);
    spi.finish();
    return jsonb_result(claims.json);
  });
}

}  // extern "C"
