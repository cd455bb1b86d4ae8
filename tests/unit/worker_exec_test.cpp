// Tests of the "exec" runtime (no database needed).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <adagio/worker/exec.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using namespace adagio::worker;
using namespace std::chrono_literals;

namespace {

Task exec_task(std::string command, std::vector<std::string> args = {}) {
  Task t;
  t.run_id = 7;
  t.node_id = 123;
  t.node = "a";
  t.runtime = "exec";
  t.attempt = 2;
  t.metadata["command"] = {std::move(command)};
  if (!args.empty()) t.metadata["args"] = std::move(args);
  return t;
}

Task sh(const std::string& script) { return exec_task("sh", {"-c", script}); }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// True if pid no longer exists or is a zombie.
bool process_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] == 'Z';
}

std::string temp_path(const char* stem) {
  return std::string("/tmp/adagio_worker_test_") + stem + "_" + std::to_string(::getpid());
}

}  // namespace

TEST(WorkerExec, SuccessReturnsStdout) {
  Result r = run_exec(exec_task("echo", {"hi", "there"}));
  EXPECT_EQ(r.conclusion, Conclusion::success);
  EXPECT_EQ(r.output, "hi there");
}

TEST(WorkerExec, OnlyTrailingNewlinesAreTrimmed) {
  Result r = run_exec(sh("printf '  two\\nlines \\n\\n\\n'"));
  EXPECT_EQ(r.conclusion, Conclusion::success);
  EXPECT_EQ(r.output, "  two\nlines ");
}

TEST(WorkerExec, NoShellInterpretation) {
  Result r = run_exec(exec_task("echo", {"$HOME", "*", "a;b"}));
  EXPECT_EQ(r.conclusion, Conclusion::success);
  EXPECT_EQ(r.output, "$HOME * a;b");
}

TEST(WorkerExec, SuccessIgnoresStderr) {
  Result r = run_exec(sh("echo out; echo err >&2"));
  EXPECT_EQ(r.conclusion, Conclusion::success);
  EXPECT_EQ(r.output, "out");
}

TEST(WorkerExec, NonZeroExitIsErrorWithStdoutStderrAndStatus) {
  Result r = run_exec(sh("echo out; echo err >&2; exit 3"));
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_EQ(r.output, "out\nerr\nexit status 3");
}

TEST(WorkerExec, FailExitCodesAreTheProgramsVerdict) {
  Task t = sh("echo bad input; exit 3");
  t.metadata["fail_exit_codes"] = {"1", "3"};
  Result r = run_exec(t);
  EXPECT_EQ(r.conclusion, Conclusion::fail);
  EXPECT_EQ(r.output, "bad input\nexit status 3");

  t = sh("exit 4");  // not listed: still a fault
  t.metadata["fail_exit_codes"] = {"1", "3"};
  EXPECT_EQ(run_exec(t).conclusion, Conclusion::error);

  t = sh("kill -9 $$");  // a signal is never a verdict
  t.metadata["fail_exit_codes"] = {"9", "137"};
  EXPECT_EQ(run_exec(t).conclusion, Conclusion::error);
}

