// The SQL face of the claim token layout (core/include/adagio/claim_token.hpp): the engine's
// statements make tokens with adagio.new_claim_token(node id) and find a reported claim's node
// with adagio.claim_token_node(token), by primary key.
#include "pg_guard.hpp"

#include <adagio/claim_token.hpp>

#include <cstring>
#include <string>

using namespace adagio::pg;

extern "C" {

PG_FUNCTION_INFO_V1(adagio_new_claim_token);
PG_FUNCTION_INFO_V1(adagio_claim_token_node);

// adagio.new_claim_token(node_id bigint) -> uuid, with 62 bits from the server's strong random source.
Datum adagio_new_claim_token(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    const std::int64_t node_id = PG_GETARG_INT64(0);
    adagio::ClaimTokenEntropy entropy{};
    if (!pg_strong_random(entropy.data(), entropy.size()))
      throw SqlError(ERRCODE_INTERNAL_ERROR, "could not generate random values for a claim token");
    const auto token = adagio::make_claim_token(node_id, entropy);
    if (!token)
      throw SqlError(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                     "node id " + std::to_string(node_id) + " cannot be named by a claim token",
                     "a claim token names node ids from 1 to " + std::to_string(adagio::max_claim_token_node));
    pg_uuid_t* result = nullptr;
    pg_guard([&] { result = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t))); });
    std::memcpy(result->data, token->data(), token->size());
    return UUIDPGetDatum(result);
  });
}

// adagio.claim_token_node(token uuid) -> bigint, NULL for a uuid that is no claim token.
Datum adagio_claim_token_node(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    adagio::ClaimToken token{};
    std::memcpy(token.data(), PG_GETARG_UUID_P(0)->data, token.size());
    const auto node = adagio::claim_token_node(token);
    if (!node) {
      fcinfo->isnull = true;
      return Datum(0);
    }
    return Int64GetDatum(*node);
  });
}

}  // extern "C"
