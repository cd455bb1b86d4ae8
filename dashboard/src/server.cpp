#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <iostream>
#include <thread>

#include "app.hpp"

namespace adagio::dashboard {
namespace {

void add_security_headers(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
}

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr address{};
  return inet_pton(AF_INET, host.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

// The name part of a Host header: "localhost:8080" -> "localhost", "[::1]:8080" -> "::1".
std::string host_name(const std::string& header) {
  if (!header.empty() && header[0] == '[') return header.substr(1, header.find(']') - 1);
  return header.substr(0, header.find(':'));
}

// Restores the signal mask of the calling thread when serve() returns.
class SignalMaskGuard {
 public:
  explicit SignalMaskGuard(const sigset_t& block) { pthread_sigmask(SIG_BLOCK, &block, &previous_); }
  ~SignalMaskGuard() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  SignalMaskGuard(const SignalMaskGuard&) = delete;
  SignalMaskGuard& operator=(const SignalMaskGuard&) = delete;

 private:
  sigset_t previous_;
};

}  // namespace

int serve(const Options& options) {
  if (options.port < 0 || options.port > 65535) {
    std::cerr << "adagio-dashboard: --port must be from 0 to 65535" << std::endl;
    return 2;
  }
  if (options.db_connections < 1 || options.db_connections > 64) {
    std::cerr << "adagio-dashboard: the connection pool size must be from 1 to 64" << std::endl;
    return 2;
  }
  // SIGINT/SIGTERM are blocked in every thread (httplib's workers inherit the mask) and taken
  // synchronously by one watcher thread, which stops the server: no work in a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  SignalMaskGuard mask(stop_signals);
  signal(SIGPIPE, SIG_IGN);

  App app(options);
  httplib::Server server;
  // httplib's interface: it takes the queue and deletes it itself.
  server.new_task_queue = [] { return new httplib::ThreadPool(api_threads + max_live_streams); };
  server.set_payload_max_length(4 * 1024 * 1024);
  server.set_read_timeout(10, 0);
  const bool loopback = is_loopback(options.host);
  // Listening on loopback means "only this machine": a page from elsewhere that rebinds its DNS
  // name to 127.0.0.1 must not read the API through the browser, so the Host must be local too.
  if (loopback) {
    server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      const std::string name = host_name(req.get_header_value("Host"));
      if (name.empty() || is_loopback(name)) return httplib::Server::HandlerResponse::Unhandled;
      send_error(res, 403, "this dashboard listens on loopback and answers only to a local Host (got " + shown(name) + ")");
      return httplib::Server::HandlerResponse::Handled;
    });
  }
  server.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) { add_security_headers(res); });
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    // Pages poll every second or two: log what changes state and what went wrong, not every read.
    if (req.method == "GET" && res.status < 400) return;
    std::cerr << "adagio-dashboard: " << req.method << ' ' << req.path << ' ' << res.status << std::endl;
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send_error(res, 500, "internal error");
  });
  server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.body.empty() && (req.path.rfind("/api/", 0) == 0 || res.status != 404))
      send_error(res, res.status, res.status == 404 ? "not found" : "request failed");
  });

  install_live(server, app);  // before install_api(), whose catch-all answers the rest of /api/
  install_api(server, app);
  install_metrics(server, app);
  const std::string assets = find_assets_dir(options.assets_dir);
  if (assets.empty()) {
    std::cerr << "adagio-dashboard: warning: no built web UI found"
              << (options.assets_dir.empty() ? std::string(" (run make)") : " in " + options.assets_dir)
              << "; serving the API only" << std::endl;
    server.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("adagio dashboard: the web UI is not built (run make); the API is at /api/openapi.json\n", "text/plain");
    });
  } else {
    server.set_mount_point("/", assets);
  }

  int port = options.port;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
    if (port < 0) port = 0;
  } else if (!server.bind_to_port(options.host, port)) {
    port = 0;
  }
  if (port == 0) {
    std::cerr << "adagio-dashboard: cannot listen on " << options.host << ':' << options.port << std::endl;
    return 1;
  }
  std::cout << "adagio-dashboard: listening on http://" << (options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host)
            << ':' << port << "/ (actions: "
            << (!options.token.empty() ? "need the token" : options.allow_unauthenticated_actions ? "open" : "disabled") << ')'
            << std::endl;
  if (!loopback && options.token.empty() && options.allow_unauthenticated_actions)
    std::cerr << "adagio-dashboard: warning: actions are open to anyone who can reach " << options.host << std::endl;

  std::atomic<bool> done{false};
  std::thread watcher([&] {
    const timespec tick{0, 200'000'000};
    while (!done) {
      if (sigtimedwait(&stop_signals, nullptr, &tick) > 0) {
        std::cerr << "adagio-dashboard: stopping" << std::endl;
        app.live.stop();  // first: the server waits for its threads, live streams among them
        server.stop();
        return;
      }
    }
  });
  const bool ok = server.listen_after_bind();
  done = true;
  watcher.join();
  return ok ? 0 : 1;
}

}  // namespace adagio::dashboard
