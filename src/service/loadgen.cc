#include "service/loadgen.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "service/kserve_rest.h"

#ifdef ECOMAP_HAVE_GRPC
#include "service/grpc_client.h"
#endif

namespace ecomap::service {

using Steady = std::chrono::steady_clock;

namespace {

Status FromHttp(int status, const std::string& body) {
  std::string msg = body;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_string()) {
    msg = j["error"].get<std::string>();
  }
  msg = "HTTP " + std::to_string(status) + ": " + msg;
  switch (status) {
    case 400: return InvalidArgument(msg);
    case 404: return NotFound(msg);
    case 409: return FailedPrecondition(msg);
    case 429: return ResourceExhausted(msg);
    case 503: return Unavailable(msg);
    case 504: return DeadlineExceeded(msg);
    case 501: return Unimplemented(msg);
    default: return Internal(msg);
  }
}

class RestTransport final : public Transport {
 public:
  RestTransport(std::string host, int port, bool binary, double timeout_s)
      : host_(std::move(host)), port_(port), binary_(binary), timeout_s_(timeout_s) {}

  std::string Name() const override { return binary_ ? "rest-binary" : "rest-json"; }

  StatusOr<ModelMetadata> Metadata(const std::string& model) override {
    auto c = Acquire();
    auto res = c->Get(("/v2/models/" + model).c_str());
    Release(std::move(c));
    if (!res) return Internal("GET /v2/models/" + model + ": " + httplib::to_string(res.error()));
    if (res->status != 200) return FromHttp(res->status, res->body);
    return kserve::ParseModelMetadata(res->body);
  }

  StatusOr<InferResponse> Infer(const InferRequest& request, double* retry_after_s) override {
    const std::string path = "/v2/models/" + request.model + "/infer";
    httplib::Headers h;
    auto c = Acquire();
    httplib::Result res{nullptr, httplib::Error::Unknown};
    if (binary_) {
      // The JSON, then each input's bytes written to the socket straight from its tensor (a
      // content provider): no body buffer, no copy of an image tensor per request.
      std::vector<std::string_view> parts;
      const std::string head = kserve::EncodeInferRequestHeader(request, /*binary_outputs=*/true);
      parts.push_back(head);
      size_t total = head.size();
      for (const engine::HostTensor& t : request.inputs) {
        parts.push_back(t.data);
        total += t.data.size();
      }
      h.emplace(kserve::kHeaderLength, std::to_string(head.size()));
      res = c->Post(
          path, h, total,
          [&parts](size_t offset, size_t, httplib::DataSink& sink) {
            for (std::string_view p : parts) {  // the part holding `offset`, to its end
              if (offset < p.size()) return sink.write(p.data() + offset, p.size() - offset);
              offset -= p.size();
            }
            return false;
          },
          total > head.size() ? "application/octet-stream" : "application/json");
    } else {
      kserve::HttpBody b = kserve::EncodeInferRequest(request, false, false);
      res = c->Post(path, h, b.body, b.content_type);
    }
    Release(std::move(c));
    if (!res) return Internal("POST infer: " + httplib::to_string(res.error()));
    if (res->status != 200) {
      if (res->status == 503 && retry_after_s) {
        *retry_after_s = std::atof(res->get_header_value("Retry-After").c_str());
      }
      return FromHttp(res->status, res->body);
    }
    std::optional<size_t> len;
    std::string hl = res->get_header_value(kserve::kHeaderLength);
    if (!hl.empty()) {
      ECOMAP_ASSIGN_OR_RETURN(len, kserve::ParseHeaderLength(hl, res->body.size()));
    }
    return kserve::ParseInferResponse(res->body, len);
  }

 private:
  std::unique_ptr<httplib::Client> Acquire() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (!pool_.empty()) {
        auto c = std::move(pool_.back());
        pool_.pop_back();
        return c;
      }
    }
    auto c = std::make_unique<httplib::Client>(host_, port_);
    const auto sec = static_cast<time_t>(timeout_s_);
    const auto usec = static_cast<time_t>((timeout_s_ - static_cast<double>(sec)) * 1e6);
    c->set_connection_timeout(sec, usec);
    c->set_read_timeout(sec, usec);
    c->set_write_timeout(sec, usec);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    return c;
  }
  void Release(std::unique_ptr<httplib::Client> c) {
    std::lock_guard<std::mutex> lk(mu_);
    pool_.push_back(std::move(c));
  }

  const std::string host_;
  const int port_;
  const bool binary_;
  const double timeout_s_;
  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::Client>> pool_;
};

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - static_cast<double>(lo));
}

