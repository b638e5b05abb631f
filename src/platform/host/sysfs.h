// platform/host/sysfs.h: a small file-access layer over sysfs/procfs with a configurable root.
// Part of ecomap_platform, for the drivers (host/, jetson/), their tests and the driver commands of the
// program (app/platform_drivers_commands.cc); no other part includes it.
//
// Every real driver (Jetson nvpmodel/INA3221, RAPL powercap, cpufreq, cgroup v2) reads and
// writes device files through a Sysfs, never through the file system directly, so that a
// fixture tree (src/platform/testdata/<board>/) can stand in for `/`, and tests can inject
// faults (a root-only counter, a failing write) with FaultySysfs even when they run as root.
//
// Paths are always given as they are on the device ("/sys/class/powercap/intel-rapl:0/name");
// RootedSysfs prefixes them with its root directory.
//
//   RootedSysfs fs("/");                                        // the real machine
//   RootedSysfs fixture(ECOMAP_SOURCE_DIR "/src/platform/testdata/xavier");
//   StatusOr<int64_t> uj = ReadInt64(fs, "/sys/class/powercap/intel-rapl:0/energy_uj");
//
// Errors: NotFound (missing file or dangling symlink), PermissionDenied (EACCES/EPERM),
// FailedPrecondition (a directory where a file is expected, or the reverse), InvalidArgument
// (a file whose content does not parse, named with its path), Unavailable (other I/O errors).
//
// Thread-safety: RootedSysfs is stateless apart from its root and may be shared between threads.
// FaultySysfs guards its fault table with a mutex.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ecomap::platform {

class Sysfs {
 public:
  virtual ~Sysfs() = default;

  // The whole content of the file at `path` (device path, absolute). Fails with NotFound,
  // PermissionDenied, FailedPrecondition (a directory) or Unavailable; the message names the
  // device path. Reads at most 1 MiB (sysfs attributes are at most a page).
  virtual StatusOr<std::string> Read(std::string_view path) const = 0;

  // Replaces the content of an existing file (sysfs attributes are never created). Fails with
  // NotFound, PermissionDenied, InvalidArgument (the kernel rejected the value: EINVAL/ERANGE)
  // or Unavailable. On failure the file is unchanged as far as the kernel's attribute goes.
  virtual Status Write(std::string_view path, std::string_view content) = 0;

  // The names in a directory, sorted, without "." and "..". NotFound when absent,
  // FailedPrecondition when `path` is not a directory.
  virtual StatusOr<std::vector<std::string>> List(std::string_view path) const = 0;

  // True when `path` exists (following symlinks).
  virtual bool Exists(std::string_view path) const = 0;
  // True when `path` is a directory (following symlinks).
  virtual bool IsDirectory(std::string_view path) const = 0;

  // Where device paths are mapped on this machine, for messages ("/" on a real device).
  virtual std::string Describe() const = 0;
};

// The real file system below `root` ("/" for the machine itself).
class RootedSysfs final : public Sysfs {
 public:
  explicit RootedSysfs(std::string root);

  StatusOr<std::string> Read(std::string_view path) const override;
  Status Write(std::string_view path, std::string_view content) override;
  StatusOr<std::vector<std::string>> List(std::string_view path) const override;
  bool Exists(std::string_view path) const override;
  bool IsDirectory(std::string_view path) const override;
  std::string Describe() const override { return root_.empty() ? "/" : root_; }

  const std::string& root() const { return root_; }
  // The host path of a device path: root + path.
  std::string HostPath(std::string_view path) const;

 private:
  std::string root_;  // without a trailing '/', "" for "/"
};

// Wraps another Sysfs and injects faults on chosen device paths, so that tests can reproduce
// root-only counters and failing writes whatever user runs them. Not owned: `base` must outlive it.
class FaultySysfs final : public Sysfs {
 public:
  explicit FaultySysfs(Sysfs* base) : base_(base) {}

  // Reads of `path` fail with `status` (e.g. PermissionDenied(...)).
  void FailReads(std::string path, Status status);
  // Writes to `path` fail with `status`.
  void FailWrites(std::string path, Status status);
  void Clear();
  // Every successful write, in order: (path, content).
  std::vector<std::pair<std::string, std::string>> writes() const;

  StatusOr<std::string> Read(std::string_view path) const override;
  Status Write(std::string_view path, std::string_view content) override;
  StatusOr<std::vector<std::string>> List(std::string_view path) const override;
  bool Exists(std::string_view path) const override;
  bool IsDirectory(std::string_view path) const override;
  std::string Describe() const override { return base_->Describe(); }

 private:
  Sysfs* base_;
  mutable std::mutex mu_;
  std::map<std::string, Status> read_faults_;
  std::map<std::string, Status> write_faults_;
  std::vector<std::pair<std::string, std::string>> writes_;
};

// ---- Helpers shared by the drivers -------------------------------------------------------

// Content with leading/trailing whitespace removed.
StatusOr<std::string> ReadTrimmed(const Sysfs& fs, std::string_view path);
// A decimal integer file ("1200000\n"). InvalidArgument names the path and the bad text.
StatusOr<int64_t> ReadInt64(const Sysfs& fs, std::string_view path);
// A decimal unsigned counter (RAPL energy_uj).
StatusOr<uint64_t> ReadUint64(const Sysfs& fs, std::string_view path);

// Strict parses of a whole (trimmed) token; nullopt-like errors as InvalidArgument naming `what`.
StatusOr<int64_t> ParseInt64(std::string_view text, std::string_view what);
StatusOr<uint64_t> ParseUint64(std::string_view text, std::string_view what);
StatusOr<double> ParseDouble(std::string_view text, std::string_view what);

// A kernel CPU list ("0-3,5,7-8", "" = none) as sorted ids. InvalidArgument on anything else.
StatusOr<std::vector<int>> ParseCpuList(std::string_view text);
// The inverse: {0,1,2,3,5} -> "0-3,5".
std::string FormatCpuList(const std::vector<int>& cpus);

std::string_view Trim(std::string_view s);
// Splits on runs of whitespace.
std::vector<std::string_view> SplitWhitespace(std::string_view s);
// Joins a device directory and a name with exactly one '/'.
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace ecomap::platform
