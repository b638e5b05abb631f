#include "service/protocol_bench.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <tuple>
#include <utility>

#include "engine/engine.h"
#include "service/config.h"
#include "service/engine_backend.h"
#include "service/http_server.h"
#include "service/loadgen.h"
#include "zoo/model.h"

namespace ecomap::service {

using Steady = std::chrono::steady_clock;

namespace {

double CpuMs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

double Median(const std::vector<double>& v) { return Percentile(v, 50); }

double EngineCpuMs(const engine::Engine& e) {
  double sum = 0;
  for (const engine::UnitReport& u : e.Report().units) sum += u.cpu_ms;
  return sum;
}

// One call of a client: the engine's own latency (ms) of the answer, or the error.
using Call = std::function<StatusOr<double>()>;

// `clients` threads call `call` in a closed loop for warmup + seconds; the answers that arrive
// within the measured window count (whenever they were sent: an unbiased rate in steady state).
ProtocolPhase RunPhase(const std::string& side, int clients, double warmup_s, double seconds, const Call& call,
                       const engine::Engine& engine) {
  ProtocolPhase out;
  out.side = side;
  const Steady::time_point start = Steady::now();
  const auto dur = [](double s) { return std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(s)); };
  const Steady::time_point window_start = start + dur(warmup_s);
  const Steady::time_point window_end = window_start + dur(seconds);
  std::mutex mu;
  std::vector<double> latencies, engine_latencies;
  double client_cpu = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&] {
      std::vector<double> lat, elat;
      double cpu = 0;
      uint64_t errors = 0;
      std::string first_error;
      while (Steady::now() < window_end) {
        const double c0 = CpuMs(CLOCK_THREAD_CPUTIME_ID);
        const Steady::time_point t0 = Steady::now();
        StatusOr<double> r = call();
        const Steady::time_point t1 = Steady::now();
        const double c1 = CpuMs(CLOCK_THREAD_CPUTIME_ID);
        if (t1 < window_start || t1 >= window_end) continue;
        if (!r.ok()) {
          ++errors;
          if (first_error.empty()) first_error = r.status().ToString();
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        lat.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        elat.push_back(*r);
        cpu += c1 - c0;
      }
      std::lock_guard<std::mutex> lk(mu);
      latencies.insert(latencies.end(), lat.begin(), lat.end());
      engine_latencies.insert(engine_latencies.end(), elat.begin(), elat.end());
      client_cpu += cpu;
      out.errors += errors;
      if (out.first_error.empty()) out.first_error = first_error;
    });
  }
  std::this_thread::sleep_until(window_start);
  const double p0 = CpuMs(CLOCK_PROCESS_CPUTIME_ID), e0 = EngineCpuMs(engine);
  const Steady::time_point w0 = Steady::now();
  std::this_thread::sleep_until(window_end);
  const double p1 = CpuMs(CLOCK_PROCESS_CPUTIME_ID), e1 = EngineCpuMs(engine);
  const Steady::time_point w1 = Steady::now();
  for (auto& t : threads) t.join();
  out.seconds = std::chrono::duration<double>(w1 - w0).count();
  out.ok = latencies.size();
  out.throughput_rps = out.seconds > 0 ? static_cast<double>(out.ok) / out.seconds : 0;
  out.p50_ms = Percentile(latencies, 50);
  out.p95_ms = Percentile(latencies, 95);
  out.engine_p50_ms = Percentile(engine_latencies, 50);
  if (out.ok > 0) {
    const double n = static_cast<double>(out.ok);
    out.process_cpu_ms = (p1 - p0) / n;
    out.engine_cpu_ms = (e1 - e0) / n;
    out.client_cpu_ms = client_cpu / n;
    out.other_cpu_ms = std::max(0.0, out.process_cpu_ms - out.engine_cpu_ms - out.client_cpu_ms);
  }
  return out;
}

