#include "notify.hpp"

#include "pg_guard.hpp"
#include "settings.hpp"

namespace adagio::pg {
namespace {

constexpr std::size_t max_payload = 7900;  // NOTIFY payloads must stay below 8000 bytes

void notify_all(const char* channel, const std::vector<std::int64_t>& run_ids) {
  for (const std::string& payload : run_id_payloads(run_ids)) {
    const char* raw = payload.c_str();
    pg_guard([&] { Async_Notify(channel, raw); });
  }
}

}  // namespace

std::vector<std::string> run_id_payloads(const std::vector<std::int64_t>& run_ids) {
  std::vector<std::string> payloads;
  std::string current;
  for (std::int64_t id : run_ids) {
    const std::string text = std::to_string(id);
    if (!current.empty() && current.size() + 1 + text.size() > max_payload) {
      payloads.push_back(current);
      current.clear();
    }
    current += (current.empty() ? "" : ",") + text;
  }
  if (!current.empty()) payloads.push_back(current);
  return payloads;
}

void notify_ready(const std::string& runtime) {
  const std::string channel = "adagio.ready." + runtime;
  const char* raw = channel.c_str();
  pg_guard([&] { Async_Notify(raw, ""); });
}

void notify_runs_finished(const std::vector<std::int64_t>& run_ids) { notify_all("adagio.run_finished", run_ids); }

void notify_events(const std::vector<std::int64_t>& run_ids) {
  if (event_notifications) notify_all("adagio.events", run_ids);
}

}  // namespace adagio::pg
