// The stock worker plus two runtimes for benchmarks: "noop" does nothing, so a run measures only
// the engine; "stamp" returns when it started and ended (wall clock, microseconds) so that the
// driver can measure the hop from one node's end to the next node's start as the function sees it.
#include <adagio/worker/runtime.hpp>

#include <chrono>
#include <string>

namespace {

long long now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  adagio::worker::Registry registry = adagio::worker::builtin_runtimes();
  registry.add("noop", [](const adagio::worker::Task&) { return adagio::worker::Result{}; });
  registry.add("stamp", [](const adagio::worker::Task&) {
    const long long start = now_us();
    return adagio::worker::Result{adagio::Conclusion::success, std::to_string(start) + " " + std::to_string(now_us())};
  });
  return adagio::worker::run_worker_main(argc, argv, registry);
}
