#include "notify.hpp"

#include "pg_guard.hpp"
#include "settings.hpp"

namespace adagio::pg {

void notify_ready(const std::string& runtime) {
  const std::string channel = "adagio.ready." + runtime;
  const char* raw = channel.c_str();
  pg_guard([&] { Async_Notify(raw, ""); });
}

void notify_run_finished(std::int64_t run_id) {
  const std::string payload = std::to_string(run_id);
  const char* raw = payload.c_str();
  pg_guard([&] { Async_Notify("adagio.run_finished", raw); });
}

void notify_events(std::int64_t run_id) {
  if (!event_notifications) return;
  const std::string payload = std::to_string(run_id);
  const char* raw = payload.c_str();
  pg_guard([&] { Async_Notify("adagio.events", raw); });
}

}  // namespace adagio::pg
