// GET /api/live: a page's stream of server-sent events about one run (?run=ID) or all of them,
// fed by the LiveFeed. Each stream holds one of the server's threads while it is open.
#include <chrono>
#include <memory>
#include <string>

#include "app.hpp"

namespace adagio::dashboard {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A closed page's stream shows only as a failed write (the second after the peer went away), so
// something is written this often: a comment line, a few bytes a second.
constexpr milliseconds keepalive_every{1000};

bool write(httplib::DataSink& sink, const std::string& text) { return sink.write(text.data(), text.size()); }

std::string event_text(const LiveFeed::Message& message) {
  if (message.resync) return "event: resync\ndata: {}\n\n";
  return "event: changed\ndata: " + Json{{"runs", message.runs}}.dump() + "\n\n";
}

}  // namespace

void install_live(httplib::Server& server, App& app) {
  server.Get("/api/live", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    expect_only(req, {"run"});
    const std::optional<std::int64_t> run = int_param(req, "run", 1, INT64_MAX);
    auto subscription = app.live.subscribe(run);
    if (!subscription)
      throw HttpError(503, "too many live streams are open; the page refreshes on a timer instead");
    res.set_header("Cache-Control", "no-store");
    struct StreamState {
      bool started = false;
      steady_clock::time_point last_write = steady_clock::now();
    };
    auto state = std::make_shared<StreamState>();
    res.set_chunked_content_provider(
        "text/event-stream",
        [subscription, state](std::size_t, httplib::DataSink& sink) {
          if (!state->started) {
            state->started = true;
            // EventSource reconnects by itself; "retry" is its pause in ms.
            return write(sink, "retry: 2000\n: connected\n\n");
          }
          const auto messages = subscription->take(milliseconds(1000));
          if (subscription->stopped()) {  // the dashboard is stopping
            sink.done();
            return true;
          }
          std::string text;
          for (const auto& message : messages) text += event_text(message);
          if (text.empty() && steady_clock::now() - state->last_write >= keepalive_every) text = ": keepalive\n\n";
          if (text.empty()) return true;
          state->last_write = steady_clock::now();
          return write(sink, text);  // false (the page went away) ends the stream
        },
        [&app, subscription](bool) { app.live.unsubscribe(subscription); });
  }));
}

}  // namespace adagio::dashboard
