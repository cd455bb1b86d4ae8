#include "spawn.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace adagio::worker::detail {

namespace {

// Blocks every signal in the calling thread for its lifetime, so that no handler of the worker
// runs in the child between fork and exec.
class AllSignalsBlocked {
 public:
  AllSignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~AllSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  AllSignalsBlocked(const AllSignalsBlocked&) = delete;
  AllSignalsBlocked& operator=(const AllSignalsBlocked&) = delete;

 private:
  sigset_t saved_;
};

[[noreturn]] void child_failed(int report_fd, int err) {
  while (::write(report_fd, &err, sizeof err) < 0 && errno == EINTR) {
  }
  ::_exit(127);
}

// The child, between fork and exec: async-signal-safe calls only (the worker has other threads,
// whose locks the copy may hold). Reports errno on `report_fd` and exits if anything fails.
[[noreturn]] void exec_in_child(const char* file, char* const argv[], char* const envp[], int stdout_fd, int stderr_fd,
                                pid_t parent, int report_fd) {
  if (::setpgid(0, 0) != 0) child_failed(report_fd, errno);
  // PDEATHSIG (Linux), which posix_spawn cannot set.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_failed(report_fd, errno);
  if (::getppid() != parent) child_failed(report_fd, ESRCH);  // the worker died before the line above
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);  // fails harmlessly for KILL and STOP
  // Above 2 first, so that no descriptor is overwritten before it is copied (a worker started
  // with a standard descriptor closed gets its pipes there).
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int in = null_fd < 0 ? -1 : ::fcntl(null_fd, F_DUPFD_CLOEXEC, 3);
  const int out = ::fcntl(stdout_fd, F_DUPFD_CLOEXEC, 3);
  const int err = ::fcntl(stderr_fd, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || out < 0 || err < 0) child_failed(report_fd, errno);
  if (::dup2(in, STDIN_FILENO) < 0 || ::dup2(out, STDOUT_FILENO) < 0 || ::dup2(err, STDERR_FILENO) < 0)
    child_failed(report_fd, errno);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execvpe(file, argv, envp);
  child_failed(report_fd, errno);
}

}  // namespace

Spawned spawn_child(const char* file, char* const argv[], char* const envp[], int stdout_fd, int stderr_fd) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return Spawned{-1, errno};
  const pid_t parent = ::getpid();
  pid_t pid;
  {
    AllSignalsBlocked blocked;
    pid = ::fork();
    if (pid == 0) {
      ::close(report[0]);
      exec_in_child(file, argv, envp, stdout_fd, stderr_fd, parent, report[1]);
    }
  }
  const int fork_error = errno;
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    return Spawned{-1, fork_error};
  }
  // Also here, so that a cancellation right after this returns finds the group (the child may
  // not have run yet); one of the two calls fails harmlessly.
  ::setpgid(pid, pid);
  // The report pipe closes on a successful exec (CLOEXEC) or carries the child's errno.
  int child_error = 0;
  ssize_t got;
  while ((got = ::read(report[0], &child_error, sizeof child_error)) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  if (got == static_cast<ssize_t>(sizeof child_error)) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return Spawned{-1, child_error};
  }
  return Spawned{pid, 0};
}

}  // namespace adagio::worker::detail