engine::HostTensor MakeInput(const TensorMetadata& in, uint64_t seed) {
  std::mt19937_64 rng(seed);
  engine::HostTensor t;
  t.name = in.name;
  t.datatype = in.datatype;
  t.shape = in.shape;
  int64_t n = 1;
  for (int64_t d : t.shape) n *= std::max<int64_t>(d, 1);
  if (in.datatype == engine::DataType::kInt64) {
    std::uniform_int_distribution<int64_t> d(0, 999);
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (auto& x : v) x = d(rng);
    return engine::HostTensor::FromValues(t.name, t.datatype, t.shape, v);
  }
  std::uniform_real_distribution<float> d(0.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return engine::HostTensor::FromValues(t.name, t.datatype, t.shape, v);
}

struct Collector {
  std::mutex mu;
  ModelStats stats;
  std::vector<double> latencies, server_latencies;
  std::set<std::string> versions;

  void Add(const StatusOr<InferResponse>& r, double latency_ms) {
    std::lock_guard<std::mutex> lk(mu);
    ++stats.sent;
    if (r.ok()) {
      ++stats.ok;
      latencies.push_back(latency_ms);
      server_latencies.push_back(r->latency_ms);
      versions.insert(r->version);
    } else if (r.status().code() == StatusCode::kUnavailable) {
      ++stats.refused;
    } else {
      ++stats.errors;
      ++stats.errors_by_code[StatusCodeName(r.status().code())];
      if (stats.first_error.empty()) stats.first_error = r.status().message();
    }
  }
};

}  // namespace

#ifdef ECOMAP_HAVE_GRPC
namespace {
// The Open Inference Protocol over gRPC (raw tensor contents both ways).
class GrpcTransport final : public Transport {
 public:
  GrpcTransport(const std::string& target, double timeout_s)
      : client_(target, GrpcClientOptions{.deadline_s = timeout_s}) {}
  StatusOr<ModelMetadata> Metadata(const std::string& model) override { return client_.ModelMetadataOf(model); }
  StatusOr<InferResponse> Infer(const InferRequest& request, double* retry_after_s) override {
    return client_.Infer(request, retry_after_s);
  }
  std::string Name() const override { return "grpc"; }

 private:
  GrpcInferenceClient client_;
};
}  // namespace
#endif

StatusOr<std::unique_ptr<Transport>> MakeGrpcTransport(const std::string& target, double timeout_s) {
#ifdef ECOMAP_HAVE_GRPC
  if (target.empty() || target.rfind(':') == std::string::npos) {
    return InvalidArgument("gRPC target '" + target + "' must be HOST:PORT, e.g. 127.0.0.1:8471");
  }
  return std::unique_ptr<Transport>(std::make_unique<GrpcTransport>(target, timeout_s));
#else
  (void)timeout_s;
  return Unimplemented("this build has no gRPC transport (gRPC target '" + target + "')");
#endif
}

std::unique_ptr<Transport> MakeRestTransport(const std::string& host, int port, bool binary, double timeout_s) {
  return std::make_unique<RestTransport>(host, port, binary, timeout_s);
}

StatusOr<ModelLoad> ParseModelLoad(const std::string& text) {
  const std::string forms = "; write NAME:rate=R (open loop, R requests/s) or NAME:closed=N (N outstanding)";
  size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return InvalidArgument("--model '" + text + "' has no NAME:" + forms);
  ModelLoad m;
  m.model = text.substr(0, colon);
  std::string opt = text.substr(colon + 1);
  size_t eq = opt.find('=');
  if (eq == std::string::npos) return InvalidArgument("--model '" + text + "': '" + opt + "' is not KEY=VALUE" + forms);
  std::string key = opt.substr(0, eq), val = opt.substr(eq + 1);
  char* end = nullptr;
  double v = std::strtod(val.c_str(), &end);
  if (val.empty() || *end != '\0' || !std::isfinite(v)) {
    return InvalidArgument("--model '" + text + "': '" + val + "' is not a number" + forms);
  }
  if (key == "rate") {
    if (v <= 0 || v > 100000) return InvalidArgument("--model '" + text + "': rate must be in (0, 100000] requests/s");
    m.rate_rps = v;
  } else if (key == "closed") {
    if (v < 1 || v > 1024 || v != std::floor(v)) {
      return InvalidArgument("--model '" + text + "': closed must be a whole number in [1, 1024]");
    }
    m.closed = true;
    m.concurrency = static_cast<int>(v);
  } else {
    return InvalidArgument("--model '" + text + "': unknown key '" + key + "'" + forms);
  }
  return m;
}

