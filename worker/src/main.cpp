// adagio-worker: the stock worker with the built-in runtimes (exec, debug).
#include <adagio/worker/runtime.hpp>

int main(int argc, char** argv) {
  const adagio::worker::Registry registry = adagio::worker::builtin_runtimes();
  return adagio::worker::run_worker_main(argc, argv, registry);
}