// One client alternates the two sides request by request (`first` first) for warmup + seconds:
// both sides see the same moments of the machine's background load, which on a shared machine
// moves more between phases than the protocol costs. A side's throughput is its answers over
// the time its own calls took (what a client of that side alone would get at concurrency 1).
// The window's process and engine CPU cannot be split by side: each side gets the per-request
// means of the whole window for those (its client CPU is its own).
std::pair<ProtocolPhase, ProtocolPhase> RunInterleaved(double warmup_s, double seconds, const Call& in_process,
                                                       const Call& rest, bool rest_first,
                                                       const engine::Engine& engine) {
  ProtocolPhase side[2];
  side[0].side = "in_process";
  side[1].side = "rest";
  const Steady::time_point start = Steady::now();
  const auto dur = [](double s) { return std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(s)); };
  const Steady::time_point window_start = start + dur(warmup_s);
  const Steady::time_point window_end = window_start + dur(seconds);
  std::vector<double> lat[2], elat[2];
  double client_cpu[2] = {0, 0}, busy_s[2] = {0, 0};
  double p0 = 0, e0 = 0;
  Steady::time_point w0{};
  bool in_window = false;
  for (uint64_t i = rest_first ? 1 : 0; Steady::now() < window_end; ++i) {
    const int k = static_cast<int>(i % 2);
    const Steady::time_point now = Steady::now();
    if (!in_window && now >= window_start) {
      in_window = true;
      p0 = CpuMs(CLOCK_PROCESS_CPUTIME_ID);
      e0 = EngineCpuMs(engine);
      w0 = now;
    }
    const double c0 = CpuMs(CLOCK_THREAD_CPUTIME_ID);
    const Steady::time_point t0 = Steady::now();
    StatusOr<double> r = (k == 0 ? in_process : rest)();
    const Steady::time_point t1 = Steady::now();
    const double c1 = CpuMs(CLOCK_THREAD_CPUTIME_ID);
    if (!in_window || t1 >= window_end) continue;
    if (!r.ok()) {
      ++side[k].errors;
      if (side[k].first_error.empty()) side[k].first_error = r.status().ToString();
      continue;
    }
    lat[k].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    elat[k].push_back(*r);
    client_cpu[k] += c1 - c0;
    busy_s[k] += std::chrono::duration<double>(t1 - t0).count();
  }
  const double p1 = CpuMs(CLOCK_PROCESS_CPUTIME_ID), e1 = EngineCpuMs(engine);
  const double window_s = in_window ? std::chrono::duration<double>(Steady::now() - w0).count() : 0;
  const double total = static_cast<double>(lat[0].size() + lat[1].size());
  const double client_all = client_cpu[0] + client_cpu[1];
  for (int k = 0; k < 2; ++k) {
    ProtocolPhase& p = side[k];
    p.seconds = window_s;
    p.ok = lat[k].size();
    p.throughput_rps = busy_s[k] > 0 ? static_cast<double>(p.ok) / busy_s[k] : 0;
    p.p50_ms = Percentile(lat[k], 50);
    p.p95_ms = Percentile(lat[k], 95);
    p.engine_p50_ms = Percentile(elat[k], 50);
    if (p.ok > 0 && total > 0) {
      p.client_cpu_ms = client_cpu[k] / static_cast<double>(p.ok);
      p.engine_cpu_ms = (e1 - e0) / total;
      p.process_cpu_ms = (p1 - p0) / total;
      p.other_cpu_ms = std::max(0.0, (p1 - p0 - (e1 - e0) - client_all) / total);
    }
  }
  return {side[0], side[1]};
}

