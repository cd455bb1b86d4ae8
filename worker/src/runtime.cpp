#include <adagio/graph.hpp>
#include <adagio/worker/debug.hpp>
#include <adagio/worker/exec.hpp>
#include <adagio/worker/runtime.hpp>
#include <exception>
#include <stdexcept>

namespace adagio::worker {

bool Task::is_cancelled() const { return cancelled != nullptr && cancelled->load(std::memory_order_relaxed); }

void Task::log(std::string_view text) const {
  if (log_sink && !text.empty()) log_sink(text);
}

void Registry::add(std::string runtime, Function fn) {
  if (!adagio::is_runtime_name(runtime))
    throw std::invalid_argument("invalid runtime name \"" + runtime +
                                "\" (use 1 to 48 of letters, digits, '_', '.', '-')");
  if (!fn) throw std::invalid_argument("runtime \"" + runtime + "\": empty function");
  // The server refuses an agent that offers one (register_agent): say so here, where it is written.
  if (adagio::is_engine_runtime(runtime))
    throw std::invalid_argument("runtime \"" + runtime +
                                "\" is the engine's own (approval gates, timers): no worker runs its nodes");
  functions_[std::move(runtime)] = std::move(fn);
}

const Function* Registry::find(std::string_view runtime) const {
  auto it = functions_.find(runtime);
  return it == functions_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  out.reserve(functions_.size());
  for (const auto& [name, fn] : functions_) out.push_back(name);
  return out;
}

Registry builtin_runtimes() {
  Registry r;
  r.add("exec", make_exec_runtime());
  r.add("debug", [](const Task& t) { return run_debug(t); });
  return r;
}

Result call_function(const Function& fn, const Task& task) noexcept {
  try {
    return fn(task);
  } catch (const std::exception& e) {
    return Result{Conclusion::error, std::string("exception: ") + e.what()};
  } catch (...) {
    return Result{Conclusion::error, "exception: unknown exception"};
  }
}

}  // namespace adagio::worker
