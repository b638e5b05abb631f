#include "platform/host/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "platform/host/sysfs.h"

namespace ecomap::platform {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Closes a file descriptor once.
struct Fd {
  int fd = -1;
  ~Fd() { Close(); }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// Reads what is available on `fd` into `out`; returns false at end-of-file or error.
bool Drain(int fd, std::string& out, size_t max_bytes, bool& truncated) {
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      size_t room = out.size() < max_bytes ? max_bytes - out.size() : 0;
      size_t take = std::min(room, static_cast<size_t>(n));
      out.append(buf, take);
      if (take < static_cast<size_t>(n)) truncated = true;
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    return false;
  }
}

}  // namespace

std::string DescribeCommand(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`;&|<>*?()") == std::string::npos;
    out += plain ? a : "'" + a + "'";
  }
  return out;
}

StatusOr<std::string> FindProgram(const std::string& name, const std::string& root) {
  if (name.empty()) return InvalidArgument("empty program name");
  if (name.front() == '/') return name;
  if (name.find('/') != std::string::npos) {
    return InvalidArgument("program '" + name + "' must be a bare name or an absolute path");
  }
  std::string r = root;
  while (!r.empty() && r.back() == '/') r.pop_back();
  std::vector<std::string> dirs;
  for (const char* d : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) dirs.push_back(r + d);
  if (const char* path = std::getenv("PATH")) {
    std::string_view p = path;
    size_t i = 0;
    while (i <= p.size()) {
      size_t c = p.find(':', i);
      if (c == std::string_view::npos) c = p.size();
      std::string d(p.substr(i, c - i));
      if (!d.empty() && d.front() == '/') dirs.push_back(d);
      i = c + 1;
    }
  }
  for (const std::string& d : dirs) {
    std::string candidate = d + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return NotFound("program '" + name + "' not found in " + (r.empty() ? std::string("/") : r) +
                  "/{usr/sbin,usr/bin,sbin,bin} or PATH");
}

StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty()) return InvalidArgument("cannot run a program: empty argument list");
  for (const std::string& a : argv) {
    if (a.find('\0') != std::string::npos) {
      return InvalidArgument("cannot run " + DescribeCommand(argv) + ": an argument contains a NUL byte");
    }
  }
  const std::string& prog = argv[0];
  if (prog.empty() || prog.front() != '/') {
    return InvalidArgument("cannot run '" + prog +
                           "': the program must be an absolute path (no PATH lookup)");
  }
  if (options.timeout.count() <= 0) {
    return InvalidArgument("cannot run " + DescribeCommand(argv) + ": the timeout must be positive");
  }
  for (const std::string& e : options.extra_env) {
    if (e.find('=') == std::string::npos || e.front() == '=') {
      return InvalidArgument("environment entry '" + e + "' is not NAME=value");
    }
  }
  struct stat st {};
  if (::stat(prog.c_str(), &st) != 0) {
    return NotFound("cannot run '" + prog + "': " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return FailedPrecondition("cannot run '" + prog + "': not a regular file");
  if (::access(prog.c_str(), X_OK) != 0) {
    return PermissionDenied("cannot run '" + prog + "': not executable by this user (" +
                            std::strerror(errno) + ")");
  }

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  Fd out_r{out_pipe[0]}, out_w{out_pipe[1]};
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  Fd err_r{err_pipe[0]}, err_w{err_pipe[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.fd, 2);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty_mask, default_signals;
  sigemptyset(&empty_mask);
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGPIPE);
  sigaddset(&default_signals, SIGINT);
  sigaddset(&default_signals, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &empty_mask);
  posix_spawnattr_setsigdefault(&attr, &default_signals);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  env.insert(env.end(), options.extra_env.begin(), options.extra_env.end());
  std::vector<char*> c_argv, c_env;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  for (const std::string& e : env) c_env.push_back(const_cast<char*>(e.c_str()));
  c_env.push_back(nullptr);

  const auto start = SteadyClock::now();
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, prog.c_str(), &actions, &attr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    if (rc == ENOENT) return NotFound("cannot run '" + prog + "': " + std::strerror(rc));
    if (rc == EACCES || rc == EPERM)
      return PermissionDenied("cannot run '" + prog + "': " + std::strerror(rc));
    return Internal("cannot run " + DescribeCommand(argv) + ": posix_spawn: " + std::strerror(rc));
  }
  out_w.Close();
  err_w.Close();
  ::fcntl(out_r.fd, F_SETFL, O_NONBLOCK);
  ::fcntl(err_r.fd, F_SETFL, O_NONBLOCK);

  ProcessResult result;
  const auto deadline = start + options.timeout;
  bool out_open = true, err_open = true, exited = false;
  int wait_status = 0;
  while (true) {
    if (!exited) {
      pid_t w = ::waitpid(pid, &wait_status, WNOHANG);
      if (w == pid) exited = true;
    }
    if (exited) {
      // Collect what is left; a grandchild still holding a pipe does not keep us waiting.
      if (out_open) Drain(out_r.fd, result.stdout_text, options.max_output_bytes, result.truncated);
      if (err_open) Drain(err_r.fd, result.stderr_text, options.max_output_bytes, result.truncated);
      break;
    }
    auto now = SteadyClock::now();
    if (now >= deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
      }
      if (out_open) Drain(out_r.fd, result.stdout_text, options.max_output_bytes, result.truncated);
      std::string partial(Trim(result.stdout_text + result.stderr_text));
      if (partial.size() > 200) partial = partial.substr(0, 200) + "...";
      return DeadlineExceeded(DescribeCommand(argv) + " did not finish within " +
                              std::to_string(options.timeout.count()) + " ms and was killed" +
                              (partial.empty() ? std::string() : "; its output so far: " + partial));
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    int wait_ms = static_cast<int>(std::min<long long>(left + 1, 20));
    pollfd fds[2];
    int n = 0;
    if (out_open) fds[n++] = {out_r.fd, POLLIN, 0};
    if (err_open) fds[n++] = {err_r.fd, POLLIN, 0};
    if (n == 0) {
      ::usleep(static_cast<useconds_t>(std::min(wait_ms, 5)) * 1000);
      continue;
    }
    int pr = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (pr < 0 && errno != EINTR) break;
    if (out_open) out_open = Drain(out_r.fd, result.stdout_text, options.max_output_bytes, result.truncated);
    if (err_open) err_open = Drain(err_r.fd, result.stderr_text, options.max_output_bytes, result.truncated);
  }
  if (!exited) {
    while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
  }
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
  if (WIFEXITED(wait_status)) {
    result.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    result.term_signal = WTERMSIG(wait_status);
  }
  return result;
}

}  // namespace ecomap::platform
