#include "params.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <regex>

namespace adagio::dashboard {

std::string shown(const std::string& value) {
  constexpr std::size_t max_shown = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < value.size() && i < max_shown; ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) out += '?';
    else if (c == '"' || c == '\\') { out += '\\'; out += static_cast<char>(c); }
    else out += static_cast<char>(c);
  }
  if (value.size() > max_shown) out += "...";
  return out + "\"";
}

std::int64_t parse_id(const std::string& text, const std::string& what) {
  const auto fail = [&] { return bad_request(what + " must be a positive integer, got " + shown(text)); };
  if (text.empty() || text.size() > 19 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw fail();
  std::uint64_t value = 0;
  for (char c : text) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  if (value == 0 || value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) throw fail();
  return static_cast<std::int64_t>(value);
}

void expect_only(const httplib::Request& req, std::initializer_list<const char*> known) {
  for (const auto& [name, value] : req.params) {
    const bool is_known = std::any_of(known.begin(), known.end(), [&](const char* k) { return name == k; });
    if (!is_known) {
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      throw bad_request("unknown query parameter " + shown(name) +
                        (list.empty() ? std::string(" (this endpoint takes none)") : " (known: " + list + ")"));
    }
    if (req.get_param_value_count(name.c_str()) > 1) throw bad_request("query parameter " + shown(name) + " is given more than once");
  }
}

std::optional<std::string> text_param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  std::string value = req.get_param_value(name);
  if (value.empty()) return std::nullopt;  // ?status= from an empty form field means "any"
  if (value.size() > 256) throw bad_request(std::string("query parameter \"") + name + "\" is too long");
  return value;
}

std::optional<std::int64_t> int_param(const httplib::Request& req, const char* name, std::int64_t min, std::int64_t max) {
  auto text = text_param(req, name);
  if (!text) return std::nullopt;
  const auto fail = [&] {
    return bad_request(std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                       std::to_string(max) + ", got " + shown(*text));
  };
  const bool negative = (*text)[0] == '-';
  const std::string digits = negative ? text->substr(1) : *text;
  if (digits.empty() || digits.size() > 18 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw fail();
  std::int64_t value = std::stoll(digits);
  if (negative) value = -value;
  if (value < min || value > max) throw fail();
  return value;
}

std::optional<std::string> choice_param(const httplib::Request& req, const char* name, const std::vector<std::string>& allowed) {
  auto value = text_param(req, name);
  if (!value) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *value) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    throw bad_request(std::string(name) + " must be one of " + list + ", got " + shown(*value));
  }
  return value;
}

std::optional<std::string> timestamp_param(const httplib::Request& req, const char* name) {
  static const std::regex iso(
      R"(^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$)");
  auto value = text_param(req, name);
  if (!value) return std::nullopt;
  if (!std::regex_match(*value, iso))
    throw bad_request(std::string(name) + " must be an ISO 8601 timestamp such as 2026-11-22T15:04:05Z, got " + shown(*value));
  return value;
}

}  // namespace adagio::dashboard
