#include "service/http_server.h"

#include <httplib.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>

#include "service/daemon.h"

namespace ecomap::service {
namespace {

constexpr const char* kJson = "application/json";
constexpr int kApiNice = 10;

void Reply(httplib::Response& res, const Status& s) {
  res.status = HttpStatusFor(s);
  res.set_content(ErrorJson(s), kJson);
}

template <typename F>
void Guard(httplib::Response& res, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    Reply(res, Internal(std::string("internal error: ") + e.what()));
  } catch (...) {
    Reply(res, Internal("internal error"));
  }
}

}  // namespace

HttpServer::HttpServer(Daemon* daemon)
    : daemon_(daemon),
      all_(daemon->api_config().rate_limit_rps, std::max(1.0, daemon->api_config().rate_limit_rps)),
      mutating_(daemon->api_config().mutating_rate_limit_rps,
                std::max(1.0, 2 * daemon->api_config().mutating_rate_limit_rps)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::SetLimits(double all_rps, double mutating_rps) {
  all_.Reset(all_rps, std::max(1.0, all_rps));
  mutating_.Reset(mutating_rps, std::max(1.0, 2 * mutating_rps));
}

Status HttpServer::Start(const std::string& host, int port) {
  server_ = std::make_unique<httplib::Server>();
  httplib::Server& s = *server_;
  s.new_task_queue = [] { return new httplib::ThreadPool(4); };
  s.set_payload_max_length(daemon_->api_config().max_body_bytes);
  s.set_keep_alive_max_count(100000);
  s.set_tcp_nodelay(true);  // no Nagle delay on small replies (40 ms with delayed ACKs)
  s.set_read_timeout(5, 0);
  s.set_write_timeout(5, 0);

  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // API workers run at nice +10: under contention the inference workers (nice 0) get the
    // CPU first, so request bursts cannot slow the tenants much (the load check measures it).
    thread_local bool niced = false;
    if (!niced) {
      niced = true;
      (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kApiNice);
    }
    if (!all_.Allow()) {
      Reply(res, ResourceExhausted("rate limit exceeded; retry later"));
      res.set_header("Retry-After", "1");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method == "POST" || req.method == "DELETE" || req.method == "PUT" || req.method == "PATCH") {
      Status auth = CheckBearer(req.get_header_value("Authorization"), daemon_->token());
      if (!auth.ok()) {
        Reply(res, auth);
        if (auth.code() == StatusCode::kUnauthenticated) res.set_header("WWW-Authenticate", "Bearer");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!mutating_.Allow()) {
        Reply(res, ResourceExhausted("rate limit of mutating calls exceeded; retry later"));
        res.set_header("Retry-After", "1");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors httplib produces itself (413 body too large, 404 no route, 400 bad request line).
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string msg;
    if (res.status == 413) msg = "request body too large";
    else if (res.status == 404) msg = "no such endpoint: " + req.method + " " + req.path +
                                      "; see GET /status, /metrics, /decisions, /tenants";
    else msg = "HTTP " + std::to_string(res.status);
    res.set_content(ErrorJson(res.status, msg), kJson);
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(ErrorJson(500, "internal error"), kJson);
  });

  s.Get("/status", [this](const httplib::Request&, httplib::Response& res) {
    Guard(res, [&] { res.set_content(daemon_->StatusBody(), kJson); });
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    Guard(res, [&] { res.set_content(daemon_->MetricsBody(), "text/plain; version=0.0.4; charset=utf-8"); });
  });
  s.Get("/decisions", [this](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] {
      StatusOr<int64_t> since = ParseSinceParam(req.get_param_value("since"));
      if (!since.ok()) return Reply(res, since.status());
      StatusOr<int> limit = ParseLimitParam(req.get_param_value("limit"));
      if (!limit.ok()) return Reply(res, limit.status());
      StatusOr<nlohmann::json> d = daemon_->Decisions(*since, *limit);
      if (!d.ok()) return Reply(res, d.status());
      res.set_content(d->dump(), kJson);
    });
  });
  s.Get("/tenants", [this](const httplib::Request&, httplib::Response& res) {
    Guard(res, [&] { res.set_content(daemon_->Tenants().dump(), kJson); });
  });
  s.Post("/tenants", [this](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] {
      StatusOr<policy::TenantSpec> t = ParseTenantRequest(req.body);
      if (!t.ok()) return Reply(res, t.status());
      StatusOr<nlohmann::json> r = daemon_->AddTenant(*t);
      if (!r.ok()) return Reply(res, r.status());
      res.status = 201;
      res.set_content(r->dump(), kJson);
    });
  });
  s.Delete(R"(/tenants/.*)", [this](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] {
      StatusOr<std::string> name = ParseTenantPath(req.path);
      if (!name.ok()) return Reply(res, name.status());
      StatusOr<nlohmann::json> r = daemon_->RemoveTenant(*name);
      if (!r.ok()) return Reply(res, r.status());
      res.set_content(r->dump(), kJson);
    });
  });
  s.Post("/replan", [this](const httplib::Request&, httplib::Response& res) {
    Guard(res, [&] {
      StatusOr<nlohmann::json> r = daemon_->Replan();
      if (!r.ok()) return Reply(res, r.status());
      res.set_content(r->dump(), kJson);
    });
  });

  if (port == 0) {
    port_ = s.bind_to_any_port(host);
  } else {
    port_ = s.bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) {
    server_.reset();
    return Unavailable("cannot listen on " + host + ":" + std::to_string(port) +
                       " (in use or not a local address); change [serve.api] listen");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  for (int i = 0; i < 400 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace ecomap::service