engine::HostTensor RandomInput(const zoo::ModelInfo& info, uint64_t seed) {
  std::mt19937_64 rng(seed);
  int64_t n = 1;
  for (int64_t d : info.input_shape) n *= std::max<int64_t>(d, 1);
  if (info.input_dtype == "int64") {
    std::uniform_int_distribution<int64_t> d(0, 999);
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (auto& x : v) x = d(rng);
    return engine::HostTensor::FromValues("input", engine::DataType::kInt64, info.input_shape, v);
  }
  std::uniform_real_distribution<float> d(0.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return engine::HostTensor::FromValues("input", engine::DataType::kFp32, info.input_shape, v);
}

StatusOr<ProtocolCase> RunCase(const std::shared_ptr<engine::ExecutorFactory>& factory, const ProtocolBenchOptions& o,
                               const std::vector<engine::UnitInfo>& units, const std::string& kind,
                               const std::string& model, int concurrency) {
  const zoo::ModelInfo* info = factory->FindModel(model);
  if (info == nullptr) return NotFound("unknown model '" + model + "'; `ecomap zoo list` lists them");
  ProtocolCase c;
  c.kind = kind;
  c.model = model;
  c.concurrency = concurrency;

  engine::PipelineSpec t;
  if (!o.stages.empty()) {
    ECOMAP_ASSIGN_OR_RETURN(std::vector<engine::PipelineSpec> parsed,
                            engine::ParseTenantsSpec(model + "@" + o.stages, o.seed));
    t = parsed.at(0);
  } else {
    t.stages = BalancedStages(*info, units);
  }
  t.name = model;
  t.model = model;
  t.source.kind = engine::SourceSpec::Kind::kClosed;
  t.source.outstanding = concurrency;
  t.source.external = true;                       // the clients are the only load
  t.slo.latency_bound = Milliseconds(600000);     // admission never refuses: saturation is the point
  t.queue_capacity = std::max(64, 2 * concurrency);
  t.seed = o.seed;
  engine::EngineSpec spec;
  spec.tenants.push_back(t);
  engine::EngineOptions eo;
  eo.units = units;
  auto eng = std::make_unique<engine::Engine>(factory, eo);
  ECOMAP_RETURN_IF_ERROR(eng->Start(spec).WithContext("starting the engine for " + model));
  c.pipeline = engine::FormatStages(eng->spec().tenants.at(0).stages);

  EngineBackend backend(eng.get());
  ApiConfig api;
  api.host = o.host;
  api.port = 0;
  HttpServer server(&backend, api);
  ECOMAP_RETURN_IF_ERROR(server.Start(o.host, 0));
  // A fresh client per REST phase, closed at its end: an idle keep-alive connection keeps an
  // httplib server worker polling it (every ~10 ms for 5 s), which would run during the next
  // in-process phase.
  const int port = server.port();
  std::unique_ptr<Transport> rest;
  auto open_rest = [&] { rest = MakeRestTransport(o.host, port, /*binary=*/true, 60); };

  const engine::HostTensor input = RandomInput(*info, o.seed);
  InferRequest request;
  request.model = model;
  request.inputs.push_back(input);
  engine::Engine* e = eng.get();
  const Call in_process = [e, &model, &input]() -> StatusOr<double> {
    auto promise = std::make_shared<std::promise<engine::SubmitResult>>();
    std::future<engine::SubmitResult> f = promise->get_future();
    ECOMAP_RETURN_IF_ERROR(
        e->Submit(model, input, [promise](engine::SubmitResult r) { promise->set_value(std::move(r)); }));
    engine::SubmitResult r = f.get();
    if (!r.output.ok()) return r.output.status();
    return r.latency_ms;
  };
  const Call over_rest = [&rest, &request]() -> StatusOr<double> {
    double retry = 0;
    StatusOr<InferResponse> r = rest->Infer(request, &retry);
    if (!r.ok()) return r.status();
    if (r->outputs.empty() || r->outputs[0].data.empty()) return Internal("an answer without the output tensor");
    return r->latency_ms;
  };

  auto line = [&](int pair, const ProtocolPhase& p) {
    if (!o.progress) return;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "  %s pair %d/%d %-10s %8.2f req/s  p50 %8.2f ms  p95 %8.2f ms  cpu/req: client %.2f, engine "
                  "%.2f, other %.2f ms%s%s",
                  model.c_str(), pair + 1, o.pairs, p.side.c_str(), p.throughput_rps, p.p50_ms, p.p95_ms,
                  p.client_cpu_ms, p.engine_cpu_ms, p.other_cpu_ms, p.errors ? "  errors: " : "",
                  p.errors ? p.first_error.c_str() : "");
    o.progress(buf);
  };
  c.interleaved = kind == "latency" && o.interleave_latency;
  for (int pair = 0; pair < o.pairs; ++pair) {
    ProtocolPhase a, b;
    if (c.interleaved) {
      open_rest();
      std::tie(a, b) = RunInterleaved(o.warmup_s, o.seconds, in_process, over_rest, pair % 2 == 1, *eng);
      rest.reset();
      line(pair, a);
      line(pair, b);
    } else if (pair % 2 == 0) {
      a = RunPhase("in_process", concurrency, o.warmup_s, o.seconds, in_process, *eng);
      line(pair, a);
      open_rest();
      b = RunPhase("rest", concurrency, o.warmup_s, o.seconds, over_rest, *eng);
      rest.reset();
      line(pair, b);
    } else {
      open_rest();
      b = RunPhase("rest", concurrency, o.warmup_s, o.seconds, over_rest, *eng);
      rest.reset();
      line(pair, b);
      a = RunPhase("in_process", concurrency, o.warmup_s, o.seconds, in_process, *eng);
      line(pair, a);
    }
    c.throughput_ratios.push_back(a.throughput_rps > 0 ? b.throughput_rps / a.throughput_rps : 0);
    c.added_p50_ms.push_back(b.p50_ms - a.p50_ms);
    c.cpu_ratios.push_back(b.process_cpu_ms > 0 ? a.process_cpu_ms / b.process_cpu_ms : 0);
    c.in_process.push_back(std::move(a));
    c.rest.push_back(std::move(b));
  }
  server.Stop();
  eng->Shutdown(Milliseconds(5000));

  auto med = [](const std::vector<ProtocolPhase>& v, double ProtocolPhase::*f) {
    std::vector<double> x;
    for (const auto& p : v) x.push_back(p.*f);
    return Median(x);
  };
  c.in_process_rps = med(c.in_process, &ProtocolPhase::throughput_rps);
  c.rest_rps = med(c.rest, &ProtocolPhase::throughput_rps);
  c.in_process_p50_ms = med(c.in_process, &ProtocolPhase::p50_ms);
  c.rest_p50_ms = med(c.rest, &ProtocolPhase::p50_ms);
  c.in_process_p95_ms = med(c.in_process, &ProtocolPhase::p95_ms);
  c.rest_p95_ms = med(c.rest, &ProtocolPhase::p95_ms);
  c.in_process_client_cpu_ms = med(c.in_process, &ProtocolPhase::client_cpu_ms);
  c.rest_client_cpu_ms = med(c.rest, &ProtocolPhase::client_cpu_ms);
  c.rest_other_cpu_ms = med(c.rest, &ProtocolPhase::other_cpu_ms);
  c.throughput_ratio = Median(c.throughput_ratios);
  c.added_p50 = Median(c.added_p50_ms);
  c.cpu_ratio = Median(c.cpu_ratios);
  return c;
}

