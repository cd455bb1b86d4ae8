#include <adagio/worker/text.hpp>

namespace adagio::worker {

std::string sanitize_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  static const char replacement[] = "\xEF\xBF\xBD";
  std::size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c == 0) {
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlongs
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // no overlongs
      if (c == 0xF4) hi = 0x8F;  // <= U+10FFFF
    }
    bool ok = len != 0 && i + len <= n;
    if (ok) {
      for (std::size_t k = 1; k < len; ++k) {
        unsigned char b = s[i + k];
        unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (b < l || b > h) {
          ok = false;
          break;
        }
      }
    }
    if (ok) {
      out.append(in.data() + i, len);
      i += len;
    } else {
      out += replacement;
      ++i;
    }
  }
  return out;
}

std::string pg_array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::vector<std::string> parse_pg_array(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return out;
  text = text.substr(1, text.size() - 2);
  std::string cur;
  bool quoted = false, in_quotes = false, any = false;
  auto flush = [&] {
    if (any && !(cur == "NULL" && !quoted)) out.push_back(cur);
    cur.clear();
    quoted = in_quotes = any = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '\\' && i + 1 < text.size()) {
        cur += text[++i];
      } else if (c == '"') {
        in_quotes = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      in_quotes = quoted = any = true;
    } else if (c == ',') {
      flush();
    } else if (c != ' ') {
      cur += c;
      any = true;
    }
  }
  flush();
  return out;
}

}  // namespace adagio::worker
