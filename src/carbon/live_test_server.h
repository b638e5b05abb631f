// carbon/live_test_server.h: a scripted HTTP server on 127.0.0.1 for the live-client tests.
//
// Serves recorded responses (files under src/carbon/testdata/live) at a random free port. Each
// path has a script of replies served in order; the last one repeats. A reply may wait before
// answering (to exercise client timeouts). Header-only and test-only: it includes cpp-httplib.
//
//   RecordedServer server;
//   server.Script("/v3/carbon-intensity/latest", {{200, TestData("em_latest.json")}});
//   opts.base_url = server.base_url();
//
// Thread-safety: Script/hits/requests may be called while the server thread serves.
#pragma once

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ecomap::carbon::testing {

inline std::string TestData(const std::string& name) {
  std::ifstream in(std::string(ECOMAP_SOURCE_DIR) + "/src/carbon/testdata/live/" + name);
  if (!in) throw std::runtime_error("missing test data file " + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Reply {
  Reply() = default;
  Reply(int status_code, std::string body_text,
        std::vector<std::pair<std::string, std::string>> extra_headers = {},
        std::chrono::milliseconds wait = std::chrono::milliseconds(0))
      : status(status_code), body(std::move(body_text)), headers(std::move(extra_headers)), delay(wait) {}
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // wait before answering
};

struct SeenRequest {
  std::string path;
  std::multimap<std::string, std::string> params;
  std::map<std::string, std::string> headers;
};

class RecordedServer {
 public:
  RecordedServer() { Start(0); }
  ~RecordedServer() { Stop(); }
  RecordedServer(const RecordedServer&) = delete;
  RecordedServer& operator=(const RecordedServer&) = delete;

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

  void Script(const std::string& path, std::vector<Reply> replies) {
    std::lock_guard<std::mutex> l(mu_);
    scripts_[path] = std::move(replies);
    next_[path] = 0;
  }
  int hits(const std::string& path) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = hits_.find(path);
    return it == hits_.end() ? 0 : it->second;
  }
  std::vector<SeenRequest> requests() const {
    std::lock_guard<std::mutex> l(mu_);
    return seen_;
  }

  // Stops serving (connections are then refused) and joins the server thread.
  void Stop() {
    if (!server_) return;
    server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }
  // Serves again on the same port, with the same scripts.
  void Restart() {
    Stop();
    Start(port_);
  }

 private:
  void Start(int port) {
    server_ = std::make_unique<httplib::Server>();
    server_->Get(".*", [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    if (port == 0) {
      port_ = server_->bind_to_any_port("127.0.0.1");
    } else {
      bool bound = false;
      for (int i = 0; i < 50 && !bound; ++i) {  // bounded: the old socket may linger briefly
        bound = server_->bind_to_port("127.0.0.1", port);
        if (!bound) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!bound) throw std::runtime_error("cannot rebind 127.0.0.1:" + std::to_string(port));
    }
    if (port_ <= 0) throw std::runtime_error("cannot bind a port on 127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    for (int i = 0; i < 200 && !server_->is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    Reply reply;
    {
      std::lock_guard<std::mutex> l(mu_);
      SeenRequest s;
      s.path = req.path;
      for (const auto& [k, v] : req.params) s.params.emplace(k, v);
      for (const auto& [k, v] : req.headers) s.headers[k] = v;
      seen_.push_back(std::move(s));
      ++hits_[req.path];
      auto it = scripts_.find(req.path);
      if (it == scripts_.end() || it->second.empty()) {
        reply = Reply(404, R"({"error":"no such path in the test script"})");
      } else {
        size_t& n = next_[req.path];
        reply = it->second[std::min(n, it->second.size() - 1)];
        ++n;
      }
    }
    if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
    res.status = reply.status;
    for (const auto& [k, v] : reply.headers) res.set_header(k, v);
    res.set_content(reply.body, "application/json");
  }

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<Reply>> scripts_;
  std::map<std::string, size_t> next_;
  std::map<std::string, int> hits_;
  std::vector<SeenRequest> seen_;
};

}  // namespace ecomap::carbon::testing
