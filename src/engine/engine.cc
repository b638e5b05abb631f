#include "engine/engine.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <cstdio>
#include <condition_variable>
#include <deque>
#include <optional>
#include <random>
#include <set>
#include <thread>

namespace ecomap::engine {

using Steady = std::chrono::steady_clock;

namespace {

double MsBetween(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

TimePoint UtcNow(const Clock* clock) { return clock->Now(); }

}  // namespace

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kCompleted: return "completed";
    case Outcome::kRejected: return "rejected";
    case Outcome::kDropped: return "dropped";
  }
  return "?";
}

struct Engine::Request {
  uint64_t id = 0;
  SteadyTime arrival{};
  Activation act;
  int generation = 0;
  // Client requests (Submit) only: the callback and the output's name. A client request keeps
  // its own input when it migrates to a new pipeline.
  SubmitCallback done;
  std::string output_name;
};

namespace {

// A bounded FIFO of requests between a producer (source or upstream stage) and a stage worker.
class RequestQueue {
 public:
  using Request = Engine::Request;  // NOLINT
  explicit RequestQueue(size_t capacity) : capacity_(capacity) {}

  // Admission: false (r untouched) when full, closed or aborted.
  bool TryPush(Request& r) {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_ || aborted_ || q_.size() >= capacity_) return false;
    q_.push_back(std::move(r));
    not_empty_.notify_one();
    return true;
  }
  // Between stages: waits while full (back-pressure); false (r untouched) once aborted.
  bool Push(Request& r) {
    std::unique_lock<std::mutex> lk(mu_);
    not_full_.wait(lk, [&] { return aborted_ || closed_ || q_.size() < capacity_; });
    if (aborted_ || closed_) return false;
    q_.push_back(std::move(r));
    not_empty_.notify_one();
    return true;
  }
  // Migration: ignores the capacity (capacity limits admission, not requests already admitted).
  void ForcePush(Request r) {
    std::lock_guard<std::mutex> lk(mu_);
    q_.push_back(std::move(r));
    not_empty_.notify_one();
  }
  // Waits for a request; nullopt once closed and empty, or aborted.
  std::optional<Request> Pop() {
    std::unique_lock<std::mutex> lk(mu_);
    not_empty_.wait(lk, [&] { return aborted_ || closed_ || !q_.empty(); });
    if (aborted_ || q_.empty()) return std::nullopt;
    Request r = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return r;
  }
  void Close() {
    std::lock_guard<std::mutex> lk(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  std::vector<Request> TakeAllAndClose() {
    std::lock_guard<std::mutex> lk(mu_);
    std::vector<Request> out;
    for (auto& r : q_) out.push_back(std::move(r));
    q_.clear();
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
    return out;
  }
  std::vector<Request> Abort() {
    std::lock_guard<std::mutex> lk(mu_);
    std::vector<Request> out;
    for (auto& r : q_) out.push_back(std::move(r));
    q_.clear();
    aborted_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Request> q_;
  const size_t capacity_;
  bool closed_ = false;
  bool aborted_ = false;
};

struct Counters {
  uint64_t submitted = 0, completed = 0, rejected = 0, dropped = 0;
  std::map<std::string, uint64_t> rejected_by_reason, dropped_by_reason;
  int reconfigurations = 0;
};

}  // namespace

struct Engine::Unit {
  UnitInfo info;
  std::mutex mu;
  int executing = 0;
  SteadyTime busy_since{};
  double busy_ms = 0;            // closed busy periods
  double cpu_ms = 0;
  double window_busy_base = 0;   // busy/cpu totals at the start of the current window
  double window_cpu_base = 0;

  void Begin() {
    std::lock_guard<std::mutex> lk(mu);
    if (executing++ == 0) busy_since = Steady::now();
  }
  void End(double cpu) {
    std::lock_guard<std::mutex> lk(mu);
    cpu_ms += cpu;
    if (--executing == 0) busy_ms += MsBetween(busy_since, Steady::now());
  }
  // Busy time up to `now`, the open busy period included. REQUIRES: mu held.
  double BusyUpTo(SteadyTime now) const {
    return busy_ms + (executing > 0 ? MsBetween(busy_since, now) : 0.0);
  }
};

struct Engine::Pipeline {
  struct Stage {
    StageSpec spec;
    int unit_index = 0;
    std::unique_ptr<StageExecutor> exec;
    std::unique_ptr<RequestQueue> queue;
    std::thread worker;
  };
  Tenant* tenant = nullptr;
  int generation = 0;
  std::string model;
  Activation input;
  std::vector<Stage> stages;

  std::mutex mu;
  std::condition_variable cv;
  int live_workers = 0;
  std::string abort_reason;             // set before the queues are aborted
  std::atomic<uint64_t> finished{0};    // completed or dropped in this pipeline
  std::atomic<uint64_t> dropped{0};

  // Moving averages of each stage's service time and of its deviation (ms), for admission
  // (SubmitOptions): a stage's time is taken as mean + 2 x deviation (as TCP estimates its
  // retransmission timeout), so noisy service times (a shared CPU) refuse earlier.
  std::mutex service_mu;
  std::vector<double> service_ms;       // per stage; 0 until the stage ran once
  std::vector<double> service_dev_ms;
  void RecordService(size_t stage, double ms) {
    std::lock_guard<std::mutex> lk(service_mu);
    double& v = service_ms[stage];
    double& d = service_dev_ms[stage];
    if (v == 0) {
      v = ms;
      d = ms / 2;
    } else {
      d = 0.75 * d + 0.25 * std::abs(ms - v);
      v = 0.875 * v + 0.125 * ms;
    }
  }
  // The stages' moving mean service times, in ms: the bottleneck's (and its deviation), their
  // sum, and the sum of their moving mean deviations; false until every stage ran.
  bool ServiceEstimate(double* bottleneck_ms, double* bottleneck_dev_ms, double* total_ms, double* dev_ms) {
    std::lock_guard<std::mutex> lk(service_mu);
    *bottleneck_ms = *bottleneck_dev_ms = *total_ms = *dev_ms = 0;
    for (size_t i = 0; i < service_ms.size(); ++i) {
      if (service_ms[i] <= 0) return false;
      if (service_ms[i] > *bottleneck_ms) {
        *bottleneck_ms = service_ms[i];
        *bottleneck_dev_ms = service_dev_ms[i];
      }
      *total_ms += service_ms[i];
      *dev_ms += service_dev_ms[i];
    }
    return !service_ms.empty();
  }
};

struct Engine::Tenant {
  std::mutex mu;  // guards everything below
  PipelineSpec spec;
  std::shared_ptr<Pipeline> pipeline;  // null once removed
  bool active = true;
  uint64_t next_id = 0;
  uint64_t in_flight = 0;  // admitted, not finished
  Counters total, window;
  LatencyHistogram histogram;
  std::vector<double> window_ms;
  SteadyTime added{}, removed{};
  int generation = 0;
  // Source.
  std::thread source;
  std::condition_variable source_cv;
  bool stop_source = false;
  uint64_t source_starts = 0;
};

Engine::Engine(std::shared_ptr<ExecutorFactory> factory, EngineOptions options)
    : factory_(std::move(factory)), options_(std::move(options)) {
  units_ = options_.units.empty() ? HostUnits() : options_.units;
  for (const UnitInfo& u : units_) {
    auto s = std::make_unique<Unit>();
    s->info = u;
    unit_state_.push_back(std::move(s));
  }
  clock_ = options_.clock ? options_.clock : &SystemClock::Instance();
}

Engine::~Engine() {
  bool running;
  {
    std::lock_guard<std::mutex> lk(tenants_mu_);
    running = started_ && !stopped_;
  }
  if (running) (void)Shutdown(Milliseconds(5000));
}

Status Engine::CheckRunning() const {
  std::lock_guard<std::mutex> lk(tenants_mu_);
  if (!started_) return FailedPrecondition("the engine is not started; call Start first");
  if (stopped_) return FailedPrecondition("the engine was shut down");
  return Status::Ok();
}

std::shared_ptr<Engine::Tenant> Engine::FindActive(const std::string& name) const {
  std::lock_guard<std::mutex> lk(tenants_mu_);
  for (const auto& t : tenants_) {
    std::lock_guard<std::mutex> tl(t->mu);
    if (t->active && t->spec.name == name) return t;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Workers and sources.

void Engine::WorkerLoop(Pipeline* p, size_t index) {
  Pipeline::Stage& st = p->stages[index];
  Unit& unit = *unit_state_[st.unit_index];
  if (options_.pin_threads && unit.info.cpu_id >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(unit.info.cpu_id, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);  // best effort: checked in tests
  }
  st.exec->PrepareThread();
  const bool last = index + 1 == p->stages.size();
  while (std::optional<Request> r = st.queue->Pop()) {
    double cpu0 = ThreadCpuMs();
    SteadyTime w0 = Steady::now();
    unit.Begin();
    Status s = st.exec->Run(r->act);
    unit.End(ThreadCpuMs() - cpu0);
    p->RecordService(index, MsBetween(w0, Steady::now()));
    if (!s.ok()) {
      Finish(*p, *r, Outcome::kDropped, "error: " + s.message(), s);
    } else if (last) {
      if (!r->done) r->act.reset();  // a client's output goes back through its callback
      Finish(*p, *r, Outcome::kCompleted, "");
    } else if (!p->stages[index + 1].queue->Push(*r)) {
      std::string reason;
      {
        std::lock_guard<std::mutex> lk(p->mu);
        reason = p->abort_reason;
      }
      Finish(*p, *r, Outcome::kDropped, reason);
    }
  }
  if (!last) p->stages[index + 1].queue->Close();
  std::lock_guard<std::mutex> lk(p->mu);
  --p->live_workers;
  p->cv.notify_all();
}

void Engine::Finish(Pipeline& p, Request& r, Outcome outcome, const std::string& reason, Status error) {
  SteadyTime now = Steady::now();
  Tenant* t = p.tenant;
  double latency_ms = MsBetween(r.arrival, now);
  std::string name;
  {
    std::lock_guard<std::mutex> lk(t->mu);
    for (Counters* c : {&t->total, &t->window}) {
      if (outcome == Outcome::kCompleted) {
        ++c->completed;
      } else if (outcome == Outcome::kDropped) {
        ++c->dropped;
        ++c->dropped_by_reason[reason];
      } else {
        ++c->rejected;
        ++c->rejected_by_reason[reason];
      }
    }
    if (outcome == Outcome::kCompleted) {
      t->histogram.Add(Milliseconds(latency_ms));
      t->window_ms.push_back(latency_ms);
    }
    if (outcome != Outcome::kRejected) {
      --t->in_flight;
      p.finished.fetch_add(1);
      if (outcome == Outcome::kDropped) p.dropped.fetch_add(1);
    }
    t->source_cv.notify_all();  // a closed-loop source may submit the next request
    name = t->spec.name;
  }
  if (options_.record_requests) {
    RequestRecord rec;
    rec.tenant = name;
    rec.id = r.id;
    rec.outcome = outcome;
    rec.reason = reason;
    rec.latency_ms = outcome == Outcome::kCompleted ? latency_ms : 0;
    rec.model = p.model;
    rec.generation = r.generation;
    std::lock_guard<std::mutex> lk(log_mu_);
    log_.push_back(std::move(rec));
  }
  if (r.done) {
    SubmitResult res;
    res.model = p.model;
    res.generation = r.generation;
    res.latency_ms = latency_ms;
    if (outcome == Outcome::kCompleted) {
      res.output = factory_->ToTensor(p.model, r.act, r.output_name);
    } else if (!error.ok()) {
      res.output = Status(StatusCode::kInternal, "tenant '" + name + "': " + error.message());
    } else {
      res.output = Unavailable("tenant '" + name + "': the request was dropped (" + reason + "); retry");
    }
    r.act.reset();
    SubmitCallback done = std::move(r.done);
    done(std::move(res));
  }
}

void Engine::SubmitLocked(Tenant* t, SteadyTime arrival) {
  Request r;
  r.id = t->next_id++;
  r.arrival = arrival;
  ++t->total.submitted;
  ++t->window.submitted;
  Pipeline* p = t->pipeline.get();
  // A source runs only while its tenant has a pipeline (StopSource precedes removal).
  r.act = p->input;
  r.generation = p->generation;
  if (p->stages[0].queue->TryPush(r)) {
    ++t->in_flight;
    return;
  }
  for (Counters* c : {&t->total, &t->window}) {
    ++c->rejected;
    ++c->rejected_by_reason["queue_full"];
  }
  if (options_.record_requests) {
    RequestRecord rec{t->spec.name, r.id, Outcome::kRejected, "queue_full", 0, p->model, p->generation};
    std::lock_guard<std::mutex> lk(log_mu_);
    log_.push_back(std::move(rec));
  }
}

void Engine::SourceLoop(Tenant* t, uint64_t seed) {
  std::unique_lock<std::mutex> lk(t->mu);
  const SourceSpec src = t->spec.source;
  if (src.kind == SourceSpec::Kind::kPoisson) {
    std::mt19937_64 rng(seed);
    std::exponential_distribution<double> gap_s(src.rate_rps);
    SteadyTime next = Steady::now();
    while (true) {
      next += std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(gap_s(rng)));
      if (t->source_cv.wait_until(lk, next, [&] { return t->stop_source; })) break;
      SubmitLocked(t, next);  // arrival = the scheduled time: lateness counts as latency
    }
  } else {
    while (true) {
      t->source_cv.wait(lk, [&] {
        return t->stop_source || t->in_flight < static_cast<uint64_t>(src.outstanding);
      });
      if (t->stop_source) break;
      SubmitLocked(t, Steady::now());
    }
  }
}

void Engine::StartSource(Tenant* t) {
  uint64_t seed;
  {
    std::lock_guard<std::mutex> lk(t->mu);
    t->stop_source = false;
    if (t->spec.source.external) return;  // clients are the only load (Submit)
    // Restarts draw a fresh, still deterministic, arrival sequence.
    seed = t->spec.seed * 0x9E3779B97F4A7C15ULL + 0x5151 + t->source_starts++;
  }
  t->source = std::thread([this, t, seed] { SourceLoop(t, seed); });
}

void Engine::StopSource(Tenant* t) {
  {
    std::lock_guard<std::mutex> lk(t->mu);
    t->stop_source = true;
    t->source_cv.notify_all();
  }
  if (t->source.joinable()) t->source.join();
}

Status Engine::Submit(const std::string& tenant, const HostTensor& input, SubmitCallback done,
                      const SubmitOptions& options, double* retry_after_s) {
  if (!done) return InvalidArgument("Submit needs a callback");
  ECOMAP_RETURN_IF_ERROR(CheckRunning());
  std::shared_ptr<Tenant> t = FindActive(tenant);
  if (!t) return NotFound("no running tenant named '" + tenant + "'");
  std::string model;
  {
    std::lock_guard<std::mutex> lk(t->mu);
    if (!t->pipeline) return NotFound("tenant '" + tenant + "' was removed");
    model = t->pipeline->model;
  }
  // Converted outside the locks (it copies the input); a live Reconfigure in between changes the
  // variant within the tenant's family, whose members share the input format.
  ECOMAP_ASSIGN_OR_RETURN(Activation act, factory_->FromTensor(model, input));

  std::lock_guard<std::mutex> lk(t->mu);
  Pipeline* p = t->pipeline.get();
  if (!p) return NotFound("tenant '" + tenant + "' was removed");
  Request r;
  r.arrival = Steady::now();
  r.act = std::move(act);
  r.generation = p->generation;
  r.done = std::move(done);
  r.output_name = options.output_name;
  std::string reason;
  double retry_s = 0;
  double bottleneck_ms = 0, bottleneck_dev_ms = 0, total_ms = 0, dev_ms = 0;
  // An idle pipeline always admits: nothing waits ahead, and its answer refreshes the estimate
  // (refusing there would starve the measurements and refuse for ever).
  if (options.check_slo && t->in_flight > 0 && p->ServiceEstimate(&bottleneck_ms, &bottleneck_dev_ms, &total_ms, &dev_ms)) {
    const double bound_ms = options.slo_fraction * t->spec.slo.latency_bound.value();
    // Every time is counted conservatively (mean + 2 deviations); the oldest request ahead is
    // half served on average.
    const double ahead = std::max(0.0, static_cast<double>(t->in_flight) - 0.5);
    const double estimate_ms = ahead * (bottleneck_ms + 2 * bottleneck_dev_ms) + total_ms + 2 * dev_ms;
    if (estimate_ms > bound_ms) {
      reason = "slo_admission";
      retry_s = (estimate_ms - bound_ms) / 1000.0;
    }
  }
  r.id = t->next_id++;
  ++t->total.submitted;
  ++t->window.submitted;
  if (reason.empty()) {
    if (p->stages[0].queue->TryPush(r)) {
      ++t->in_flight;
      return Status::Ok();
    }
    reason = "queue_full";
    retry_s = static_cast<double>(t->in_flight) * std::max(bottleneck_ms, 1.0) / 1000.0;
  }
  for (Counters* c : {&t->total, &t->window}) {
    ++c->rejected;
    ++c->rejected_by_reason[reason];
  }
  if (options_.record_requests) {
    RequestRecord rec{t->spec.name, r.id, Outcome::kRejected, reason, 0, p->model, p->generation};
    std::lock_guard<std::mutex> ll(log_mu_);
    log_.push_back(std::move(rec));
  }
  if (retry_after_s) *retry_after_s = std::max(retry_s, 0.001);
  char buf[160];
  std::snprintf(buf, sizeof buf, "%.0f ms", t->spec.slo.latency_bound.value());
  return Unavailable("tenant '" + tenant + "' refused the request at admission (" + reason + "): " +
                     (reason == "queue_full"
                          ? std::string("its first queue is full")
                          : "the estimated latency with " + std::to_string(t->in_flight) +
                                " requests ahead exceeds its SLO of " + buf) +
                     "; retry later or lower the request rate");
}

bool Engine::Serving(const std::string& tenant) const {
  std::shared_ptr<Tenant> t = FindActive(tenant);
  if (!t) return false;
  std::lock_guard<std::mutex> lk(t->mu);
  return t->pipeline != nullptr;
}

// ---------------------------------------------------------------------------------------------
// Pipelines.

StatusOr<std::shared_ptr<Engine::Pipeline>> Engine::BuildPipeline(const PipelineSpec& t,
                                                                    Tenant* tenant) {
  auto p = std::make_shared<Pipeline>();
  p->tenant = tenant;
  p->model = t.model;
  for (const StageSpec& s : t.stages) {
    Pipeline::Stage st;
    st.spec = s;
    auto it = std::find_if(units_.begin(), units_.end(), [&](const UnitInfo& u) { return u.name == s.unit; });
    if (it == units_.end()) return NotFound("unit '" + s.unit + "' does not exist");
    st.unit_index = static_cast<int>(it - units_.begin());
    auto exec = factory_->CreateStage(t.model, s.begin, s.end, t.seed);
    if (!exec.ok()) {
      return exec.status().WithContext("tenant '" + t.name + "': building stage " +
                                       FormatStages({s}) + " of " + t.model);
    }
    st.exec = std::move(exec).value();
    st.queue = std::make_unique<RequestQueue>(static_cast<size_t>(t.queue_capacity));
    p->stages.push_back(std::move(st));
  }
  ECOMAP_ASSIGN_OR_RETURN(p->input, p->stages[0].exec->MakeInput());
  p->service_ms.assign(p->stages.size(), 0.0);
  p->service_dev_ms.assign(p->stages.size(), 0.0);
  {
    std::lock_guard<std::mutex> lk(tenants_mu_);
    p->generation = next_generation_++;
  }
  p->live_workers = static_cast<int>(p->stages.size());
  for (size_t i = 0; i < p->stages.size(); ++i) {
    Pipeline* raw = p.get();
    p->stages[i].worker = std::thread([this, raw, i] { WorkerLoop(raw, i); });
  }
  return p;
}

uint64_t Engine::DrainAndJoin(Pipeline* p, SteadyTime deadline, const std::string& reason) {
  p->stages[0].queue->Close();
  bool drained;
  {
    std::unique_lock<std::mutex> lk(p->mu);
    drained = p->cv.wait_until(lk, deadline, [&] { return p->live_workers == 0; });
    if (!drained) p->abort_reason = reason;
  }
  uint64_t dropped = 0;
  if (!drained) {
    for (auto& st : p->stages) {
      for (Request& r : st.queue->Abort()) {
        Finish(*p, r, Outcome::kDropped, reason);
        ++dropped;
      }
    }
  }
  for (auto& st : p->stages) {
    if (st.worker.joinable()) st.worker.join();
  }
  return dropped;
}

// ---------------------------------------------------------------------------------------------
// Control.

Status Engine::Start(EngineSpec spec) {
  std::lock_guard<std::mutex> control(control_mu_);
  {
    std::lock_guard<std::mutex> lk(tenants_mu_);
    if (started_) return FailedPrecondition("the engine is already started; use AddTenant or Apply");
  }
  ModelLookup lookup = [this](const std::string& m) { return factory_->FindModel(m); };
  ECOMAP_RETURN_IF_ERROR(ValidateEngineSpec(spec, lookup, units_));
  std::vector<std::shared_ptr<Tenant>> built;
  for (const PipelineSpec& ts : spec.tenants) {
    auto t = std::make_shared<Tenant>();
    t->spec = ts;
    auto p = BuildPipeline(ts, t.get());
    if (!p.ok()) {
      SteadyTime now = Steady::now();
      for (auto& b : built) DrainAndJoin(b->pipeline.get(), now, "shutdown");
      return p.status();
    }
    t->pipeline = std::move(p).value();
    t->generation = t->pipeline->generation;
    built.push_back(std::move(t));
  }
  {
    std::lock_guard<std::mutex> lk(tenants_mu_);
    started_ = true;
    online_ = spec.online_units;
    start_time_ = window_start_ = Steady::now();
    start_utc_ = window_start_utc_ = UtcNow(clock_);
    for (auto& t : built) {
      t->added = start_time_;
      tenants_.push_back(t);
    }
  }
  for (auto& t : built) StartSource(t.get());
  return Status::Ok();
}

Status Engine::AddTenant(PipelineSpec t) {
  std::lock_guard<std::mutex> control(control_mu_);
  ECOMAP_RETURN_IF_ERROR(CheckRunning());
  return AddTenantLocked(std::move(t));
}

Status Engine::AddTenantLocked(PipelineSpec ts) {
  if (FindActive(ts.name)) {
    return InvalidArgument("a tenant named '" + ts.name + "' is already running; use Reconfigure or another name");
  }
  std::vector<std::string> online;
  {
    std::lock_guard<std::mutex> lk(tenants_mu_);
    online = online_;
  }
  ModelLookup lookup = [this](const std::string& m) { return factory_->FindModel(m); };
  ECOMAP_RETURN_IF_ERROR(ValidateTenant(ts, lookup, units_, online));
  auto t = std::make_shared<Tenant>();
  t->spec = ts;
  ECOMAP_ASSIGN_OR_RETURN(t->pipeline, BuildPipeline(ts, t.get()));
  t->generation = t->pipeline->generation;
  {
    std::lock_guard<std::mutex> lk(tenants_mu_);
    t->added = Steady::now();
    tenants_.push_back(t);
  }
  StartSource(t.get());
  return Status::Ok();
}

StatusOr<TenantReport> Engine::RemoveTenant(const std::string& name, Milliseconds drain_deadline) {
  std::lock_guard<std::mutex> control(control_mu_);
  ECOMAP_RETURN_IF_ERROR(CheckRunning());
  return RemoveTenantLocked(name, drain_deadline);
}

StatusOr<TenantReport> Engine::RemoveTenantLocked(const std::string& name,
                                                  Milliseconds drain_deadline) {
  std::shared_ptr<Tenant> t = FindActive(name);
  if (!t) return NotFound("no running tenant named '" + name + "'");
  StopSource(t.get());
  std::shared_ptr<Pipeline> p;
  {
    std::lock_guard<std::mutex> lk(t->mu);
    p = t->pipeline;
  }
  auto deadline = Steady::now() + std::chrono::duration_cast<Steady::duration>(
                                      std::chrono::duration<double, std::milli>(drain_deadline.value()));
  DrainAndJoin(p.get(), deadline, "removed");
  {
    std::lock_guard<std::mutex> lk(t->mu);
    t->pipeline.reset();
    t->active = false;
    t->removed = Steady::now();
  }
  EngineReport r = MakeReport(false, false);
  for (auto it = r.tenants.rbegin(); it != r.tenants.rend(); ++it) {
    if (it->name == name && !it->active) return *it;  // the latest entry of that name
  }
  return Internal("tenant '" + name + "' vanished from the report");
}

StatusOr<ReconfigureReport> Engine::Reconfigure(PipelineSpec t) {
  std::lock_guard<std::mutex> control(control_mu_);
  ECOMAP_RETURN_IF_ERROR(CheckRunning());
  return ReconfigureLocked(std::move(t));
}

StatusOr<ReconfigureReport> Engine::ReconfigureLocked(PipelineSpec ts) {
  std::shared_ptr<Tenant> t = FindActive(ts.name);
  if (!t) return NotFound("no running tenant named '" + ts.name + "'; use AddTenant to add it");
  std::vector<std::string> online;
  {
    std::lock_guard<std::mutex> lk(tenants_mu_);
    online = online_;
  }
  ModelLookup lookup = [this](const std::string& m) { return factory_->FindModel(m); };
  ECOMAP_RETURN_IF_ERROR(ValidateTenant(ts, lookup, units_, online));

  PipelineSpec old;
  ReconfigureReport rep;
  {
    std::lock_guard<std::mutex> lk(t->mu);
    old = t->spec;
    rep.old_generation = rep.new_generation = t->generation;
  }
  if (old == ts) return rep;
  const bool rebuild = old.model != ts.model || old.stages != ts.stages || old.seed != ts.seed ||
                       old.queue_capacity != ts.queue_capacity;
  const bool source_changed = !(old.source == ts.source);

  if (!rebuild) {
    if (source_changed) StopSource(t.get());
    {
      std::lock_guard<std::mutex> lk(t->mu);
      t->spec = ts;
      ++t->total.reconfigurations;
      ++t->window.reconfigurations;
    }
    if (source_changed) StartSource(t.get());
    return rep;
  }

  SteadyTime b0 = Steady::now();
  ECOMAP_ASSIGN_OR_RETURN(std::shared_ptr<Pipeline> np, BuildPipeline(ts, t.get()));
  SteadyTime b1 = Steady::now();
  rep.build_ms = MsBetween(b0, b1);
  rep.rebuilt = true;
  rep.new_generation = np->generation;

  if (source_changed) StopSource(t.get());
  std::shared_ptr<Pipeline> op;
  uint64_t finished_before;
  {
    std::lock_guard<std::mutex> lk(t->mu);
    op = t->pipeline;
    t->pipeline = np;
    t->spec = ts;
    t->generation = np->generation;
    ++t->total.reconfigurations;
    ++t->window.reconfigurations;
    // Requests still waiting for the old first stage move, arrival time kept, to the new one.
    for (Request& r : op->stages[0].queue->TakeAllAndClose()) {
      if (!r.done) r.act = np->input;  // a client's request keeps its own input
      r.generation = np->generation;
      np->stages[0].queue->ForcePush(std::move(r));
      ++rep.migrated;
    }
    finished_before = op->finished.load();
  }
  if (source_changed) StartSource(t.get());
  uint64_t dropped_before = op->dropped.load();
  // The old pipeline holds at most (stages x queue) requests; an hour is "never" here.
  DrainAndJoin(op.get(), Steady::now() + std::chrono::hours(1), "reconfigure");
  rep.drain_ms = MsBetween(b1, Steady::now());
  rep.drained = op->finished.load() - finished_before;
  rep.dropped = op->dropped.load() - dropped_before;
  return rep;
}

Status Engine::SetOnlineUnits(std::vector<std::string> online) {
  std::lock_guard<std::mutex> control(control_mu_);
  ECOMAP_RETURN_IF_ERROR(CheckRunning());
  std::set<std::string> seen;
  for (const std::string& u : online) {
    if (std::none_of(units_.begin(), units_.end(), [&](const UnitInfo& x) { return x.name == u; })) {
      std::string all;
      for (const auto& x : units_) all += (all.empty() ? "" : ", ") + x.name;
      return NotFound("unit '" + u + "' does not exist; units: " + all);
    }
    if (!seen.insert(u).second) return InvalidArgument("unit '" + u + "' is listed twice");
  }
  std::lock_guard<std::mutex> lk(tenants_mu_);
  if (!online.empty()) {
    for (const auto& t : tenants_) {
      std::lock_guard<std::mutex> tl(t->mu);
      if (!t->active) continue;
      for (const StageSpec& s : t->spec.stages) {
        if (!seen.count(s.unit)) {
          return FailedPrecondition("unit '" + s.unit + "' cannot go offline: tenant '" + t->spec.name +
                                    "' runs stage " + FormatStages({s}) +
                                    " on it; move the stage first (Reconfigure or Apply)");
        }
      }
    }
  }
  online_ = std::move(online);
  return Status::Ok();
}

Status Engine::Apply(EngineSpec desired) {
  std::lock_guard<std::mutex> control(control_mu_);
  ECOMAP_RETURN_IF_ERROR(CheckRunning());
  ModelLookup lookup = [this](const std::string& m) { return factory_->FindModel(m); };
  ECOMAP_RETURN_IF_ERROR(ValidateEngineSpec(desired, lookup, units_));
  {
    // During the transition both the old and the new online units may host stages.
    std::lock_guard<std::mutex> lk(tenants_mu_);
    if (online_.empty() || desired.online_units.empty()) {
      online_.clear();
    } else {
      for (const std::string& u : desired.online_units) {
        if (std::find(online_.begin(), online_.end(), u) == online_.end()) online_.push_back(u);
      }
    }
  }
  std::set<std::string> wanted;
  for (PipelineSpec& ts : desired.tenants) {
    wanted.insert(ts.name);
    if (FindActive(ts.name)) {
      ECOMAP_RETURN_IF_ERROR(ReconfigureLocked(ts).status());
    } else {
      ECOMAP_RETURN_IF_ERROR(AddTenantLocked(ts));
    }
  }
  std::vector<std::string> to_remove;
  {
    std::lock_guard<std::mutex> lk(tenants_mu_);
    for (const auto& t : tenants_) {
      std::lock_guard<std::mutex> tl(t->mu);
      if (t->active && !wanted.count(t->spec.name)) to_remove.push_back(t->spec.name);
    }
  }
  for (const std::string& name : to_remove) {
    ECOMAP_RETURN_IF_ERROR(RemoveTenantLocked(name, Milliseconds(5000)).status());
  }
  std::lock_guard<std::mutex> lk(tenants_mu_);
  online_ = desired.online_units;
  return Status::Ok();
}

EngineSpec Engine::spec() const {
  std::lock_guard<std::mutex> lk(tenants_mu_);
  EngineSpec s;
  s.online_units = online_;
  for (const auto& t : tenants_) {
    std::lock_guard<std::mutex> tl(t->mu);
    if (t->active) s.tenants.push_back(t->spec);
  }
  return s;
}

EngineReport Engine::Shutdown(Milliseconds drain_deadline) {
  std::lock_guard<std::mutex> control(control_mu_);
  std::vector<std::shared_ptr<Tenant>> active;
  {
    std::lock_guard<std::mutex> lk(tenants_mu_);
    if (final_report_) return *final_report_;
    if (!started_) {
      stopped_ = started_ = true;
      start_time_ = window_start_ = stop_time_ = Steady::now();
      start_utc_ = window_start_utc_ = UtcNow(clock_);
    }
    for (const auto& t : tenants_) {
      std::lock_guard<std::mutex> tl(t->mu);
      if (t->active) active.push_back(t);
    }
  }
  for (auto& t : active) StopSource(t.get());
  auto deadline = Steady::now() + std::chrono::duration_cast<Steady::duration>(
                                      std::chrono::duration<double, std::milli>(drain_deadline.value()));
  for (auto& t : active) t->pipeline->stages[0].queue->Close();  // all drain in parallel
  for (auto& t : active) DrainAndJoin(t->pipeline.get(), deadline, "shutdown");
  SteadyTime now = Steady::now();
  for (auto& t : active) {
    std::lock_guard<std::mutex> tl(t->mu);
    t->pipeline.reset();
    t->active = false;
    t->removed = now;
  }
  {
    std::lock_guard<std::mutex> lk(tenants_mu_);
    stopped_ = true;
    stop_time_ = now;
  }
  auto report = std::make_unique<EngineReport>(MakeReport(false, false));
  std::lock_guard<std::mutex> lk(tenants_mu_);
  final_report_ = std::move(report);
  return *final_report_;
}

std::vector<RequestRecord> Engine::TakeRequestLog() {
  std::lock_guard<std::mutex> lk(log_mu_);
  std::vector<RequestRecord> out;
  out.swap(log_);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reports.

EngineReport Engine::Report() const { return MakeReport(false, false); }
EngineReport Engine::TakeWindow() { return MakeReport(true, true); }

EngineReport Engine::MakeReport(bool window, bool reset_window) const {
  std::lock_guard<std::mutex> lk(tenants_mu_);
  EngineReport rep;
  rep.window = window;
  SteadyTime now = Steady::now();
  SteadyTime end = stopped_ ? stop_time_ : now;
  SteadyTime begin = window ? window_start_ : start_time_;
  if (!started_) begin = end = now;
  rep.period_start = window ? window_start_utc_ : start_utc_;
  rep.elapsed_s = std::max(0.0, MsBetween(begin, end) / 1000.0);
  std::map<std::string, int> stages_on_unit;

  for (const auto& t : tenants_) {
    std::lock_guard<std::mutex> tl(t->mu);
    TenantReport r;
    r.name = t->spec.name;
    r.model = t->spec.model;
    r.pipeline = FormatStages(t->spec.stages);
    r.source = t->spec.source;
    r.slo = t->spec.slo;
    r.active = t->active;
    r.generation = t->generation;
    const Counters& c = window ? t->window : t->total;
    r.submitted = c.submitted;
    r.completed = c.completed;
    r.rejected = c.rejected;
    r.dropped = c.dropped;
    r.rejected_by_reason = c.rejected_by_reason;
    r.dropped_by_reason = c.dropped_by_reason;
    r.reconfigurations = c.reconfigurations;
    r.in_flight = t->in_flight;
    if (window) {
      std::vector<double> samples = t->window_ms;
      r.latency = SummarizeExact(samples);
      r.slo_percentile_ms = ExactPercentile(samples, t->spec.slo.percentile);
    } else {
      r.latency = t->histogram.Summary();
      r.slo_percentile_ms = t->histogram.Percentile(t->spec.slo.percentile);
    }
    SteadyTime tb = std::max(begin, t->added);
    SteadyTime te = t->active ? end : std::min(end, t->removed);
    r.active_s = te > tb ? MsBetween(tb, te) / 1000.0 : 0.0;
    r.throughput_rps = r.active_s > 0 ? static_cast<double>(r.completed) / r.active_s : 0.0;
    if (r.completed > 0) {
      r.slo_met = r.slo_percentile_ms <= t->spec.slo.latency_bound.value() &&
                  r.throughput_rps >= t->spec.slo.min_throughput_rps;
    }
    // Stages placed now; after Shutdown, those placed when the engine stopped.
    if (t->active || (stopped_ && t->removed == stop_time_)) {
      for (const StageSpec& s : t->spec.stages) ++stages_on_unit[s.unit];
    }
    if (reset_window) {
      t->window = Counters{};
      t->window_ms.clear();
    }
    rep.tenants.push_back(std::move(r));
  }
  for (const auto& u : unit_state_) {
    std::lock_guard<std::mutex> ul(u->mu);
    UnitReport r;
    r.name = u->info.name;
    r.cpu_id = u->info.cpu_id;
    r.online = online_.empty() || std::find(online_.begin(), online_.end(), u->info.name) != online_.end();
    r.stages = stages_on_unit[u->info.name];
    double busy = u->BusyUpTo(end);
    r.busy_ms = window ? busy - u->window_busy_base : busy;
    r.cpu_ms = window ? u->cpu_ms - u->window_cpu_base : u->cpu_ms;
    r.utilization = rep.elapsed_s > 0 ? r.busy_ms / (rep.elapsed_s * 1000.0) : 0.0;
    if (reset_window) {
      u->window_busy_base = busy;
      u->window_cpu_base = u->cpu_ms;
    }
    rep.units.push_back(std::move(r));
  }
  if (reset_window) {
    window_start_ = end;
    window_start_utc_ = UtcNow(clock_);
  }
  return rep;
}

nlohmann::json ToJson(const EngineReport& r) {
  nlohmann::json tenants = nlohmann::json::array();
  for (const TenantReport& t : r.tenants) {
    nlohmann::json source;
    if (t.source.kind == SourceSpec::Kind::kPoisson) {
      source = {{"kind", "poisson"}, {"rate_rps", t.source.rate_rps}};
    } else {
      source = {{"kind", "closed"}, {"outstanding", t.source.outstanding}};
    }
    tenants.push_back({{"name", t.name},
                       {"model", t.model},
                       {"pipeline", t.pipeline},
                       {"source", source},
                       {"active", t.active},
                       {"submitted", t.submitted},
                       {"completed", t.completed},
                       {"rejected", t.rejected},
                       {"dropped", t.dropped},
                       {"in_flight", t.in_flight},
                       {"rejected_reasons", t.rejected_by_reason},
                       {"dropped_reasons", t.dropped_by_reason},
                       {"p50_ms", t.latency.p50_ms},
                       {"p95_ms", t.latency.p95_ms},
                       {"p99_ms", t.latency.p99_ms},
                       {"mean_ms", t.latency.mean_ms},
                       {"max_ms", t.latency.max_ms},
                       {"slo_latency_ms", t.slo.latency_bound.value()},
                       {"slo_percentile", t.slo.percentile},
                       {"slo_percentile_ms", t.slo_percentile_ms},
                       {"min_throughput_rps", t.slo.min_throughput_rps},
                       {"slo_met", t.slo_met},
                       {"throughput_rps", t.throughput_rps},
                       {"active_s", t.active_s},
                       {"reconfigurations", t.reconfigurations},
                       {"generation", t.generation}});
  }
  nlohmann::json units = nlohmann::json::array();
  for (const UnitReport& u : r.units) {
    units.push_back({{"name", u.name},
                     {"cpu", u.cpu_id},
                     {"online", u.online},
                     {"stages", u.stages},
                     {"busy_ms", u.busy_ms},
                     {"cpu_ms", u.cpu_ms},
                     {"utilization", u.utilization}});
  }
  return {{"measured", true},
          {"window", r.window},
          {"period_start", FormatIso8601(r.period_start)},
          {"elapsed_s", r.elapsed_s},
          {"tenants", tenants},
          {"units", units}};
}

}  // namespace ecomap::engine