StatusOr<LoadgenReport> RunLoad(Transport& transport, const LoadgenOptions& o) {
  if (o.models.empty()) return InvalidArgument("no model to drive; give --model NAME:rate=R");
  if (!(o.duration_s > 0) || o.duration_s > 86400) {
    return InvalidArgument("duration " + std::to_string(o.duration_s) + " s must be in (0, 86400]");
  }
  std::vector<InferRequest> requests;
  for (size_t i = 0; i < o.models.size(); ++i) {
    const ModelLoad& m = o.models[i];
    StatusOr<ModelMetadata> md = transport.Metadata(m.model);
    if (!md.ok()) return md.status().WithContext("model '" + m.model + "'");
    if (md->inputs.size() != 1) {
      return Unimplemented("model '" + m.model + "' has " + std::to_string(md->inputs.size()) +
                           " inputs; loadgen drives single-input models");
    }
    if (md->inputs[0].datatype != engine::DataType::kFp32 && md->inputs[0].datatype != engine::DataType::kInt64) {
      return Unimplemented("model '" + m.model + "' takes " + engine::DataTypeName(md->inputs[0].datatype) +
                           "; loadgen makes FP32 and INT64 inputs");
    }
    InferRequest r;
    r.model = m.model;
    r.top_k = o.top_k;
    r.best_effort = o.best_effort;
    r.inputs.push_back(MakeInput(md->inputs[0], o.seed + i));
    requests.push_back(std::move(r));
  }
  std::vector<std::unique_ptr<Collector>> collectors;
  for (const ModelLoad& m : o.models) {
    auto c = std::make_unique<Collector>();
    c->stats.model = m.model;
    char buf[64];
    if (m.closed) std::snprintf(buf, sizeof buf, "closed=%d", m.concurrency);
    else std::snprintf(buf, sizeof buf, "rate=%g", m.rate_rps);
    c->stats.mode = buf;
    collectors.push_back(std::move(c));
  }
  const Steady::time_point start = Steady::now();
  const Steady::time_point end = start + std::chrono::duration_cast<Steady::duration>(
                                             std::chrono::duration<double>(o.duration_s));
  std::vector<std::thread> threads;
  // Open-loop schedules: a shared ticket of the next arrival time per model.
  struct Schedule {
    std::mutex mu;
    Steady::time_point next;
    std::mt19937_64 rng;
    std::exponential_distribution<double> gap;
  };
  std::vector<std::unique_ptr<Schedule>> schedules;
  for (size_t i = 0; i < o.models.size(); ++i) {
    const ModelLoad& m = o.models[i];
    Collector* col = collectors[i].get();
    const InferRequest* req = &requests[i];
    if (m.closed) {
      for (int w = 0; w < m.concurrency; ++w) {
        threads.emplace_back([&transport, col, req, end, &o] {
          while (Steady::now() < end && !(o.cancel && o.cancel->load())) {
            const auto t0 = Steady::now();
            double retry = 0;
            StatusOr<InferResponse> r = transport.Infer(*req, &retry);
            col->Add(r, std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
            // A refused closed-loop client backs off briefly instead of spinning.
            if (!r.ok() && Steady::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
        });
      }
    } else {
      auto s = std::make_unique<Schedule>();
      s->next = start;
      s->rng.seed(o.seed * 7919 + i);
      s->gap = std::exponential_distribution<double>(m.rate_rps);
      Schedule* sp = s.get();
      schedules.push_back(std::move(s));
      const int workers = std::max(1, std::min(o.max_outstanding, static_cast<int>(std::ceil(m.rate_rps)) * 4 + 2));
      for (int w = 0; w < workers; ++w) {
        threads.emplace_back([&transport, col, req, end, sp, &o] {
          while (!(o.cancel && o.cancel->load())) {
            Steady::time_point t;
            {
              std::lock_guard<std::mutex> lk(sp->mu);
              sp->next += std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(sp->gap(sp->rng)));
              t = sp->next;
            }
            if (t >= end) break;
            std::this_thread::sleep_until(t);
            double retry = 0;
            StatusOr<InferResponse> r = transport.Infer(*req, &retry);
            col->Add(r, std::chrono::duration<double, std::milli>(Steady::now() - t).count());
          }
        });
      }
    }
  }
  for (auto& t : threads) t.join();
  LoadgenReport rep;
  rep.transport = transport.Name();
  rep.duration_s = o.duration_s;
  for (auto& c : collectors) {
    std::lock_guard<std::mutex> lk(c->mu);
    ModelStats st = c->stats;
    std::sort(c->latencies.begin(), c->latencies.end());
    std::sort(c->server_latencies.begin(), c->server_latencies.end());
    st.p50_ms = Percentile(c->latencies, 50);
    st.p95_ms = Percentile(c->latencies, 95);
    st.p99_ms = Percentile(c->latencies, 99);
    st.max_ms = c->latencies.empty() ? 0 : c->latencies.back();
    double sum = 0;
    for (double v : c->latencies) sum += v;
    st.mean_ms = c->latencies.empty() ? 0 : sum / static_cast<double>(c->latencies.size());
    st.server_p50_ms = Percentile(c->server_latencies, 50);
    st.server_p95_ms = Percentile(c->server_latencies, 95);
    st.throughput_rps = static_cast<double>(st.ok) / o.duration_s;
    st.offered_rps = static_cast<double>(st.sent) / o.duration_s;
    st.versions.assign(c->versions.begin(), c->versions.end());
    rep.models.push_back(std::move(st));
  }
  return rep;
}

nlohmann::json ToJson(const LoadgenReport& r) {
  nlohmann::json models = nlohmann::json::array();
  for (const ModelStats& m : r.models) {
    models.push_back({{"model", m.model},
                      {"load", m.mode},
                      {"sent", m.sent},
                      {"ok", m.ok},
                      {"refused", m.refused},
                      {"errors", m.errors},
                      {"errors_by_code", m.errors_by_code},
                      {"first_error", m.first_error},
                      {"p50_ms", m.p50_ms},
                      {"p95_ms", m.p95_ms},
                      {"p99_ms", m.p99_ms},
                      {"mean_ms", m.mean_ms},
                      {"max_ms", m.max_ms},
                      {"server_p50_ms", m.server_p50_ms},
                      {"server_p95_ms", m.server_p95_ms},
                      {"throughput_rps", m.throughput_rps},
                      {"offered_rps", m.offered_rps},
                      {"versions", m.versions}});
  }
  return {{"transport", r.transport}, {"duration_s", r.duration_s}, {"models", models}};
}

std::string FormatReport(const LoadgenReport& r) {
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf, "loadgen: %.1f s over %s (latencies on the client, successes only)\n",
                r.duration_s, r.transport.c_str());
  out += buf;
  std::snprintf(buf, sizeof buf, "%-14s %-12s %7s %7s %7s %7s %9s %9s %9s %9s\n", "model", "load", "sent", "ok",
                "refused", "errors", "p50_ms", "p95_ms", "p99_ms", "ok_rps");
  out += buf;
  for (const ModelStats& m : r.models) {
    std::snprintf(buf, sizeof buf, "%-14s %-12s %7llu %7llu %7llu %7llu %9.2f %9.2f %9.2f %9.2f\n", m.model.c_str(),
                  m.mode.c_str(), static_cast<unsigned long long>(m.sent), static_cast<unsigned long long>(m.ok),
                  static_cast<unsigned long long>(m.refused), static_cast<unsigned long long>(m.errors), m.p50_ms,
                  m.p95_ms, m.p99_ms, m.throughput_rps);
    out += buf;
    if (!m.first_error.empty()) out += "  first error: " + m.first_error + "\n";
  }
  return out;
}

}  // namespace ecomap::service
