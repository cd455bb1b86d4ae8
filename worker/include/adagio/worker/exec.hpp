// The "exec" runtime: runs a program (no shell) in its own process group.
#pragma once

#include <adagio/worker/runtime.hpp>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace adagio::worker {

struct ExecOptions {
  /// Cap on captured bytes, separately for stdout and stderr.
  std::size_t max_output = std::size_t{1} << 20;
  /// Time between SIGTERM and SIGKILL of the process group on cancellation.
  std::chrono::milliseconds kill_grace{2000};
  /// How often the cancel flag is checked.
  std::chrono::milliseconds cancel_check{100};
  /// After the direct child exits, how long to keep reading output that
  /// background grandchildren may still hold open.
  std::chrono::milliseconds drain_after_exit{1000};
};

/// Runs metadata "command" (exactly one value) with metadata "args".
/// Exit 0 -> success, output = stdout without trailing newlines (as with
/// shell command substitution), and as its patch the JSON object the program
/// wrote to the file named by $ADAGIO_PATCH_FILE, if it wrote one (anything
/// else there makes it an error). Otherwise error, output = stdout +
/// stderr + a final line "exit status N" / "killed by signal N".
/// Cancelled -> error "cancelled".
Result run_exec(const Task& task, const ExecOptions& options = {});

/// run_exec bound to `options`, suitable for Registry::add.
Function make_exec_runtime(ExecOptions options = {});

/// Every character outside [A-Za-z0-9_] becomes '_' (case is kept).
std::string env_safe(std::string_view name);

/// The environment the child gets: `base` ("NAME=value" entries, e.g. from
/// environ) plus ADAGIO_RUN_ID, ADAGIO_NODE, ADAGIO_ATTEMPT, ADAGIO_INPUTS,
/// ADAGIO_INPUT_<name>, ADAGIO_PARAM_<key>, ADAGIO_ARG_<key> and, unless
/// `patch_file` is empty, ADAGIO_PATCH_FILE, which override entries of `base`
/// with the same name.
std::vector<std::string> exec_environment(const Task& task, const std::vector<std::string>& base,
                                          const std::string& patch_file = {});

}  // namespace adagio::worker