nlohmann::json PhaseJson(const ProtocolPhase& p) {
  return {{"side", p.side},
          {"seconds", p.seconds},
          {"ok", p.ok},
          {"errors", p.errors},
          {"first_error", p.first_error},
          {"throughput_rps", p.throughput_rps},
          {"p50_ms", p.p50_ms},
          {"p95_ms", p.p95_ms},
          {"engine_p50_ms", p.engine_p50_ms},
          {"cpu_ms_per_request",
           {{"client", p.client_cpu_ms}, {"engine", p.engine_cpu_ms}, {"other", p.other_cpu_ms},
            {"process", p.process_cpu_ms}}}};
}

nlohmann::json CaseJson(const ProtocolCase& c) {
  nlohmann::json pairs = nlohmann::json::array();
  for (size_t i = 0; i < c.in_process.size(); ++i) {
    pairs.push_back({{"in_process", PhaseJson(c.in_process[i])},
                     {"rest", PhaseJson(c.rest[i])},
                     {"throughput_ratio", c.throughput_ratios[i]},
                     {"added_p50_ms", c.added_p50_ms[i]},
                     {"cpu_ratio", c.cpu_ratios[i]}});
  }
  return {{"model", c.model},
          {"concurrency", c.concurrency},
          {"interleaved", c.interleaved},
          {"pipeline", c.pipeline},
          {"in_process",
           {{"throughput_rps", c.in_process_rps},
            {"p50_ms", c.in_process_p50_ms},
            {"p95_ms", c.in_process_p95_ms},
            {"client_cpu_ms_per_request", c.in_process_client_cpu_ms}}},
          {"rest",
           {{"throughput_rps", c.rest_rps},
            {"p50_ms", c.rest_p50_ms},
            {"p95_ms", c.rest_p95_ms},
            {"client_cpu_ms_per_request", c.rest_client_cpu_ms},
            {"server_cpu_ms_per_request", c.rest_other_cpu_ms}}},
          {"throughput_ratio", c.throughput_ratio},
          {"added_p50_ms", c.added_p50},
          {"cpu_ratio", c.cpu_ratio},
          {"pairs", pairs}};
}

}  // namespace

