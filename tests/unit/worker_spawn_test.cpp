// spawn_child(): the exec runtime's process start (worker/src/spawn.hpp).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "spawn.hpp"

using adagio::worker::detail::spawn_child;
using adagio::worker::detail::Spawned;

namespace {

extern "C" char** environ;

Spawned spawn(std::vector<std::string> args, int out_fd = STDOUT_FILENO) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return spawn_child(argv[0], argv.data(), environ, out_fd, STDERR_FILENO);
}

// The child's status, waiting at most `limit`; -1 if it is still running by then.
int wait_at_most(pid_t pid, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

}  // namespace

TEST(WorkerSpawn, ChildIsKilledWhenTheSpawningThreadEnds) {
  // The worker's executor threads live as long as the worker: this is the worker dying.
  Spawned spawned;
  std::thread([&] { spawned = spawn({"sleep", "30"}); }).join();
  ASSERT_GT(spawned.pid, 0) << "errno " << spawned.error;
  const int status = wait_at_most(spawned.pid, std::chrono::seconds(5));
  if (status == -1) ::kill(spawned.pid, SIGKILL), ::waitpid(spawned.pid, nullptr, 0);
  ASSERT_NE(status, -1) << "sleep 30 outlived the thread that started it";
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(WorkerSpawn, ChildLeadsItsOwnProcessGroup) {
  Spawned spawned = spawn({"sleep", "30"});
  ASSERT_GT(spawned.pid, 0);
  EXPECT_EQ(::getpgid(spawned.pid), spawned.pid);
  ::kill(-spawned.pid, SIGKILL);  // the group, as a cancellation does
  const int status = wait_at_most(spawned.pid, std::chrono::seconds(5));
  ASSERT_NE(status, -1);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(WorkerSpawn, ChildStartsWithNoSignalBlockedOrIgnored) {
  // The worker ignores SIGPIPE and its threads block signals; a command must not inherit either.
  struct sigaction ignore {}, saved{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &saved);
  sigset_t term, old_mask;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old_mask);

  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  Spawned spawned = spawn({"grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"}, p[1]);
  ::close(p[1]);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGPIPE, &saved, nullptr);
  ASSERT_GT(spawned.pid, 0);
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  ::close(p[0]);
  const int status = wait_at_most(spawned.pid, std::chrono::seconds(5));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << text;
  // The standard signals, 1 to 31: bits 0 to 30 of each mask. (Above them, glibc keeps two
  // real-time signals for itself and refuses to change them; a test runner may ignore them.)
  ASSERT_EQ(text.size(), 2u * (8 + 16 + 1)) << text;  // "SigBlk:\t", 16 hex digits, "\n"; then SigIgn
  EXPECT_EQ(text.substr(0, 8), "SigBlk:\t");
  EXPECT_EQ(std::stoull(text.substr(8, 16), nullptr, 16) & 0x7fffffffu, 0u) << "blocked: " << text;
  EXPECT_EQ(text.substr(25, 8), "SigIgn:\t");
  EXPECT_EQ(std::stoull(text.substr(33, 16), nullptr, 16) & 0x7fffffffu, 0u) << "ignored: " << text;
}

TEST(WorkerSpawn, AMissingCommandIsItsErrnoAndNoChildIsLeft) {
  Spawned spawned = spawn({"adagio-no-such-command"});
  EXPECT_EQ(spawned.pid, -1);
  EXPECT_EQ(spawned.error, ENOENT);
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "the failed child was reaped";
  EXPECT_EQ(errno, ECHILD);
}
