#include "service/http_server.h"

#include <httplib.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "service/daemon.h"
#include "service/kserve_rest.h"

namespace ecomap::service {
namespace {

constexpr const char* kJson = "application/json";
constexpr int kApiNice = 10;

void Reply(httplib::Response& res, const Status& s) {
  res.status = HttpStatusFor(s);
  res.set_content(ErrorJson(s), kJson);
}

// The v2 (KServe) endpoints answer errors as {"error": "..."}, 503 with Retry-After.
void ReplyV2(httplib::Response& res, const Status& s, double retry_after_s = 0) {
  res.status = kserve::RestStatusFor(s);
  res.set_content(kserve::ErrorBody(s), kJson);
  if (res.status == 503) res.set_header("Retry-After", kserve::RetryAfterHeader(retry_after_s));
}

bool IsV2(const std::string& path) { return path == "/v2" || path.rfind("/v2/", 0) == 0; }

template <typename F>
void GuardV2(httplib::Response& res, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    ReplyV2(res, Internal(std::string("internal error: ") + e.what()));
  } catch (...) {
    ReplyV2(res, Internal("internal error"));
  }
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
      backend_(daemon),
      api_(daemon->api_config()),
      all_(api_.rate_limit_rps, std::max(1.0, api_.rate_limit_rps)),
      mutating_(api_.mutating_rate_limit_rps, std::max(1.0, 2 * api_.mutating_rate_limit_rps)) {}

HttpServer::HttpServer(InferenceBackend* backend, const ApiConfig& api)
    : daemon_(nullptr),
      backend_(backend),
      api_(api),
      all_(api_.rate_limit_rps, std::max(1.0, api_.rate_limit_rps)),
      mutating_(api_.mutating_rate_limit_rps, std::max(1.0, 2 * api_.mutating_rate_limit_rps)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::SetLimits(double all_rps, double mutating_rps) {
  all_.Reset(all_rps, std::max(1.0, all_rps));
  mutating_.Reset(mutating_rps, std::max(1.0, 2 * mutating_rps));
}

Status HttpServer::Start(const std::string& host, int port) {
  server_ = std::make_unique<httplib::Server>();
  httplib::Server& s = *server_;
  // A keep-alive connection holds a worker while it lasts, and inference requests wait for the
  // engine on it: many more workers than cores (idle ones only sleep).
  s.new_task_queue = [] { return new httplib::ThreadPool(64); };
  // The v2 infer endpoint takes large tensors; every other endpoint keeps max_body_bytes
  // (checked against Content-Length before the body is read, in the pre-routing handler).
  const size_t small_body = api_.max_body_bytes;
  s.set_payload_max_length(std::max(small_body, api_.max_infer_body_bytes));
  s.set_keep_alive_max_count(100000);
  s.set_tcp_nodelay(true);  // no Nagle delay on small replies (40 ms with delayed ACKs)
  s.set_read_timeout(5, 0);
  s.set_write_timeout(5, 0);

  s.set_pre_routing_handler([this, small_body](const httplib::Request& req, httplib::Response& res) {
    // Operator-API workers run at nice +10: under contention the inference workers (nice 0) get
    // the CPU first, so request bursts cannot slow the tenants much (the load check measures
    // it). A worker is niced when it first serves a non-v2 request: v2 inference requests are
    // the tenants' own work, and a niced worker would add its scheduling delay to their latency.
    thread_local bool niced = false;
    const bool v2 = IsV2(req.path);
    if (!niced && !v2) {
      niced = true;
      (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kApiNice);
    }
    if (!all_.Allow()) {
      Reply(res, ResourceExhausted("rate limit exceeded; retry later"));
      res.set_header("Retry-After", "1");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!v2 && std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) > small_body) {
      res.status = 413;
      res.set_content(ErrorJson(413, "request body too large (max_body_bytes " + std::to_string(small_body) + ")"), kJson);
      return httplib::Server::HandlerResponse::Handled;
    }
    // The v2 inference endpoints take no token: only the operator API's mutating calls do.
    if (!v2 && (req.method == "POST" || req.method == "DELETE" || req.method == "PUT" || req.method == "PATCH")) {
      Status auth = CheckBearer(req.get_header_value("Authorization"), daemon_ ? daemon_->token() : std::string());
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
                                      "; see GET /status, /metrics, /decisions, /tenants, /v2";
    else msg = "HTTP " + std::to_string(res.status);
    res.set_content(ErrorJson(res.status, msg), kJson);
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(ErrorJson(500, "internal error"), kJson);
  });

  if (daemon_) {  // the operator API
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
  }

  // --- KServe v2 (Open Inference Protocol) REST: service/kserve_rest.h ---
  s.Get("/v2", [this](const httplib::Request&, httplib::Response& res) {
    GuardV2(res, [&] { res.set_content(kserve::ServerMetadataJson(backend_->Metadata()), kJson); });
  });
  s.Get("/v2/health/live", [this](const httplib::Request&, httplib::Response& res) {
    GuardV2(res, [&] {
      if (backend_->Live()) res.set_content("{\"live\":true}", kJson);
      else ReplyV2(res, Unavailable("the daemon is not live"), 1);
    });
  });
  s.Get("/v2/health/ready", [this](const httplib::Request&, httplib::Response& res) {
    GuardV2(res, [&] {
      if (backend_->Ready()) res.set_content("{\"ready\":true}", kJson);
      else ReplyV2(res, Unavailable("not every model is serving yet"), 1);
    });
  });
  s.Get(R"(/v2/models/([^/]+)(?:/versions/([^/]+))?)", [this](const httplib::Request& req, httplib::Response& res) {
    GuardV2(res, [&] {
      StatusOr<ModelMetadata> m = backend_->ModelMetadataOf(req.matches[1]);
      if (!m.ok()) return ReplyV2(res, m.status(), 1);
      res.set_content(kserve::ModelMetadataJson(*m), kJson);
    });
  });
  s.Get(R"(/v2/models/([^/]+)(?:/versions/([^/]+))?/ready)", [this](const httplib::Request& req,
                                                                   httplib::Response& res) {
    GuardV2(res, [&] {
      StatusOr<bool> r = backend_->ModelReady(req.matches[1]);
      if (!r.ok()) return ReplyV2(res, r.status());
      if (*r) res.set_content("{\"name\":\"" + std::string(req.matches[1]) + "\",\"ready\":true}", kJson);
      else ReplyV2(res, Unavailable("model '" + std::string(req.matches[1]) + "' is not serving yet"), 1);
    });
  });
  // The body is read straight into its two parts, the JSON and the binary tensor data after it
  // (Inference-Header-Content-Length says where it splits, Content-Length how much there is):
  // each part allocated once at its size, and a single input's bytes become its tensor without
  // another copy.
  s.Post(R"(/v2/models/([^/]+)(?:/versions/([^/]+))?/infer)", [this](const httplib::Request& req,
                                                                    httplib::Response& res,
                                                                    const httplib::ContentReader& reader) {
    GuardV2(res, [&] {
      // httplib refuses a body over the payload limit (413) or a broken one.
      auto ReplyUnread = [this](httplib::Response& r) {
        if (r.status == 413) {
          r.set_content(kserve::ErrorBody(InvalidArgument("request body too large (max_infer_body_bytes " +
                                                          std::to_string(api_.max_infer_body_bytes) + ")")),
                        kJson);
        } else {
          ReplyV2(r, InvalidArgument("the request body could not be read (truncated or malformed)"));
        }
      };
      std::string text, binary;
      StatusOr<std::optional<size_t>> len = std::optional<size_t>();
      if (req.has_header("Content-Length")) {
        const size_t total = std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
        len = kserve::ParseHeaderLength(req.get_header_value(kserve::kHeaderLength), total);
        const size_t split = len.ok() && *len ? **len : total;
        text.reserve(std::min(split, total));
        if (len.ok() && *len) binary.reserve(total - split);
        const bool read = reader([&](const char* data, size_t n) {
          if (text.size() < split) {
            const size_t k = std::min(n, split - text.size());
            text.append(data, k);
            data += k;
            n -= k;
          }
          if (n > 0) binary.append(data, n);
          return true;
        });
        if (!read) return ReplyUnread(res);
        if (!len.ok()) return ReplyV2(res, len.status());
      } else {  // chunked: the whole body, then split as usual
        const bool read = reader([&](const char* data, size_t n) {
          text.append(data, n);
          return true;
        });
        if (!read) return ReplyUnread(res);
        len = kserve::ParseHeaderLength(req.get_header_value(kserve::kHeaderLength), text.size());
        if (!len.ok()) return ReplyV2(res, len.status());
        if (*len) {
          binary = text.substr(**len);
          text.resize(**len);
        }
      }
      StatusOr<kserve::ParsedInfer> parsed =
          kserve::ParseInferRequest(req.matches[1], req.matches[2], text, std::move(binary));
      if (!parsed.ok()) return ReplyV2(res, parsed.status());
      double retry = 0;
      StatusOr<InferResponse> r = backend_->Infer(std::move(parsed->request), &retry);
      if (!r.ok()) return ReplyV2(res, r.status(), retry);
      kserve::HttpBody b = kserve::EncodeInferResponse(*r, *parsed);
      if (b.json_length) res.set_header(kserve::kHeaderLength, std::to_string(*b.json_length));
      res.set_content(std::move(b.body), b.content_type);
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