TEST(WorkerExec, BadFailExitCodesAreErrorsBeforeTheProgramRuns) {
  const std::string marker = temp_path("adagio-fail-codes");
  for (const char* bad : {"0", "256", "x", "", "3x", "-1"}) {
    Task t = sh("touch " + marker);
    t.metadata["fail_exit_codes"] = {"1", bad};
    Result r = run_exec(t);
    EXPECT_EQ(r.conclusion, Conclusion::error);
    EXPECT_EQ(r.output, std::string("exec: metadata \"fail_exit_codes\": \"") + bad +
                            "\" is not an exit status from 1 to 255");
  }
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(WorkerExec, KilledBySignal) {
  Result r = run_exec(sh("kill -9 $$"));
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_TRUE(ends_with(r.output, "killed by signal 9")) << r.output;
}

TEST(WorkerExec, MissingCommand) {
  Task t = exec_task("x");
  t.metadata.erase("command");
  Result r = run_exec(t);
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_EQ(r.output, "exec: metadata \"command\" is required");

  t.metadata["command"] = {};
  r = run_exec(t);
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_EQ(r.output, "exec: metadata \"command\" is required");
}

TEST(WorkerExec, CommandWithSeveralValuesIsError) {
  Task t = exec_task("echo");
  t.metadata["command"] = {"echo", "hi"};
  Result r = run_exec(t);
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_NE(r.output.find("exactly one value"), std::string::npos) << r.output;
}

TEST(WorkerExec, UnknownProgramIsError) {
  Result r = run_exec(exec_task("/nonexistent/adagio-no-such-program"));
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_NE(r.output.find("cannot run"), std::string::npos) << r.output;
}

TEST(WorkerExec, StdinIsDevNull) {
  Result r = run_exec(exec_task("cat"));
  EXPECT_EQ(r.conclusion, Conclusion::success);
  EXPECT_EQ(r.output, "");
}

TEST(WorkerExec, EnvironmentReachesTheChild) {
  ::setenv("ADAGIO_TEST_PASSTHROUGH", "kept", 1);
  Task t =
      sh("printf '%s|%s|%s|%s|%s|%s|%s|%s|%s|%s' \"$ADAGIO_RUN_ID\" \"$ADAGIO_NODE\" \"$ADAGIO_ATTEMPT\" "
         "\"$ADAGIO_INPUT_up_stream\" \"$ADAGIO_ARG_my_arg\" \"$ADAGIO_PARAM_p_x\" \"$ADAGIO_PARAM_n\" "
         "\"$ADAGIO_PARAM_obj\" \"$ADAGIO_INPUTS\" \"$ADAGIO_TEST_PASSTHROUGH\"");
  t.inputs["up-stream"] = "U V";
  t.metadata["my-arg"] = {"a", "b"};
  t.run_inputs = {{"p.x", "P"}, {"n", 5}, {"obj", {{"k", true}}}};
  Result r = run_exec(t);
  ASSERT_EQ(r.conclusion, Conclusion::success) << r.output;
  EXPECT_EQ(r.output, "7|a|2|U V|a b|P|5|{\"k\":true}|{\"up-stream\":\"U V\"}|kept");
  ::unsetenv("ADAGIO_TEST_PASSTHROUGH");
}

TEST(WorkerExec, ArgsOfCommandAreExported) {
  Result r = run_exec(sh("printf '%s' \"$ADAGIO_ARG_command/$ADAGIO_ARG_args\""));
  ASSERT_EQ(r.conclusion, Conclusion::success);
  EXPECT_EQ(r.output, "sh/-c printf '%s' \"$ADAGIO_ARG_command/$ADAGIO_ARG_args\"");
}

TEST(WorkerExec, EnvSafeNames) {
  EXPECT_EQ(env_safe("up-stream.x"), "up_stream_x");
  EXPECT_EQ(env_safe("Keep_Case9"), "Keep_Case9");
  EXPECT_EQ(env_safe("a b/ç"), "a_b___");  // ç is two bytes in UTF-8
}

TEST(WorkerExec, EnvironmentOverridesBase) {
  Task t = exec_task("true");
  t.node = "mine";
  auto env = exec_environment(t, {"PATH=/bin", "ADAGIO_NODE=old"});
  EXPECT_EQ(env[0], "PATH=/bin");
  EXPECT_EQ(env[1], "ADAGIO_NODE=mine");
  EXPECT_EQ(std::count(env.begin(), env.end(), "ADAGIO_NODE=mine"), 1);
}

TEST(WorkerExec, PatchFileIsOnlyExportedWhenGiven) {
  Task t = exec_task("true");
  auto without = exec_environment(t, {});
  EXPECT_EQ(std::count_if(without.begin(), without.end(),
                          [](const std::string& e) { return e.rfind("ADAGIO_PATCH_FILE=", 0) == 0; }),
            0);
  auto with = exec_environment(t, {"ADAGIO_PATCH_FILE=stale"}, "/tmp/x/patch.json");
  EXPECT_EQ(std::count(with.begin(), with.end(), "ADAGIO_PATCH_FILE=/tmp/x/patch.json"), 1);
}

TEST(WorkerExec, PatchWrittenToThePatchFileComesWithTheSuccess) {
  Result r = run_exec(sh("printf '%s' '{\"nodes\":[{\"name\":\"b\",\"runtime\":\"debug\"}]}' > \"$ADAGIO_PATCH_FILE\"; echo done"));
  ASSERT_EQ(r.conclusion, Conclusion::success) << r.output;
  EXPECT_EQ(r.output, "done");
  ASSERT_TRUE(r.patch.has_value());
  EXPECT_EQ((*r.patch)["nodes"][0]["name"], "b");
}

TEST(WorkerExec, PatchFileMayHoldJsonPatchOperations) {
  Result r = run_exec(sh("echo '[{\"op\":\"add\",\"path\":\"/nodes/-\",\"value\":{\"name\":\"b\",\"runtime\":\"debug\"}}]' > \"$ADAGIO_PATCH_FILE\""));
  ASSERT_EQ(r.conclusion, Conclusion::success) << r.output;
  ASSERT_TRUE(r.patch.has_value());
  EXPECT_EQ((*r.patch)[0]["path"], "/nodes/-");
}

TEST(WorkerExec, NoPatchWhenThePatchFileIsLeftEmptyOrUnwritten) {
  Result untouched = run_exec(sh("echo ok"));
  ASSERT_EQ(untouched.conclusion, Conclusion::success);
  EXPECT_FALSE(untouched.patch.has_value());
  Result empty = run_exec(sh(": > \"$ADAGIO_PATCH_FILE\""));
  ASSERT_EQ(empty.conclusion, Conclusion::success);
  EXPECT_FALSE(empty.patch.has_value());
}

TEST(WorkerExec, PatchFileThatIsNotAJsonObjectMakesAnError) {
  for (const char* text : {"not json", "\"text\"", "7"}) {
    Result r = run_exec(sh(std::string("echo out; printf '%s' '") + text + "' > \"$ADAGIO_PATCH_FILE\""));
    EXPECT_EQ(r.conclusion, Conclusion::error) << text;
    EXPECT_EQ(r.output, "out\nexec: $ADAGIO_PATCH_FILE does not hold a patch (a JSON object, or an array of JSON Patch operations)") << text;
    EXPECT_FALSE(r.patch.has_value());
  }
}

TEST(WorkerExec, FailedProgramsPatchIsIgnored) {
  Result r = run_exec(sh("echo '{\"nodes\":[]}' > \"$ADAGIO_PATCH_FILE\"; exit 3"));
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_FALSE(r.patch.has_value());
}

TEST(WorkerExec, WithoutAWritableTmpdirTheProgramRunsWithoutAPatchFile) {
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", "/nonexistent-adagio-test-dir", 1);
  Result r = run_exec(sh("echo \"[${ADAGIO_PATCH_FILE-unset}]\""));
  if (old) ::setenv("TMPDIR", saved.c_str(), 1); else ::unsetenv("TMPDIR");
  ASSERT_EQ(r.conclusion, Conclusion::success) << r.output;
  EXPECT_EQ(r.output, "[unset]");
  EXPECT_FALSE(r.patch.has_value());
}

TEST(WorkerExec, PatchDirectoryIsRemovedAfterTheRun) {
  Result r = run_exec(sh("echo '{}' > \"$ADAGIO_PATCH_FILE\"; touch \"$(dirname \"$ADAGIO_PATCH_FILE\")/extra\"; "
                         "echo \"$ADAGIO_PATCH_FILE\""));
  ASSERT_EQ(r.conclusion, Conclusion::success) << r.output;
  ASSERT_TRUE(ends_with(r.output, "/patch.json")) << r.output;
  const std::string dir = r.output.substr(0, r.output.size() - std::string("/patch.json").size());
  EXPECT_NE(::access(r.output.c_str(), F_OK), 0);
  EXPECT_NE(::access(dir.c_str(), F_OK), 0) << dir;
}

TEST(WorkerExec, LargeStdoutAndStderrAreDrainedConcurrently) {
  // 300 kB on stderr before stdout is written would deadlock a reader that
  // only drained stdout.
  Result r = run_exec(sh("head -c 300000 /dev/zero | tr '\\0' e >&2; head -c 300000 /dev/zero | tr '\\0' o"));
  ASSERT_EQ(r.conclusion, Conclusion::success);
  EXPECT_EQ(r.output.size(), 300000u);
}

TEST(WorkerExec, OutputIsCapped) {
  ExecOptions opt;
  opt.max_output = 1000;
  Result r = run_exec(sh("head -c 5000 /dev/zero | tr '\\0' x; exit 1"), opt);
  ASSERT_EQ(r.conclusion, Conclusion::error);
  EXPECT_EQ(r.output.compare(0, 1000, std::string(1000, 'x')), 0);
  EXPECT_NE(r.output.find("[stdout truncated: 5000 bytes, first 1000 kept]"), std::string::npos) << r.output;
  EXPECT_TRUE(ends_with(r.output, "exit status 1"));
}

TEST(WorkerExec, DefaultCapIsOneMiB) {
  Result r = run_exec(sh("head -c 1100000 /dev/zero | tr '\\0' y"));
  ASSERT_EQ(r.conclusion, Conclusion::success);
  EXPECT_EQ(r.output.find("[stdout truncated: 1100000 bytes, first 1048576 kept]"), 1048576u + 1);
}

TEST(WorkerExec, CancellationKillsTheWholeProcessGroupQuickly) {
  const std::string pidfile = temp_path("pid");
  std::remove(pidfile.c_str());
  std::atomic<bool> cancel{false};
  Task t = sh("sleep 30 & echo $! > " + pidfile + "; sleep 30");
  t.cancelled = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(300ms);
    cancel = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  Result r = run_exec(t);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  canceller.join();
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_EQ(r.output, "cancelled");
  EXPECT_LT(elapsed, 2s);

  std::ifstream in(pidfile);
  pid_t grandchild = 0;
  ASSERT_TRUE(in >> grandchild) << "no pid file";
  std::remove(pidfile.c_str());
  // The background sleep was in the same process group: it must be dead.
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    gone = process_gone(grandchild);
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " still running";
  if (!gone) ::kill(grandchild, SIGKILL);
}

TEST(WorkerExec, CancellationEscalatesToSigkill) {
  ExecOptions opt;
  opt.kill_grace = 300ms;
  std::atomic<bool> cancel{false};
  Task t = sh("trap '' TERM; sleep 30; echo survived");
  t.cancelled = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    cancel = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  Result r = run_exec(t, opt);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  canceller.join();
  EXPECT_EQ(r.conclusion, Conclusion::error);
  EXPECT_EQ(r.output, "cancelled");
  EXPECT_LT(elapsed, 2s);
}

TEST(WorkerExec, BackgroundGrandchildDoesNotBlockCompletion) {
  ExecOptions opt;
  opt.drain_after_exit = 200ms;
  const std::string pidfile = temp_path("bg");
  Task t = sh("sleep 5 & echo $! > " + pidfile + "; echo done");
  const auto t0 = std::chrono::steady_clock::now();
  Result r = run_exec(t, opt);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(r.conclusion, Conclusion::success);
  EXPECT_EQ(r.output, "done");
  std::ifstream in(pidfile);
  pid_t bg = 0;
  if (in >> bg && bg > 0) ::kill(bg, SIGKILL);
  std::remove(pidfile.c_str());
}

TEST(WorkerExec, ConcurrentExecutionsDoNotShareOutput) {
  std::vector<std::thread> threads;
  std::vector<Result> results(4);
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] { results[i] = run_exec(sh("sleep 0.2; echo " + std::to_string(i))); });
  for (auto& th : threads) th.join();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(results[i].conclusion, Conclusion::success);
    EXPECT_EQ(results[i].output, std::to_string(i));
  }
}

TEST(WorkerExec, BuiltinRegistryHasExec) {
  Registry reg = builtin_runtimes();
  const Function* fn = reg.find("exec");
  ASSERT_NE(fn, nullptr);
  Result r = (*fn)(exec_task("echo", {"via registry"}));
  EXPECT_EQ(r.output, "via registry");
}
