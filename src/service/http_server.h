// service/http_server.h: the daemon's HTTP API on cpp-httplib (endpoints: service/api.h).
//
// Listens on the configured address (127.0.0.1 by default) with a small worker pool, enforces
// the body size limit (413), the request rate limits (429) and bearer authorisation of POST and
// DELETE, and answers every error with a JSON body. Its worker threads run at nice +10, below
// the engine's inference workers. A handler never throws out: exceptions are
// turned into 500 JSON replies.
//
// Two uses: the daemon's listener (HttpServer(Daemon*): the operator API and the v2 endpoints,
// the daemon as the InferenceBackend), or the v2 (Open Inference Protocol) endpoints alone over
// any InferenceBackend (HttpServer(backend, api): e.g. an engine's tenants, service/
// engine_backend.h, which `ecomap serve --bench-protocol` measures); both run the same handlers,
// limits and server settings.
//
// Thread-safety: Start/Stop from one thread; the handlers run on the server's workers.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "core/status.h"
#include "service/api.h"
#include "service/config.h"
#include "service/inference.h"

namespace httplib {
class Server;
}

namespace ecomap::service {

class Daemon;

class HttpServer {
 public:
  explicit HttpServer(Daemon* daemon);  // not owned
  // Only the v2 endpoints, answered by `backend` (not owned), with `api`'s limits (its
  // token is unused: the v2 endpoints take none).
  HttpServer(InferenceBackend* backend, const ApiConfig& api);
  ~HttpServer();

  // Binds host:port (port 0: any free port) and serves on a thread. Unavailable naming the
  // address when it cannot bind.
  Status Start(const std::string& host, int port);
  void Stop();
  int port() const { return port_; }
  // Rate limits (requests/s) for all requests and for mutating ones.
  void SetLimits(double all_rps, double mutating_rps);

 private:
  Daemon* daemon_;             // null: v2 endpoints only
  InferenceBackend* backend_;
  ApiConfig api_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  RateLimiter all_, mutating_;
};

}  // namespace ecomap::service
