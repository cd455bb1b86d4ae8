#include <adagio/worker/claim.hpp>
#include <stdexcept>

namespace adagio::worker {

namespace {

using nlohmann::json;

std::string scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::int64_t get_int(const json& obj, const char* key, bool required, std::int64_t dflt = 0) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) throw std::invalid_argument(std::string("claim: missing \"") + key + "\"");
    return dflt;
  }
  if (it->is_number_integer() || it->is_number_unsigned()) return it->get<std::int64_t>();
  if (it->is_number_float()) {
    double d = it->get<double>();
    auto i = static_cast<std::int64_t>(d);
    if (static_cast<double>(i) == d) return i;
  }
  if (it->is_string()) {
    const std::string s = it->get<std::string>();
    try {
      std::size_t pos = 0;
      long long v = std::stoll(s, &pos);
      if (pos == s.size()) return v;
    } catch (const std::exception&) {
    }
  }
  throw std::invalid_argument(std::string("claim: \"") + key + "\" is not an integer: " + it->dump());
}

std::string get_string(const json& obj, const char* key, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) throw std::invalid_argument(std::string("claim: missing \"") + key + "\"");
    return {};
  }
  if (!it->is_string())
    throw std::invalid_argument(std::string("claim: \"") + key + "\" is not a string: " + it->dump());
  return it->get<std::string>();
}

}  // namespace

Claim parse_claim(const json& j) {
  if (!j.is_object()) throw std::invalid_argument("claim: not a JSON object: " + j.dump());
  Claim c;
  c.claim_token = get_string(j, "claim_token", true);
  if (c.claim_token.empty()) throw std::invalid_argument("claim: empty \"claim_token\"");
  c.lease_expires_at = get_string(j, "lease_expires_at", false);

  Task& t = c.task;
  t.node_id = get_int(j, "node_id", true);
  t.run_id = get_int(j, "run_id", true);
  t.node = get_string(j, "name", true);
  t.runtime = get_string(j, "runtime", true);
  t.attempt = static_cast<int>(get_int(j, "attempt", false, 1));
  if (auto it = j.find("timeout_seconds"); it != j.end() && !it->is_null()) {
    const long long seconds = get_int(j, "timeout_seconds", true);
    if (seconds < 1) throw std::invalid_argument("claim: \"timeout_seconds\" must be positive, got " + it->dump());
    t.timeout = std::chrono::seconds(seconds);
  }

  if (auto it = j.find("metadata"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw std::invalid_argument("claim: \"metadata\" is not an object");
    for (const auto& [key, value] : it->items()) {
      auto& values = t.metadata[key];
      if (value.is_array()) {
        for (const auto& v : value)
          if (!v.is_null()) values.push_back(scalar_text(v));
      } else if (!value.is_null()) {
        values.push_back(scalar_text(value));
      }
    }
  }

  if (auto it = j.find("inputs"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw std::invalid_argument("claim: \"inputs\" is not an object");
    for (const auto& [key, value] : it->items()) t.inputs[key] = value.is_null() ? std::string() : scalar_text(value);
  }

  if (auto it = j.find("run_inputs"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw std::invalid_argument("claim: \"run_inputs\" is not an object");
    t.run_inputs = *it;
  } else {
    t.run_inputs = json::object();
  }

  if (auto it = j.find("attempts"); it != j.end() && it->is_array()) c.attempts = *it;
  return c;
}

std::vector<Claim> parse_claims(const json& j) {
  std::vector<Claim> out;
  if (j.is_null()) return out;
  if (!j.is_array()) throw std::invalid_argument("claims: expected a JSON array, got " + j.dump());
  out.reserve(j.size());
  for (const auto& elem : j) {
    try {
      out.push_back(parse_claim(elem));
    } catch (const std::exception& e) {
      Claim bad;
      bad.error = e.what();
      if (elem.is_object()) {
        auto it = elem.find("claim_token");
        if (it != elem.end() && it->is_string()) bad.claim_token = it->get<std::string>();
        if (auto n = elem.find("name"); n != elem.end() && n->is_string()) bad.task.node = n->get<std::string>();
        if (auto r = elem.find("run_id"); r != elem.end() && r->is_number_integer())
          bad.task.run_id = r->get<std::int64_t>();
        if (auto r = elem.find("runtime"); r != elem.end() && r->is_string()) bad.task.runtime = r->get<std::string>();
      }
      out.push_back(std::move(bad));
    }
  }
  return out;
}

}  // namespace adagio::worker
