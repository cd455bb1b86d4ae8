// adagio.claim(): ready nodes from the queue (claims.cpp), for an agent with free slots.
#include "args.hpp"
#include "claims.hpp"
#include "pg_guard.hpp"
#include "spi.hpp"

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_claim);

// adagio.claim(agent_id bigint, max_nodes int, lease interval) -> json array of claims.
Datum adagio_claim(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    const ClaimRequest request = read_claim_request(fcinfo, 2, 1);
    SpiSession spi;
    const Claims claims = claim_ready_nodes(spi, request.agent, request.max_nodes, request.lease);
    spi.finish();
    return json_result(claims.json);
  });
}

}  // extern "C"
