// platform/host/process.h: run a helper program (e.g. `nvpmodel`) safely.
// Part of ecomap_platform, for the drivers (jetson/ runs nvpmodel through it); nothing else includes it.
//
// The program is started with posix_spawn from an argument vector, never through a shell, so no
// argument is ever interpreted; stdin is /dev/null (a program that prompts sees end-of-file
// instead of hanging), stdout and stderr are captured, the environment is a small fixed one
// (PATH=/usr/sbin:/usr/bin:/sbin:/bin, LC_ALL=C) plus what the caller adds, and the child runs in
// its own process group so that a timeout kills it and everything it started.
//
//   ProcessOptions opt;
//   opt.timeout = std::chrono::milliseconds(5000);
//   StatusOr<ProcessResult> r = RunProcess({"/usr/sbin/nvpmodel", "-q"}, opt);
//   if (r.ok() && r->exit_code == 0) Parse(r->stdout_text);
//
// Errors: InvalidArgument (empty argv, an argument with a NUL byte, a relative program path),
// NotFound / PermissionDenied (the program is missing or not executable), DeadlineExceeded (the
// timeout passed; the process group was killed), Internal (spawn or pipe failures). A non-zero
// exit status is NOT an error of RunProcess: it is reported in ProcessResult for the caller.
//
// Thread-safety: RunProcess may be called from several threads at once.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace ecomap::platform {

struct ProcessOptions {
  // Wall-clock limit for the whole run; the process group gets SIGKILL when it passes.
  std::chrono::milliseconds timeout{10000};
  // Extra environment entries ("NAME=value") added to the fixed minimal environment.
  std::vector<std::string> extra_env;
  // Output beyond this many bytes per stream is dropped (and `truncated` set).
  size_t max_output_bytes = 1 << 20;
};

struct ProcessResult {
  int exit_code = -1;   // exit status when the program exited normally, else -1
  int term_signal = 0;  // the signal that ended it, 0 when it exited
  std::string stdout_text;
  std::string stderr_text;
  bool truncated = false;
  std::chrono::milliseconds elapsed{0};
};

// Runs argv[0] (an absolute path) with argv[1..] as its arguments. See the header comment.
StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Resolves a program name to an absolute path: an absolute `name` is returned as is; a bare name
// is looked up in `root`/usr/sbin, `root`/usr/bin, `root`/sbin, `root`/bin (so a fixture tree can
// carry its own tools), then in the directories of this process's PATH. NotFound names the
// places searched; InvalidArgument for a relative path with a '/' or an empty name.
StatusOr<std::string> FindProgram(const std::string& name, const std::string& root = "/");

// "prog arg1 'arg 2'" for messages (quoted for reading only; never executed).
std::string DescribeCommand(const std::vector<std::string>& argv);

}  // namespace ecomap::platform
