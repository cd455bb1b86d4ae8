#include <fcntl.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <adagio/worker/exec.hpp>
#include <adagio/worker/log.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "spawn.hpp"

extern char** environ;

namespace adagio::worker {

namespace {

using clock = std::chrono::steady_clock;
using detail::spawn_child;
using detail::Spawned;
using nlohmann::json;

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

Result error(std::string msg) { return Result{Conclusion::error, std::move(msg)}; }

std::string no_nul(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '\0'), s.end());
  return s;
}

// Captured output of one stream, capped.
struct Capture {
  std::string data;
  std::size_t total = 0;
  std::size_t cap = 0;
  Fd fd;

  void append(const char* p, std::size_t n) {
    total += n;
    if (data.size() < cap) data.append(p, std::min(n, cap - data.size()));
  }
  std::string text(const char* name) const {
    std::string out = data;
    if (total > data.size()) {
      if (!out.empty() && out.back() != '\n') out += '\n';
      out += "[" + std::string(name) + " truncated: " + std::to_string(total) + " bytes, first " +
             std::to_string(data.size()) + " kept]\n";
    }
    return out;
  }
};

// A private directory for one execution's patch file, removed with whatever the program left in it.
class PatchDir {
 public:
  PatchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/adagio-exec-XXXXXX";
    if (::mkdtemp(templ.data()))
      dir_ = templ;
    else
      errno_ = errno;
  }
  PatchDir(const PatchDir&) = delete;
  PatchDir& operator=(const PatchDir&) = delete;
  ~PatchDir() {
    if (dir_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  bool valid() const { return !dir_.empty(); }
  int error() const { return errno_; }
  std::string file() const { return dir_ + "/patch.json"; }

 private:
  std::string dir_;
  int errno_ = 0;
};

// Bigger than any patch the engine takes (10,000 nodes), small enough not to exhaust the worker.
constexpr std::uintmax_t max_patch_file_bytes = std::uintmax_t{64} << 20;

// The patch the program wrote to $ADAGIO_PATCH_FILE: none if it wrote nothing; an error message
// if what it wrote is not JSON of a patch's shape (the engine checks the rest).
std::optional<json> read_patch_file(const std::string& path, std::string& error_message) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size == 0) return std::nullopt;
  if (size > max_patch_file_bytes) {
    error_message = "exec: $ADAGIO_PATCH_FILE holds " + std::to_string(size) + " bytes, more than the " +
                    std::to_string(max_patch_file_bytes) + " a patch may have";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  json patch = json::parse(text.str(), nullptr, false);
  if (patch.is_discarded() || !(patch.is_object() || patch.is_array())) {
    error_message = "exec: $ADAGIO_PATCH_FILE does not hold a patch (a JSON object, or an array of JSON Patch operations)";
    return std::nullopt;
  }
  return patch;
}

void append_block(std::string& out, const std::string& block) {
  if (block.empty()) return;
  if (!out.empty() && out.back() != '\n') out += '\n';
  out += block;
}

}  // namespace

std::string env_safe(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) c = '_';
  }
  return out;
}

std::vector<std::string> exec_environment(const Task& task, const std::vector<std::string>& base,
                                          const std::string& patch_file) {
  std::vector<std::string> env;
  std::unordered_map<std::string, std::size_t> index;  // name -> position in env
  auto set = [&](const std::string& name, const std::string& value) {
    std::string entry = name + "=" + no_nul(value);
    auto it = index.find(name);
    if (it != index.end()) {
      env[it->second] = std::move(entry);
    } else {
      index.emplace(name, env.size());
      env.push_back(std::move(entry));
    }
  };
  for (const std::string& e : base) {
    auto eq = e.find('=');
    std::string name = eq == std::string::npos ? e : e.substr(0, eq);
    if (index.count(name)) {
      env[index[name]] = e;
    } else {
      index.emplace(name, env.size());
      env.push_back(e);
    }
  }

  set("ADAGIO_RUN_ID", std::to_string(task.run_id));
  set("ADAGIO_NODE", task.node);
  set("ADAGIO_ATTEMPT", std::to_string(task.attempt));
  json inputs = json::object();
  for (const auto& [name, value] : task.inputs) inputs[name] = value;
  set("ADAGIO_INPUTS", inputs.dump(-1, ' ', false, json::error_handler_t::replace));
  for (const auto& [name, value] : task.inputs) set("ADAGIO_INPUT_" + env_safe(name), value);
  if (task.run_inputs.is_object()) {
    for (const auto& [key, value] : task.run_inputs.items()) {
      set("ADAGIO_PARAM_" + env_safe(key),
          value.is_string() ? value.get<std::string>() : value.dump(-1, ' ', false, json::error_handler_t::replace));
    }
  }
  for (const auto& [key, vals] : task.metadata) {
    std::string joined;
    for (std::size_t i = 0; i < vals.size(); ++i) {
      if (i) joined += ' ';
      joined += vals[i];
    }
    set("ADAGIO_ARG_" + env_safe(key), joined);
  }
  if (!patch_file.empty()) set("ADAGIO_PATCH_FILE", patch_file);
  return env;
}

