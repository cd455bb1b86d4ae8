// Internal: starting an exec node's process so that it does not outlive the worker.
#pragma once

#include <sys/types.h>

namespace adagio::worker::detail {

struct Spawned {
  pid_t pid = -1;  // the child, leader of its own process group; -1 if it could not be started
  int error = 0;   // errno of the failed fork or exec when pid is -1
};

/// Runs `file` (searched in PATH like execvp) with argv and envp, stdin from /dev/null and stdout
/// and stderr on the given descriptors, in a process group of its own, with every signal unblocked
/// and at its default action. The child is sent SIGKILL if the thread that spawned it ends, which
/// with the worker's executor threads (kept until the worker exits) means: if the worker dies,
/// even by SIGKILL, when nothing is left to cancel it, and another worker may already be running
/// the node again once the lease lapses.
Spawned spawn_child(const char* file, char* const argv[], char* const envp[], int stdout_fd, int stderr_fd);

}  // namespace adagio::worker::detail