std::vector<engine::StageSpec> BalancedStages(const zoo::ModelInfo& model, const std::vector<engine::UnitInfo>& units) {
  const int blocks = static_cast<int>(model.blocks.size());
  const int n = std::max(1, std::min(static_cast<int>(units.size()), blocks));
  double total = 0;
  for (const auto& b : model.blocks) total += b.flops + b.elementwise_ops;
  std::vector<engine::StageSpec> out;
  int begin = 0;
  double acc = 0;
  for (int s = 0; s < n; ++s) {
    int end = begin + 1;
    acc += model.blocks[static_cast<size_t>(begin)].flops + model.blocks[static_cast<size_t>(begin)].elementwise_ops;
    const double target = total * (s + 1) / n;
    // Grow the stage while it stays closer to its share and leaves a block for each later stage.
    while (end < blocks - (n - s - 1)) {
      const double next = model.blocks[static_cast<size_t>(end)].flops + model.blocks[static_cast<size_t>(end)].elementwise_ops;
      if (s == n - 1 || std::abs(acc + next - target) <= std::abs(acc - target)) {
        acc += next;
        ++end;
      } else {
        break;
      }
    }
    out.push_back({begin, end, units.empty() ? "cpu0" : units[static_cast<size_t>(s)].name});
    begin = end;
  }
  return out;
}

StatusOr<ProtocolBenchResult> RunProtocolBench(std::shared_ptr<engine::ExecutorFactory> factory,
                                               const ProtocolBenchOptions& options) {
  if (!factory) return InvalidArgument("no executor factory");
  if (options.pairs < 1) return InvalidArgument("pairs must be >= 1");
  if (options.concurrency < 1) return InvalidArgument("concurrency must be >= 1");
  if (!(options.seconds > 0) || options.warmup_s < 0) return InvalidArgument("seconds must be > 0, warm-up >= 0");
  ProtocolBenchResult r;
  r.options = options;
  const std::vector<engine::UnitInfo> units = options.units.empty() ? engine::HostUnits() : options.units;
  r.cores = static_cast<int>(engine::HostUnits().size());
  if (options.progress) {
    options.progress("saturation: " + options.saturation_model + ", closed loop of " +
                     std::to_string(options.concurrency) + " clients");
  }
  ECOMAP_ASSIGN_OR_RETURN(r.saturation, RunCase(factory, options, units, "saturation", options.saturation_model,
                                                options.concurrency));
  if (options.progress) options.progress("latency: " + options.latency_model + ", one request at a time");
  ECOMAP_ASSIGN_OR_RETURN(r.latency, RunCase(factory, options, units, "latency", options.latency_model, 1));
  r.throughput_pass = r.saturation.throughput_ratio >= options.throughput_goal;
  r.latency_pass = r.latency.added_p50 <= options.added_p50_goal_ms;
  return r;
}

