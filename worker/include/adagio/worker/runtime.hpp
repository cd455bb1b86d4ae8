// The runtime API of the adagio worker: what a node's function receives
// (Task), what it returns (Result), and the Registry that maps runtime names
// to functions. Users build their own worker binary by adding functions to a
// Registry and handing it to run_worker_main().
#pragma once

#include <adagio/conclusion.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace adagio::worker {

using adagio::Conclusion;

/// What a function gets: one claimed node of one run.
struct Task {
  std::int64_t run_id = 0;
  std::int64_t node_id = 0;
  std::string node;     ///< node name within the run's graph
  std::string runtime;  ///< runtime the node asked for
  int attempt = 1;      ///< 1-based attempt number
  /// Node arguments: every metadata key with its values.
  std::map<std::string, std::vector<std::string>> metadata;
  /// Outputs of upstream nodes, by upstream node name.
  std::map<std::string, std::string> inputs;
  /// Run-level inputs (a JSON object, possibly empty).
  nlohmann::json run_inputs = nlohmann::json::object();
  /// The node's timeout_seconds, if it has one: the worker cancels the execution when it runs
  /// longer (see `cancelled`) and reports it as an error.
  std::optional<std::chrono::seconds> timeout;
  /// Set when the claim is lost, the timeout passes, or on forced shutdown. May be null.
  const std::atomic<bool>* cancelled = nullptr;
  /// Where log() goes; set by the worker. May be empty.
  std::function<void(std::string_view)> log_sink;

  /// True once the worker wants this execution to stop. Long-running
  /// functions should check it regularly and return early.
  bool is_cancelled() const;
  /// Appends text to this attempt's log, which the worker streams to the database about once a
  /// second (adagio.node_logs; `adagio logs`, the dashboard) while the function runs. Callable
  /// from any thread; text is as written (include the newlines). The exec runtime sends the
  /// program's stdout and stderr here.
  void log(std::string_view text) const;
};

/// What a function returns.
struct Result {
  Result() = default;
  Result(Conclusion c, std::string out, std::optional<nlohmann::json> patch_ = std::nullopt)
      : conclusion(c), output(std::move(out)), patch(std::move(patch_)) {}

  Conclusion conclusion = Conclusion::success;
  std::string output;
  /// With a success: nodes (and edges that end at them) to add to this node's run, as the JSON
  /// of proto GraphPatch, e.g. one node per item found, each after this node. The worker applies
  /// it (adagio.patch_run_from_node()) before it reports the success; a patch the engine refuses
  /// turns the attempt into an error naming why. Ignored with any other conclusion.
  std::optional<nlohmann::json> patch;
};

/// A runtime implementation. Throwing from it reports the attempt as
/// conclusion error with output "exception: <what()>".
using Function = std::function<Result(const Task&)>;

/// Maps runtime names (as used by nodes and NOTIFY channels) to functions.
class Registry {
 public:
  /// Registers (or replaces) the function for `runtime`. Names must be
  /// 1 to 48 characters of [A-Za-z0-9_.-] (as the extension requires);
  /// throws std::invalid_argument otherwise or if `fn` is empty.
  void add(std::string runtime, Function fn);
  /// The function for `runtime`, or nullptr.
  const Function* find(std::string_view runtime) const;
  /// All registered runtime names, sorted.
  std::vector<std::string> names() const;

 private:
  std::map<std::string, Function, std::less<>> functions_;
};

/// A registry holding the built-in runtimes: "exec" and "debug".
Registry builtin_runtimes();

/// Parses the command line, runs the worker until SIGTERM/SIGINT (or until
/// idle with --once-idle) and returns the process exit code (0 on a clean
/// shutdown, 2 on a usage error).
int run_worker_main(int argc, char** argv, const Registry& registry);

/// Runs `fn` on `task`, turning exceptions into Result{error, "exception: ..."}.
Result call_function(const Function& fn, const Task& task) noexcept;

}  // namespace adagio::worker
