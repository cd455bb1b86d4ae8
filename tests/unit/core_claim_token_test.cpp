// Claim tokens name their node (UUIDv8): the engine finds a reported claim by the node's primary
// key, so the layout must round-trip every id it accepts and refuse every uuid it never made.
#include "adagio/claim_token.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>

namespace adagio {
namespace {

constexpr ClaimTokenEntropy all_ones{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
constexpr ClaimTokenEntropy all_zeros{};

TEST(ClaimToken, NamesItsNode) {
  for (std::int64_t id : {std::int64_t{1}, std::int64_t{255}, std::int64_t{256}, std::int64_t{4095},
                          std::int64_t{4096}, std::int64_t{123456789}, std::int64_t{1} << 40,
                          max_claim_token_node}) {
    for (const ClaimTokenEntropy& entropy : {all_ones, all_zeros}) {
      const auto token = make_claim_token(id, entropy);
      ASSERT_TRUE(token) << id;
      EXPECT_EQ(claim_token_node(*token), id);
    }
  }
}

TEST(ClaimToken, IsAVersion8Uuid) {
  for (const ClaimTokenEntropy& entropy : {all_ones, all_zeros}) {
    const ClaimToken token = *make_claim_token(max_claim_token_node, entropy);
    EXPECT_EQ(token[6] >> 4, 8) << "version";
    EXPECT_EQ(token[8] >> 6, 2) << "variant";
  }
}

TEST(ClaimToken, ReadsTheIdMostSignificantFirst) {
  // Node 0x123456789ABCDEF: the top 48 bits, the version nibble, the low 12 bits.
  const ClaimToken token = *make_claim_token(0x123456789ABCDEF, all_zeros);
  const ClaimToken expected{0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0x8D, 0xEF, 0x80, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(token, expected);
}

TEST(ClaimToken, KeepsAllButTwoRandomBits) {
  const ClaimTokenEntropy entropy{0x3C, 1, 2, 3, 4, 5, 6, 7};
  const ClaimToken token = *make_claim_token(42, entropy);
  EXPECT_EQ(token[8], 0x80 | 0x3C);
  for (int i = 1; i < 8; ++i) EXPECT_EQ(token[8 + i], entropy[i]);
  // Two claims of one node differ when their random parts do.
  std::set<ClaimToken> tokens;
  for (unsigned char b = 0; b < 64; ++b) tokens.insert(*make_claim_token(42, ClaimTokenEntropy{b}));
  EXPECT_EQ(tokens.size(), 64u);
}

TEST(ClaimToken, RefusesIdsItCannotName) {
  EXPECT_FALSE(make_claim_token(0, all_ones));
  EXPECT_FALSE(make_claim_token(-1, all_ones));
  EXPECT_FALSE(make_claim_token(max_claim_token_node + 1, all_ones));
  EXPECT_FALSE(make_claim_token(INT64_MAX, all_ones));
}

TEST(ClaimToken, RefusesUuidsOfOtherLayouts) {
  // A random (version 4) uuid, as gen_random_uuid() makes: 0b8a4c1e-7f44-4a0e-9e55-0c1f0d3f7a11.
  const ClaimToken v4{0x0b, 0x8a, 0x4c, 0x1e, 0x7f, 0x44, 0x4a, 0x0e, 0x9e, 0x55, 0x0c, 0x1f, 0x0d, 0x3f, 0x7a, 0x11};
  EXPECT_FALSE(claim_token_node(v4));
  // Version 8 with the wrong variant.
  ClaimToken wrong_variant = *make_claim_token(7, all_zeros);
  wrong_variant[8] = 0xC0;
  EXPECT_FALSE(claim_token_node(wrong_variant));
  // The nil uuid, and version 8 naming node 0.
  EXPECT_FALSE(claim_token_node(ClaimToken{}));
  ClaimToken node_zero{};
  node_zero[6] = 0x80, node_zero[8] = 0x80;
  EXPECT_FALSE(claim_token_node(node_zero));
}

}  // namespace
}  // namespace adagio
