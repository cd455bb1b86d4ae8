// The SQL face of the claim token layout (core/include/adagio/claim_token.hpp): the engine's
// statements make tokens with adagio.new_claim_token(node id) and find a reported claim's node
// with adagio.claim_token_node(token), by primary key.
#include "pg_guard.hpp"

#include <adagio/claim_token.hpp>

#include <array>
#include <cstring>
#include <string>

using namespace adagio::pg;

namespace {

// Random bytes for tokens, drawn from pg_strong_random() 4 KB (512 tokens) at a time: a call per
// token spent about 2% of a dag report's server time in OpenSSL's generator, whose locking and
// state checks come with every call. The bytes belong to the process that drew them: one forked
// from it (as every backend is from the postmaster) draws its own, so no two processes can hand
// out the same bytes. Each byte is handed out once and then cleared.
struct EntropyPool {
  std::array<unsigned char, 4096> bytes{};
  std::size_t used = bytes.size();
  int owner = 0;  // the MyProcPid that drew them
};

bool take_entropy(unsigned char* out, std::size_t length) {
  static EntropyPool pool;
  if (pool.owner != MyProcPid || pool.used + length > pool.bytes.size()) {
    if (!pg_strong_random(pool.bytes.data(), pool.bytes.size())) return false;
    pool.used = 0;
    pool.owner = MyProcPid;
  }
  std::memcpy(out, pool.bytes.data() + pool.used, length);
  std::memset(pool.bytes.data() + pool.used, 0, length);
  pool.used += length;
  return true;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(adagio_new_claim_token);
PG_FUNCTION_INFO_V1(adagio_claim_token_node);

// adagio.new_claim_token(node_id bigint) -> uuid, with 62 bits from the server's strong random source.
Datum adagio_new_claim_token(PG_FUNCTION_ARGS) {
  return sql_entry([&]() -> Datum {
    const std::int64_t node_id = PG_GETARG_INT64(0);
    adagio::ClaimTokenEntropy entropy{};
    if (!take_entropy(entropy.data(), entropy.size()))
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