Result run_exec(const Task& task, const ExecOptions& opt) {
  auto cmd_it = task.metadata.find("command");
  if (cmd_it == task.metadata.end() || cmd_it->second.empty()) return error("exec: metadata \"command\" is required");
  if (cmd_it->second.size() != 1)
    return error("exec: metadata \"command\" must have exactly one value (put arguments in \"args\")");
  const std::string& command = cmd_it->second.front();
  if (command.empty()) return error("exec: metadata \"command\" is empty");

  // Exit statuses that are the program's own verdict ("fail"), so that the node's retry.fail rule
  // applies to them; every other non-zero exit is a fault ("error").
  std::vector<int> fail_exit_codes;
  if (auto f = task.metadata.find("fail_exit_codes"); f != task.metadata.end()) {
    for (const std::string& v : f->second) {
      char* end = nullptr;
      errno = 0;
      const long code = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno != 0 || code < 1 || code > 255)
        return error("exec: metadata \"fail_exit_codes\": \"" + v + "\" is not an exit status from 1 to 255");
      fail_exit_codes.push_back(static_cast<int>(code));
    }
  }

  std::vector<std::string> args{command};
  if (auto a = task.metadata.find("args"); a != task.metadata.end())
    args.insert(args.end(), a->second.begin(), a->second.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> base;
  for (char** e = environ; e && *e; ++e) base.emplace_back(*e);
  // Without a writable temporary directory the program still runs, only without a patch file:
  // patches are optional, and most programs never send one.
  const PatchDir patch_dir;
  if (!patch_dir.valid())
    log::warn("exec: no $ADAGIO_PATCH_FILE for run ", task.run_id, " node ", task.node,
              ": cannot create a directory under $TMPDIR: ", std::strerror(patch_dir.error()));
  std::vector<std::string> env = exec_environment(task, base, patch_dir.valid() ? patch_dir.file() : std::string());
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  Capture out, err;
  out.cap = err.cap = opt.max_output;
  Fd out_w, err_w;
  {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return error(std::string("exec: pipe: ") + std::strerror(errno));
    out.fd = Fd(p[0]);
    out_w = Fd(p[1]);
    if (::pipe2(p, O_CLOEXEC) != 0) return error(std::string("exec: pipe: ") + std::strerror(errno));
    err.fd = Fd(p[0]);
    err_w = Fd(p[1]);
  }

  const Spawned spawned = spawn_child(command.c_str(), argv.data(), envp.data(), out_w.get(), err_w.get());
  out_w.reset();
  err_w.reset();
  if (spawned.pid < 0) return error("exec: cannot run \"" + command + "\": " + std::strerror(spawned.error));
  const pid_t pid = spawned.pid;

  bool exited = false;
  int status = 0;
  bool cancelled = false;
  bool sent_term = false, sent_kill = false;
  clock::time_point exit_time{}, term_time{};
  char buf[65536];

  for (;;) {
    if (!exited) {
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        exited = true;
        exit_time = clock::now();
      } else if (r < 0 && errno != EINTR) {
        exited = true;  // should not happen; do not spin forever
        status = 0;
        exit_time = clock::now();
      }
    }
    const bool pipes_open = out.fd.valid() || err.fd.valid();
    if (exited && !pipes_open) break;
    if (exited && clock::now() - exit_time >= opt.drain_after_exit) break;

    if (task.is_cancelled()) cancelled = true;
    if (cancelled) {
      auto now = clock::now();
      if (!sent_term) {
        ::kill(-pid, SIGTERM);
        sent_term = true;
        term_time = now;
      } else if (!sent_kill && now - term_time >= opt.kill_grace) {
        ::kill(-pid, SIGKILL);
        sent_kill = true;
      }
    }

    pollfd fds[2];
    Capture* caps[2];
    nfds_t n = 0;
    for (Capture* c : {&out, &err}) {
      if (c->fd.valid()) {
        fds[n] = pollfd{c->fd.get(), POLLIN, 0};
        caps[n] = c;
        ++n;
      }
    }
    int timeout_ms = static_cast<int>(opt.cancel_check.count());
    if (!pipes_open) timeout_ms = std::min(timeout_ms, 10);  // only waiting for the exit
    if (exited) timeout_ms = std::min(timeout_ms, 50);
    int pr = ::poll(n ? fds : nullptr, n, timeout_ms);
    if (pr < 0 && errno != EINTR) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    for (nfds_t i = 0; pr > 0 && i < n; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        caps[i]->append(buf, static_cast<std::size_t>(got));
        task.log(std::string_view(buf, static_cast<std::size_t>(got)));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        caps[i]->fd.reset();
      }
    }
  }
  // Reap the child if we stopped waiting early (should not happen).
  if (!exited) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (!cancelled && task.is_cancelled()) cancelled = true;
  if (cancelled) {
    ::kill(-pid, SIGKILL);  // leftovers of the group, if any
    return error("cancelled");
  }

  std::string stdout_text = out.text("stdout");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    // Like shell command substitution $(...): trailing newlines go, so that
    // "echo A" passes "A" downstream.
    while (!stdout_text.empty() && (stdout_text.back() == '\n' || stdout_text.back() == '\r')) stdout_text.pop_back();
    std::string patch_error;
    std::optional<json> patch = patch_dir.valid() ? read_patch_file(patch_dir.file(), patch_error) : std::nullopt;
    if (!patch_error.empty()) {
      append_block(stdout_text, patch_error);
      return Result{Conclusion::error, stdout_text};
    }
    return Result{Conclusion::success, stdout_text, std::move(patch)};
  }

  std::string output = stdout_text;
  append_block(output, err.text("stderr"));
  std::string last = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                         : "exit status " + std::to_string(WEXITSTATUS(status));
  append_block(output, last);
  const bool verdict = WIFEXITED(status) && std::find(fail_exit_codes.begin(), fail_exit_codes.end(),
                                                      WEXITSTATUS(status)) != fail_exit_codes.end();
  return Result{verdict ? Conclusion::fail : Conclusion::error, output};
}

Function make_exec_runtime(ExecOptions options) {
  return [options](const Task& task) { return run_exec(task, options); };
}

}  // namespace adagio::worker
