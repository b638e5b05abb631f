// platform/host/sysfs_testing.h: helpers for the driver tests (header-only, test code only).
//
// Fixture trees live in src/platform/testdata/<name>/ and stand in for `/`. Tests that write
// (mode switches, caps, a fake nvpmodel keeping its state) work on a private copy:
//
//   TempTree t("xavier");                 // copy of testdata/xavier in a fresh temp directory
//   RootedSysfs fs(t.root());
//   t.Write("/sys/class/powercap/intel-rapl:0/energy_uj", "12345\n");
//
// Thread-safety: test code; one thread.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace ecomap::platform::testing {

#ifdef ECOMAP_SOURCE_DIR
inline std::string FixtureDir(const std::string& name) {
  return std::string(ECOMAP_SOURCE_DIR) + "/src/platform/testdata/" + name;
}
#endif

class TempTree {
 public:
  // An empty tree, or a copy of the fixture `name` (when not empty).
  explicit TempTree(const std::string& fixture = "") {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ecomap-platform-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
#ifdef ECOMAP_SOURCE_DIR
    if (!fixture.empty()) {
      std::filesystem::copy(
          FixtureDir(fixture), root_,
          std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
    }
#endif
  }
  ~TempTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& root() const { return root_; }
  std::string Host(const std::string& device_path) const { return root_ + device_path; }

  // Creates or replaces a file (and its directories) at a device path.
  void Write(const std::string& device_path, const std::string& content) const {
    std::filesystem::path p = Host(device_path);
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::trunc) << content;
  }
  std::string ReadHost(const std::string& device_path) const {
    std::ifstream in(Host(device_path));
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  void Remove(const std::string& device_path) const { std::filesystem::remove_all(Host(device_path)); }
  void MakeDir(const std::string& device_path) const {
    std::filesystem::create_directories(Host(device_path));
  }
  void Symlink(const std::string& target, const std::string& device_path) const {
    std::filesystem::create_directories(std::filesystem::path(Host(device_path)).parent_path());
    std::filesystem::create_symlink(target, Host(device_path));
  }

 private:
  std::string root_;
};

}  // namespace ecomap::platform::testing
