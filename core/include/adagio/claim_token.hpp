#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace adagio {

// A claim token is the fence on one attempt: only its holder may report or heartbeat it. It is a
// UUIDv8 (RFC 9562, the layout left to the application) that names its node:
//
//   bits 0-47    the node id's top 48 bits (the id is positive, below 2^60)
//   bits 48-51   version 8
//   bits 52-63   the node id's low 12 bits
//   bits 64-65   variant 0b10
//   bits 66-127  random, new for every claim
//
// so the engine finds a reported claim by the node's primary key, and no index on the token is
// needed (a random uuid index costs an insertion per claim and per attempt at a random page). A
// stale holder's token names the right node with the wrong random part, and is refused.
using ClaimToken = std::array<unsigned char, 16>;
using ClaimTokenEntropy = std::array<unsigned char, 8>;

// The largest node id a token can name: 2^60 - 1.
constexpr std::int64_t max_claim_token_node = (std::int64_t{1} << 60) - 1;

// The token for node_id with the given random bytes (two of their bits give way to the variant);
// nullopt when node_id is not in 1..max_claim_token_node.
std::optional<ClaimToken> make_claim_token(std::int64_t node_id, const ClaimTokenEntropy& entropy);

// The node a token names; nullopt when the uuid does not have a claim token's layout (another
// version or variant, or node id 0), so it was never handed out.
std::optional<std::int64_t> claim_token_node(const ClaimToken& token);

}  // namespace adagio
