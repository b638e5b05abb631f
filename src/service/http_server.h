// service/http_server.h: the daemon's HTTP API on cpp-httplib (endpoints: service/api.h).
//
// Listens on the configured address (127.0.0.1 by default) with a small worker pool, enforces
// the body size limit (413), the request rate limits (429) and bearer authorisation of POST and
// DELETE, and answers every error with a JSON body. Its worker threads run at nice +10, below
// the engine's inference workers. A handler never throws out: exceptions are
// turned into 500 JSON replies.
//
// Thread-safety: Start/Stop from one thread; the handlers run on the server's workers.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "core/status.h"
#include "service/api.h"

namespace httplib {
class Server;
}

namespace ecomap::service {

class Daemon;

class HttpServer {
 public:
  explicit HttpServer(Daemon* daemon);  // not owned
  ~HttpServer();

  // Binds host:port (port 0: any free port) and serves on a thread. Unavailable naming the
  // address when it cannot bind.
  Status Start(const std::string& host, int port);
  void Stop();
  int port() const { return port_; }
  // Rate limits (requests/s) for all requests and for mutating ones.
  void SetLimits(double all_rps, double mutating_rps);

 private:
  Daemon* daemon_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  RateLimiter all_, mutating_;
};

}  // namespace ecomap::service
