#include "adagio/claim_token.hpp"

namespace adagio {

std::optional<ClaimToken> make_claim_token(std::int64_t node_id, const ClaimTokenEntropy& entropy) {
  if (node_id < 1 || node_id > max_claim_token_node) return std::nullopt;
  const auto id = static_cast<std::uint64_t>(node_id);
  ClaimToken token{};
  // The id's top 48 bits, then the version nibble, then its low 12 bits.
  for (int i = 0; i < 6; ++i) token[i] = static_cast<unsigned char>(id >> (52 - 8 * i));
  token[6] = static_cast<unsigned char>(0x80 | ((id >> 8) & 0x0F));
  token[7] = static_cast<unsigned char>(id);
  for (int i = 0; i < 8; ++i) token[8 + i] = entropy[i];
  token[8] = static_cast<unsigned char>(0x80 | (token[8] & 0x3F));
  return token;
}

std::optional<std::int64_t> claim_token_node(const ClaimToken& token) {
  if ((token[6] & 0xF0) != 0x80 || (token[8] & 0xC0) != 0x80) return std::nullopt;
  std::uint64_t id = 0;
  for (int i = 0; i < 6; ++i) id = (id << 8) | token[i];
  id = (id << 4) | (token[6] & 0x0F);
  id = (id << 8) | token[7];
  if (id == 0) return std::nullopt;
  return static_cast<std::int64_t>(id);
}

}  // namespace adagio
