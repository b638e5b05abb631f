#include "platform/host/sysfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace ecomap::platform {
namespace {

constexpr size_t kMaxReadBytes = 1 << 20;

Status ErrnoStatus(int err, std::string_view op, std::string_view path) {
  std::string what = std::string(op) + " " + std::string(path) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFound(what);
    case EACCES:
    case EPERM:
      return PermissionDenied(what +
                              " (the file is not accessible to this user; root-only sysfs files need root)");
    case EISDIR:
      return FailedPrecondition(what + " (a directory where a file was expected)");
    case EINVAL:
    case ERANGE:
      return InvalidArgument(what + " (the kernel rejected the value)");
    case ENODATA:
    case EOPNOTSUPP:
      return Unimplemented(what + " (not supported by this driver)");
    default:
      return Unavailable(what);
  }
}

}  // namespace

RootedSysfs::RootedSysfs(std::string root) : root_(std::move(root)) {
  while (!root_.empty() && root_.back() == '/') root_.pop_back();
}

std::string RootedSysfs::HostPath(std::string_view path) const {
  std::string p(path);
  if (p.empty() || p.front() != '/') p.insert(p.begin(), '/');
  return root_ + p;
}

StatusOr<std::string> RootedSysfs::Read(std::string_view path) const {
  const std::string host = HostPath(path);
  int fd = ::open(host.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return ErrnoStatus(EISDIR, "cannot read", path);
  }
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "cannot read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxReadBytes) {
      ::close(fd);
      return DataLoss("cannot read " + std::string(path) + ": larger than 1 MiB, not a sysfs attribute");
    }
  }
  ::close(fd);
  return out;
}

Status RootedSysfs::Write(std::string_view path, std::string_view content) {
  const std::string host = HostPath(path);
  struct stat st {};
  if (::stat(host.c_str(), &st) != 0) return ErrnoStatus(errno, "cannot write", path);
  if (S_ISDIR(st.st_mode)) return ErrnoStatus(EISDIR, "cannot write", path);
  // No O_TRUNC on real sysfs semantics is harmless; fixture files need it to be replaced.
  int fd = ::open(host.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open for writing", path);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "cannot write '" + std::string(Trim(content)) + "' to", path);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0)
    return ErrnoStatus(errno, "cannot write '" + std::string(Trim(content)) + "' to", path);
  return Status::Ok();
}

StatusOr<std::vector<std::string>> RootedSysfs::List(std::string_view path) const {
  const std::string host = HostPath(path);
  struct stat st {};
  if (::stat(host.c_str(), &st) != 0) return ErrnoStatus(errno, "cannot list", path);
  if (!S_ISDIR(st.st_mode))
    return FailedPrecondition("cannot list " + std::string(path) + ": not a directory");
  DIR* dir = ::opendir(host.c_str());
  if (dir == nullptr) return ErrnoStatus(errno, "cannot list", path);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    names.emplace_back(n);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

bool RootedSysfs::Exists(std::string_view path) const {
  struct stat st {};
  return ::stat(HostPath(path).c_str(), &st) == 0;
}

bool RootedSysfs::IsDirectory(std::string_view path) const {
  struct stat st {};
  return ::stat(HostPath(path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// ---- FaultySysfs ----

void FaultySysfs::FailReads(std::string path, Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  read_faults_[std::move(path)] = std::move(status);
}
void FaultySysfs::FailWrites(std::string path, Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  write_faults_[std::move(path)] = std::move(status);
}
void FaultySysfs::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  read_faults_.clear();
  write_faults_.clear();
  writes_.clear();
}
std::vector<std::pair<std::string, std::string>> FaultySysfs::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}
StatusOr<std::string> FaultySysfs::Read(std::string_view path) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = read_faults_.find(std::string(path));
    if (it != read_faults_.end()) return it->second;
  }
  return base_->Read(path);
}
Status FaultySysfs::Write(std::string_view path, std::string_view content) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = write_faults_.find(std::string(path));
    if (it != write_faults_.end()) return it->second;
  }
  Status s = base_->Write(path, content);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    writes_.emplace_back(std::string(path), std::string(content));
  }
  return s;
}
StatusOr<std::vector<std::string>> FaultySysfs::List(std::string_view path) const {
  return base_->List(path);
}
bool FaultySysfs::Exists(std::string_view path) const { return base_->Exists(path); }
bool FaultySysfs::IsDirectory(std::string_view path) const { return base_->IsDirectory(path); }

// ---- helpers ----

std::string_view Trim(std::string_view s) {
  const char* ws = " \t\r\n\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::vector<std::string_view> SplitWhitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  while (!out.empty() && out.back() == '/') out.pop_back();
  out += '/';
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  out += name;
  return out;
}

StatusOr<int64_t> ParseInt64(std::string_view text, std::string_view what) {
  std::string_view t = Trim(text);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size()) {
    return InvalidArgument(std::string(what) + ": '" + std::string(t) + "' is not an integer");
  }
  return v;
}

StatusOr<uint64_t> ParseUint64(std::string_view text, std::string_view what) {
  std::string_view t = Trim(text);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || t.front() == '-' || ec != std::errc() || p != t.data() + t.size()) {
    return InvalidArgument(std::string(what) + ": '" + std::string(t) + "' is not a non-negative integer");
  }
  return v;
}

StatusOr<double> ParseDouble(std::string_view text, std::string_view what) {
  std::string_view t = Trim(text);
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size()) {
    return InvalidArgument(std::string(what) + ": '" + std::string(t) + "' is not a number");
  }
  return v;
}

StatusOr<std::string> ReadTrimmed(const Sysfs& fs, std::string_view path) {
  ECOMAP_ASSIGN_OR_RETURN(std::string s, fs.Read(path));
  return std::string(Trim(s));
}

StatusOr<int64_t> ReadInt64(const Sysfs& fs, std::string_view path) {
  ECOMAP_ASSIGN_OR_RETURN(std::string s, fs.Read(path));
  return ParseInt64(s, path);
}

StatusOr<uint64_t> ReadUint64(const Sysfs& fs, std::string_view path) {
  ECOMAP_ASSIGN_OR_RETURN(std::string s, fs.Read(path));
  return ParseUint64(s, path);
}

StatusOr<std::vector<int>> ParseCpuList(std::string_view text) {
  std::string_view t = Trim(text);
  std::vector<int> out;
  if (t.empty()) return out;
  size_t i = 0;
  while (i <= t.size()) {
    size_t comma = t.find(',', i);
    if (comma == std::string_view::npos) comma = t.size();
    std::string_view item = t.substr(i, comma - i);
    size_t dash = item.find('-');
    auto bad = [&] {
      return InvalidArgument("CPU list '" + std::string(t) + "': bad item '" + std::string(item) +
                             "' (expected e.g. 0-3,5)");
    };
    if (item.empty()) return bad();
    if (dash == std::string_view::npos) {
      auto v = ParseInt64(item, "cpu");
      if (!v.ok() || *v < 0 || *v > 65535) return bad();
      out.push_back(static_cast<int>(*v));
    } else {
      auto a = ParseInt64(item.substr(0, dash), "cpu");
      auto b = ParseInt64(item.substr(dash + 1), "cpu");
      if (!a.ok() || !b.ok() || *a < 0 || *b < *a || *b > 65535) return bad();
      for (int64_t c = *a; c <= *b; ++c) out.push_back(static_cast<int>(c));
    }
    i = comma + 1;
    if (comma == t.size()) break;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string FormatCpuList(const std::vector<int>& cpus_in) {
  std::vector<int> cpus = cpus_in;
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace ecomap::platform
