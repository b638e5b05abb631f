// A third-party client against GrpcServer: Python stubs generated from proto/grpc_predict_v2.proto
// at test time (grpc_tools, Debian's python3-grpc-tools) call ServerLive, ModelMetadata and
// ModelInfer (service/grpc_interop_client.py). Skipped, saying why, when no python3 with the
// grpc and grpc_tools modules is found; set ECOMAP_PYTHON3 to choose the interpreter.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "service/grpc_server.h"
#include "service/grpc_test_backend.h"

namespace ecomap::service {
namespace {

// Runs `cmd` through the shell; returns its exit status and fills `out` with stdout+stderr.
int RunShell(const std::string& cmd, std::string* out) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  const int rc = pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// The first interpreter that imports grpc and grpc_tools: $ECOMAP_PYTHON3, python3 on PATH,
// then Debian's system interpreter (where python3-grpcio installs, when PATH leads elsewhere).
std::string FindPython(std::string* tried) {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("ECOMAP_PYTHON3"); env != nullptr && *env) candidates.push_back(env);
  candidates.push_back("python3");
  candidates.push_back("/usr/bin/python3");
  for (const std::string& py : candidates) {
    std::string out;
    if (RunShell("timeout 30 " + py + " -c 'import grpc, grpc_tools.protoc'", &out) == 0) return py;
    *tried +=
        "  " + py + ": " + (out.empty() ? "not found\n" : out.substr(out.rfind('\n', out.size() - 2) + 1));
  }
  return "";
}

TEST(GrpcPythonInterop, GeneratedPythonStubsTalkToOurServer) {
  std::string tried;
  const std::string python = FindPython(&tried);
  if (python.empty()) {
    GTEST_SKIP() << "no python3 with the grpc and grpc_tools modules (Debian: python3-grpcio, "
                    "python3-grpc-tools; scripts/install-deps.sh installs them). Tried:\n"
                 << tried;
  }
  testing::TestBackend backend;
  GrpcServer server(&backend);
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());

  namespace fs = std::filesystem;
  const fs::path work = fs::temp_directory_path() / ("ecomap_grpc_interop_" + std::to_string(::getpid()));
  fs::create_directories(work);
  const std::string src = ECOMAP_SOURCE_DIR;
  const std::string cmd = "timeout 120 " + python + " '" + src +
                          "/src/service/grpc_interop_client.py' --proto-dir '" + src + "/proto' --target " +
                          server.address() + " --work-dir '" + work.string() + "'";
  std::string out;
  const int rc = RunShell(cmd, &out);
  fs::remove_all(work);
  std::printf("%s\n", out.c_str());
  EXPECT_EQ(rc, 0) << cmd;
  EXPECT_NE(out.find("all checks passed"), std::string::npos) << "see the client's output above";
}

}  // namespace
}  // namespace ecomap::service