nlohmann::json ToJson(const ProtocolBenchResult& r) {
  const ProtocolBenchOptions& o = r.options;
  return {{"measured", true},
          {"cores", r.cores},
          {"note", "clients, HTTP server and engine share this process and its cores"},
          {"options",
           {{"saturation_model", o.saturation_model},
            {"latency_model", o.latency_model},
            {"concurrency", o.concurrency},
            {"seconds", o.seconds},
            {"warmup_s", o.warmup_s},
            {"pairs", o.pairs},
            {"stages", o.stages},
            {"transport", "rest-binary"},
            {"intra_op_threads", 1}}},
          {"saturation", CaseJson(r.saturation)},
          {"latency", CaseJson(r.latency)},
          {"throughput_ratio", r.saturation.throughput_ratio},
          {"added_p50_ms", r.latency.added_p50},
          {"cpu_throughput_ratio", r.saturation.cpu_ratio},
          {"throughput_goal", o.throughput_goal},
          {"added_p50_goal_ms", o.added_p50_goal_ms},
          {"throughput_pass", r.throughput_pass},
          {"latency_pass", r.latency_pass},
          {"pass", r.throughput_pass && r.latency_pass}};
}

std::string FormatProtocolBench(const ProtocolBenchResult& r) {
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "protocol overhead: REST (binary tensors, keep-alive, 127.0.0.1) vs in-process Engine::Submit, "
                "medians of %d alternating pairs of %g s phases\n(clients, HTTP server and engine stage workers "
                "share this process and its %d cores; CPU ms per request split client / engine / other)\n%s",
                r.options.pairs, r.options.seconds, r.cores,
                r.latency.interleaved ? "(latency case: one client alternating the sides request by request in each "
                                        "phase, so both see the same background load)\n"
                                      : "");
  out += buf;
  std::snprintf(buf, sizeof buf, "%-11s %-20s %4s %-16s %-10s %9s %9s %9s %10s\n", "case", "model", "C", "pipeline",
                "side", "req/s", "p50_ms", "p95_ms", "client_cpu");
  out += buf;
  for (const ProtocolCase* c : {&r.saturation, &r.latency}) {
    std::snprintf(buf, sizeof buf, "%-11s %-20s %4d %-16s %-10s %9.2f %9.2f %9.2f %10.2f\n", c->kind.c_str(),
                  c->model.c_str(), c->concurrency, c->pipeline.c_str(), "in_process", c->in_process_rps,
                  c->in_process_p50_ms, c->in_process_p95_ms, c->in_process_client_cpu_ms);
    out += buf;
    std::snprintf(buf, sizeof buf, "%-11s %-20s %4s %-16s %-10s %9.2f %9.2f %9.2f %10.2f  (server %.2f)\n", "", "", "",
                  "", "rest", c->rest_rps, c->rest_p50_ms, c->rest_p95_ms, c->rest_client_cpu_ms,
                  c->rest_other_cpu_ms);
    out += buf;
  }
  auto list = [](const std::vector<double>& v, const char* fmt) {
    std::string s;
    for (double x : v) {
      char b[32];
      std::snprintf(b, sizeof b, fmt, x);
      s += (s.empty() ? "" : " ") + std::string(b);
    }
    return s;
  };
  std::snprintf(buf, sizeof buf, "%s throughput REST / in process: %.3f (median; per pair %s), goal >= %.2f: %s\n",
                r.saturation.model.c_str(), r.saturation.throughput_ratio,
                list(r.saturation.throughput_ratios, "%.3f").c_str(), r.options.throughput_goal,
                r.throughput_pass ? "PASS" : "FAIL");
  out += buf;
  std::snprintf(buf, sizeof buf,
                "  (CPU per request in process / over REST: %.3f, median; per pair %s: the ratio the CPU cost "
                "allows, whatever share of the cores other processes take)\n",
                r.saturation.cpu_ratio, list(r.saturation.cpu_ratios, "%.3f").c_str());
  out += buf;
  std::snprintf(buf, sizeof buf, "%s added p50 latency: %.3f ms (median; per pair %s), goal <= %.2f ms: %s\n",
                r.latency.model.c_str(), r.latency.added_p50, list(r.latency.added_p50_ms, "%.3f").c_str(),
                r.options.added_p50_goal_ms, r.latency_pass ? "PASS" : "FAIL");
  out += buf;
  out += std::string("protocol overhead ") + (r.throughput_pass && r.latency_pass ? "PASSED" : "FAILED") + "\n";
  return out;
}

}  // namespace ecomap::service
