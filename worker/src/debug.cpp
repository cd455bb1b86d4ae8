#include <adagio/worker/debug.hpp>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <sstream>
#include <thread>

namespace adagio::worker {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Nanoseconds per unit, or 0 if unknown.
long double unit_ns(std::string_view u) {
  if (u == "ns") return 1.0L;
  if (u == "us" || u == "\xC2\xB5s" /* µ micro sign */ || u == "\xCE\xBCs" /* μ greek mu */) return 1e3L;
  if (u == "ms") return 1e6L;
  if (u == "s") return 1e9L;
  if (u == "m") return 60e9L;
  if (u == "h") return 3600e9L;
  return 0.0L;
}

const std::vector<std::string>* values(const Task& t, const char* key) {
  auto it = t.metadata.find(key);
  return it == t.metadata.end() ? nullptr : &it->second;
}

std::string dq(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

struct Chance {
  double probability;
  std::string outcome;  // success|fail|error|panic
};

double uniform01() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

Result bad(std::string msg) { return Result{Conclusion::error, "debug: " + std::move(msg)}; }

}  // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  bool negative = false;
  if (s.front() == '-' || s.front() == '+') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  constexpr long double max_ns = static_cast<long double>(std::numeric_limits<std::int64_t>::max());

  bool all_digits = true;
  for (char c : s) all_digits = all_digits && is_digit(c);
  if (all_digits) {  // bare integer: nanoseconds
    if (s.size() > 19) return std::nullopt;
    long double v = std::strtold(std::string(s).c_str(), nullptr);
    if (v > max_ns) return std::nullopt;
    auto ns = static_cast<std::int64_t>(v);
    return std::chrono::nanoseconds(negative ? -ns : ns);
  }

  long double total = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    while (i < s.size() && is_digit(s[i])) ++i;
    std::size_t int_digits = i;
    std::size_t frac_digits = 0;
    if (i < s.size() && s[i] == '.') {
      ++i;
      std::size_t f0 = i;
      while (i < s.size() && is_digit(s[i])) ++i;
      frac_digits = i - f0;
    }
    if (int_digits + frac_digits == 0) return std::nullopt;
    long double number = std::strtold(std::string(s.substr(0, i)).c_str(), nullptr);
    s.remove_prefix(i);
    std::size_t u = 0;
    while (u < s.size() && !is_digit(s[u]) && s[u] != '.') ++u;
    if (u == 0) return std::nullopt;  // missing unit
    long double mult = unit_ns(s.substr(0, u));
    if (mult == 0) return std::nullopt;
    s.remove_prefix(u);
    total += number * mult;
    if (total > max_ns) return std::nullopt;
  }
  auto ns = static_cast<std::int64_t>(std::llround(total));
  return std::chrono::nanoseconds(negative ? -ns : ns);
}

Result run_debug(const Task& task) {
  // Validate everything before sleeping, so bad metadata fails fast.
  Conclusion conclusion = Conclusion::success;
  if (auto* v = values(task, "conclusion"); v && !v->empty()) {
    if (v->size() != 1) return bad("metadata \"conclusion\" must have one value");
    auto c = parse_conclusion(v->front());
    if (!c) return bad("bad conclusion " + dq(v->front()) + " (want success, fail or error)");
    conclusion = *c;
  }

  std::chrono::nanoseconds sleep{0};
  if (auto* v = values(task, "sleep"); v && !v->empty()) {
    if (v->size() != 1) return bad("metadata \"sleep\" must have one value");
    auto d = parse_duration(v->front());
    if (!d) return bad("bad sleep duration " + dq(v->front()));
    sleep = *d;
  }

  std::vector<Chance> chances;
  if (auto* v = values(task, "chances")) {
    for (const std::string& entry : *v) {
      std::istringstream in(entry);
      std::string prob_text, outcome, extra;
      if (!(in >> prob_text >> outcome) || (in >> extra))
        return bad("bad chance " + dq(entry) + " (want \"<probability> <conclusion>\")");
      char* end = nullptr;
      double p = std::strtod(prob_text.c_str(), &end);
      if (end == prob_text.c_str() || *end != '\0' || !std::isfinite(p) || p < 0.0 || p > 1.0)
        return bad("bad chance probability " + dq(prob_text) + " in " + dq(entry));
      if (outcome != "panic" && !parse_conclusion(outcome))
        return bad("bad chance conclusion " + dq(outcome) + " in " + dq(entry));
      chances.push_back(Chance{p, outcome});
    }
  }

  std::optional<std::string> output;
  if (auto* v = values(task, "output"); v && !v->empty()) {
    std::string joined;
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (i) joined += '\n';
      joined += (*v)[i];
    }
    output = std::move(joined);
  }

  std::optional<nlohmann::json> patch;
  if (auto* v = values(task, "patch"); v && !v->empty()) {
    if (v->size() != 1) return bad("metadata \"patch\" must have one value");
    patch = nlohmann::json::parse(v->front(), nullptr, false);
    if (patch->is_discarded() || !(patch->is_object() || patch->is_array()))
      return bad("metadata \"patch\" is not a JSON object or array");
  }

  // Sleep in small steps so that cancellation is noticed.
  if (sleep.count() > 0) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + sleep;
    for (;;) {
      if (task.is_cancelled()) return Result{Conclusion::error, "cancelled"};
      auto now = clock::now();
      if (now >= deadline) break;
      auto step = std::min<clock::duration>(deadline - now, std::chrono::milliseconds(50));
      std::this_thread::sleep_for(step);
    }
  }
  if (task.is_cancelled()) return Result{Conclusion::error, "cancelled"};

  for (const Chance& c : chances) {
    if (uniform01() < c.probability) {
      if (c.outcome == "panic") return Result{Conclusion::error, "debug: panic"};
      conclusion = *parse_conclusion(c.outcome);
      break;
    }
  }
  Result result{conclusion, output ? *output : std::string("debug: ") + to_string(conclusion), std::nullopt};
  if (conclusion == Conclusion::success) result.patch = std::move(patch);
  return result;
}

}  // namespace adagio::worker
