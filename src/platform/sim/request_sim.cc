#include "platform/sim/request_sim.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <queue>
#include <random>

namespace ecomap::platform::sim {
namespace {

enum class EventKind : uint8_t { kArrival, kTransferDone, kSliceDone, kPsDone };

struct Event {
  double time;
  uint64_t seq;  // FIFO among equal times: determinism independent of the heap
  EventKind kind;
  int a;         // tenant (arrival), request (transfer), unit (slice/ps)
  uint64_t b;    // ps: version
  bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};

struct Request {
  int tenant = 0;
  int segment = 0;
  double arrival = 0;
  double remaining = 0;  // service time left on the current unit (s)
  double draw = 0;       // bandwidth drawn while served (bytes/s)
  bool started = false;  // current segment's service time drawn
};

struct UnitState {
  bool busy = false;
  int job = -1;                        // FIFO / time-slice: request in service
  int context = -1;                    // time-slice: tenant whose context is loaded
  double slice_end_work = 0;           // time-slice: work done by the slice in service
  std::deque<int> fifo;                // FIFO queue
  std::vector<std::deque<int>> ctx;    // time-slice: per-tenant queues
  int rr = 0;                          // time-slice: next tenant to look at
  std::vector<int> ps;                 // processor sharing: requests in service
  double ps_last = 0;
  uint64_t ps_version = 0;
  double draw = 0;                     // bandwidth drawn now
  double busy_since = -1;              // for busy-time accounting
};

class Simulator {
 public:
  Simulator(const Network& net, const RunOptions& o)
      : net_(net), o_(o), rng_(o.seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL) {
    const size_t nu = net.units.size(), nt = net.tenants.size();
    units_.resize(nu);
    for (UnitState& u : units_) u.ctx.resize(nt);
    sigma_.resize(nu);
    for (size_t u = 0; u < nu; ++u) {
      const double cv = std::max(0.0, net.units[u].cv);
      sigma_[u] = std::sqrt(std::log1p(cv * cv));
    }
    busy_.assign(nu, 0.0);
    unit_energy_.assign(nu, 0.0);
    outstanding_.assign(nt, 0);
    lat_.resize(nt);
    completed_.assign(nt, 0);
    arrived_.assign(nt, 0);
    dropped_.assign(nt, 0);
    backlog_start_.assign(nt, 0);
    nominal_.resize(nt);
    for (size_t t = 0; t < nt; ++t) {
      for (const SegmentSpec& s : net.tenants[t].segments) {
        double time = s.overhead_s, bytes = s.transfer_bytes;
        for (const BlockSpec& b : s.blocks) {
          time += std::max(b.compute_s, b.memory_s);
          bytes += b.bytes;
        }
        nominal_[t].push_back({time, bytes});
      }
    }
  }

  RunResult Run() {
    double start = o_.warmup_s;
    end_ = o_.warmup_s + o_.window_s;
    for (size_t t = 0; t < net_.tenants.size(); ++t) {
      const TenantSpec& ts = net_.tenants[t];
      if (ts.open) {
        Push(Exp(ts.rate_rps), EventKind::kArrival, static_cast<int>(t));
      } else {
        for (int k = 0; k < ts.concurrency; ++k) NewRequest(static_cast<int>(t), 0.0);
      }
    }
    while (!events_.empty()) {
      const Event e = events_.top();
      if (!in_window_ && o_.max_events > 0 && processed_ >= o_.max_events / 4) {
        start = now_;  // warm-up cut short
        end_ = start + o_.window_s;
      }
      if (!in_window_ && e.time >= start) OpenWindow(start);
      if (e.time > end_) {
        if (NeedsMore() && end_ < start + o_.max_window_s) {
          end_ = std::min(start + o_.max_window_s, end_ + o_.window_s);
          continue;
        }
        break;
      }
      events_.pop();
      now_ = e.time;
      ++processed_;
      switch (e.kind) {
        case EventKind::kArrival: {
          const TenantSpec& ts = net_.tenants[static_cast<size_t>(e.a)];
          if (in_window_) ++arrived_[static_cast<size_t>(e.a)];
          if (ts.max_outstanding > 0 && outstanding_[static_cast<size_t>(e.a)] >= ts.max_outstanding) {
            if (in_window_) ++dropped_[static_cast<size_t>(e.a)];
          } else {
            NewRequest(e.a, now_);
          }
          Push(now_ + Exp(ts.rate_rps), EventKind::kArrival, e.a);
          break;
        }
        case EventKind::kTransferDone:
          Enter(e.a);
          break;
        case EventKind::kSliceDone:
          SliceDone(e.a);
          break;
        case EventKind::kPsDone:
          if (e.b == units_[static_cast<size_t>(e.a)].ps_version) PsDone(e.a);
          break;
      }
      if (in_window_ && ((o_.max_completions > 0 && window_completions_ >= o_.max_completions && !NeedsMore()) ||
                         (o_.max_events > 0 && processed_ >= o_.max_events))) {
        end_ = now_;
        break;
      }
    }
    if (!in_window_) OpenWindow(start);
    now_ = end_;
    return Finish(start);
  }

 private:
  struct Nominal {
    double time, bytes;
  };

  // A tenant has fewer completions in the window than the options ask for.
  bool NeedsMore() const {
    if (o_.min_completions_per_tenant <= 0) return false;
    for (int64_t c : completed_) {
      if (c < o_.min_completions_per_tenant) return true;
    }
    return false;
  }

  // When unit u can start work that is ready now.
  double StartTime(int u) const {
    const UnitSpec& s = net_.units[static_cast<size_t>(u)];
    return now_ >= s.pause_begin_s && now_ < s.pause_end_s ? s.pause_end_s : now_;
  }

  void Push(double t, EventKind k, int a, uint64_t b = 0) { events_.push(Event{t, seq_++, k, a, b}); }
  double Exp(double rate) { return -std::log(1.0 - Uniform()) / rate; }
  double Uniform() { return static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0); }
  double Normal() {
    constexpr double kTwoPi = 6.283185307179586;
    double u1 = Uniform() + 1e-300, u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
  }

  void OpenWindow(double start) {
    in_window_ = true;
    window_start_ = start;
    window_completions_ = 0;
    bytes_ = 0;
    emc_energy_ = 0;
    host_cpu_s_ = 0;
    for (size_t u = 0; u < units_.size(); ++u) {
      busy_[u] = 0;
      unit_energy_[u] = 0;
      if (units_[u].busy_since >= 0) units_[u].busy_since = start;
    }
    for (size_t t = 0; t < outstanding_.size(); ++t) backlog_start_[t] = outstanding_[t];
  }

  int NewRequest(int tenant, double t) {
    int id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      id = static_cast<int>(reqs_.size());
      reqs_.emplace_back();
    }
    Request& r = reqs_[static_cast<size_t>(id)];
    r = Request{tenant, 0, t, 0, 0, false};
    ++outstanding_[static_cast<size_t>(tenant)];
    const double overhead = net_.tenants[static_cast<size_t>(tenant)].overhead_s;
    BeginTransfer(id, overhead);
    return id;
  }

  // A transfer (or the request overhead) of `fixed` seconds plus the segment's transfer bytes.
  void BeginTransfer(int id, double fixed) {
    Request& r = reqs_[static_cast<size_t>(id)];
    const SegmentSpec& seg = net_.tenants[static_cast<size_t>(r.tenant)].segments[static_cast<size_t>(r.segment)];
    double d = fixed + seg.transfer_fixed_s;
    if (seg.transfer_bytes > 0) {
      const double u = TotalDraw() / net_.emc_bytes_per_s;
      d += seg.transfer_bytes / net_.emc_bytes_per_s * EmcSlowdown(u);
      CountBytes(seg.transfer_bytes);
    }
    if (d <= 0) {
      Enter(id);
    } else {
      Push(now_ + d, EventKind::kTransferDone, id);
    }
  }

  void CountBytes(double b) {
    if (in_window_) {
      bytes_ += b;
      emc_energy_ += b * net_.emc_j_per_byte;
    }
  }

  double TotalDraw() const {
    double s = 0;
    for (const UnitState& u : units_) s += u.draw;
    return s;
  }

  // Draws the service time of request `id`'s current segment given the EMC load now.
  void DrawService(int id) {
    Request& r = reqs_[static_cast<size_t>(id)];
    const SegmentSpec& seg = net_.tenants[static_cast<size_t>(r.tenant)].segments[static_cast<size_t>(r.segment)];
    const UnitSpec& us = net_.units[static_cast<size_t>(seg.unit)];
    const Nominal& nom = nominal_[static_cast<size_t>(r.tenant)][static_cast<size_t>(r.segment)];
    const double own = nom.time > 0 ? std::min(nom.bytes / nom.time, us.bandwidth_share * net_.emc_bytes_per_s) : 0;
    double others = 0;
    for (size_t u = 0; u < units_.size(); ++u) {
      if (static_cast<int>(u) != seg.unit) others += units_[u].draw;
    }
    const double slow = EmcSlowdown((others + own) / net_.emc_bytes_per_s);
    double t = seg.overhead_s;
    for (const BlockSpec& b : seg.blocks) t += std::max(b.compute_s, b.memory_s * slow);
    if (sigma_[static_cast<size_t>(seg.unit)] > 0) {
      const double s = sigma_[static_cast<size_t>(seg.unit)];
      t *= std::exp(s * Normal() - 0.5 * s * s);  // log-normal, mean 1
    }
    r.remaining = t;
    r.draw = own;
    r.started = true;
    CountBytes(nom.bytes - seg.transfer_bytes);
    if (in_window_) host_cpu_s_ += seg.host_cpu_s;
  }

  // Request `id` arrives at the unit of its current segment.
  void Enter(int id) {
    Request& r = reqs_[static_cast<size_t>(id)];
    r.started = false;
    const int u = net_.tenants[static_cast<size_t>(r.tenant)].segments[static_cast<size_t>(r.segment)].unit;
    UnitState& us = units_[static_cast<size_t>(u)];
    switch (net_.units[static_cast<size_t>(u)].discipline) {
      case Discipline::kFifo:
        us.fifo.push_back(id);
        if (!us.busy) StartNext(u);
        break;
      case Discipline::kTimeSlice:
        us.ctx[static_cast<size_t>(r.tenant)].push_back(id);
        if (!us.busy) StartNext(u);
        break;
      case Discipline::kProcessorSharing:
        PsAdvance(u);
        DrawService(id);
        us.ps.push_back(id);
        PsSchedule(u);
        break;
    }
  }

  void SetBusy(int u, bool busy) {
    UnitState& us = units_[static_cast<size_t>(u)];
    if (busy && us.busy_since < 0) {
      us.busy_since = StartTime(u);
    } else if (!busy && us.busy_since >= 0) {
      AccountBusy(u, us.busy_since, now_);
      us.busy_since = -1;
    }
    us.busy = busy;
  }

  void AccountBusy(int u, double from, double to) {
    from = std::max(from, window_start_);
    to = std::min(to, end_);
    if (!in_window_ || to <= from) return;
    busy_[static_cast<size_t>(u)] += to - from;
    unit_energy_[static_cast<size_t>(u)] += (to - from) * net_.units[static_cast<size_t>(u)].busy_w;
  }

  // FIFO / time-slice: start the next job or slice, if any.
  void StartNext(int u) {
    UnitState& us = units_[static_cast<size_t>(u)];
    const UnitSpec& spec = net_.units[static_cast<size_t>(u)];
    const double from = StartTime(u);
    if (spec.discipline == Discipline::kFifo) {
      if (us.fifo.empty()) {
        us.draw = 0;
        SetBusy(u, false);
        return;
      }
      const int id = us.fifo.front();
      us.fifo.pop_front();
      DrawService(id);
      us.job = id;
      us.draw = reqs_[static_cast<size_t>(id)].draw;
      SetBusy(u, true);
      Push(from + reqs_[static_cast<size_t>(id)].remaining, EventKind::kSliceDone, u);
      reqs_[static_cast<size_t>(id)].remaining = 0;
      return;
    }
    // Time-slice: round robin over the contexts with work, starting after the last served.
    const int nt = static_cast<int>(us.ctx.size());
    int pick = -1;
    for (int k = 0; k < nt; ++k) {
      const int t = (us.rr + k) % nt;
      if (!us.ctx[static_cast<size_t>(t)].empty()) {
        pick = t;
        break;
      }
    }
    if (pick < 0) {
      us.draw = 0;
      us.job = -1;
      SetBusy(u, false);
      return;
    }
    const int id = us.ctx[static_cast<size_t>(pick)].front();
    Request& r = reqs_[static_cast<size_t>(id)];
    if (!r.started) DrawService(id);
    double switch_cost = 0;
    if (us.context != pick && us.context >= 0) switch_cost = spec.switch_s;
    us.context = pick;
    const double slice = std::min(r.remaining, spec.quantum_s);
    us.job = id;
    us.slice_end_work = slice;
    us.draw = r.draw;
    SetBusy(u, true);
    Push(from + switch_cost + slice, EventKind::kSliceDone, u);
  }

  void SliceDone(int u) {
    UnitState& us = units_[static_cast<size_t>(u)];
    const UnitSpec& spec = net_.units[static_cast<size_t>(u)];
    const int id = us.job;
    Request& r = reqs_[static_cast<size_t>(id)];
    if (spec.discipline == Discipline::kTimeSlice) {
      r.remaining -= us.slice_end_work;
      std::deque<int>& q = us.ctx[static_cast<size_t>(r.tenant)];
      if (r.remaining > 1e-12) {
        // Not finished: the next context with work gets the unit (or this one again).
        us.rr = (r.tenant + 1) % static_cast<int>(us.ctx.size());
        bool others = false;
        for (size_t t = 0; t < us.ctx.size(); ++t) others |= t != static_cast<size_t>(r.tenant) && !us.ctx[t].empty();
        if (!others) us.rr = r.tenant;
        StartNext(u);
        return;
      }
      q.pop_front();
      us.rr = (r.tenant + 1) % static_cast<int>(us.ctx.size());
    }
    us.job = -1;
    Advance(id);
    StartNext(u);
  }

  // Processor sharing: bring every job's remaining time up to now.
  void PsAdvance(int u) {
    UnitState& us = units_[static_cast<size_t>(u)];
    const size_t n = us.ps.size();
    if (n > 0) {
      const double rate = PsRate(u, n);
      const UnitSpec& spec = net_.units[static_cast<size_t>(u)];
      double dt = now_ - us.ps_last;
      // No progress inside a pause.
      const double overlap = std::min(now_, spec.pause_end_s) - std::max(us.ps_last, spec.pause_begin_s);
      if (overlap > 0) dt -= overlap;
      dt = std::max(0.0, dt);
      for (int id : us.ps) reqs_[static_cast<size_t>(id)].remaining -= dt * rate;
    }
    us.ps_last = now_;
  }

  double PsRate(int u, size_t n) const {
    return 1.0 / (static_cast<double>(n) * (1.0 + net_.units[static_cast<size_t>(u)].share_overhead * (n - 1)));
  }

  void PsSchedule(int u) {
    UnitState& us = units_[static_cast<size_t>(u)];
    ++us.ps_version;
    if (us.ps.empty()) {
      us.draw = 0;
      SetBusy(u, false);
      return;
    }
    double least = 1e300, draw = 0;
    for (int id : us.ps) {
      least = std::min(least, reqs_[static_cast<size_t>(id)].remaining);
      draw += reqs_[static_cast<size_t>(id)].draw;
    }
    us.draw = draw / static_cast<double>(us.ps.size());
    SetBusy(u, true);
    const double start = StartTime(u);
    Push(start + std::max(0.0, least) / PsRate(u, us.ps.size()), EventKind::kPsDone, u, us.ps_version);
  }

  void PsDone(int u) {
    UnitState& us = units_[static_cast<size_t>(u)];
    PsAdvance(u);
    std::vector<int> done;
    for (size_t k = 0; k < us.ps.size();) {
      const int id = us.ps[k];
      if (reqs_[static_cast<size_t>(id)].remaining <= 1e-12) {
        done.push_back(id);
        us.ps[k] = us.ps.back();
        us.ps.pop_back();
      } else {
        ++k;
      }
    }
    std::sort(done.begin(), done.end());
    PsSchedule(u);
    for (int id : done) Advance(id);
  }

  // Request `id` finished its current segment: transfer to the next one, or complete.
  void Advance(int id) {
    Request& r = reqs_[static_cast<size_t>(id)];
    const TenantSpec& ts = net_.tenants[static_cast<size_t>(r.tenant)];
    if (r.segment + 1 < static_cast<int>(ts.segments.size())) {
      ++r.segment;
      BeginTransfer(id, 0.0);
      return;
    }
    const int t = r.tenant;
    if (in_window_ && r.arrival >= window_start_) {
      lat_[static_cast<size_t>(t)].push_back(now_ - r.arrival);
    }
    if (in_window_) {
      ++completed_[static_cast<size_t>(t)];
      ++window_completions_;
    }
    --outstanding_[static_cast<size_t>(t)];
    free_.push_back(id);
    if (!ts.open) NewRequest(t, now_);
  }

  static double Quantile(std::vector<double>& v, double q) {
    if (v.empty()) return 0;
    // Nearest rank: the smallest value with at least q of the sample at or below it.
    const double rank = std::ceil(q * static_cast<double>(v.size()));
    const size_t k = std::min(v.size() - 1, static_cast<size_t>(std::max(1.0, rank)) - 1);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
  }

  RunResult Finish(double start) {
    const double window = std::max(1e-9, end_ - start);
    RunResult res;
    res.window_s = window;
    res.events = processed_;
    // Close busy periods at the end of the window.
    for (size_t u = 0; u < units_.size(); ++u) {
      if (units_[u].busy_since >= 0) AccountBusy(static_cast<int>(u), units_[u].busy_since, end_);
    }
    // Open-loop requests that arrived in the window and are still in the system: their latency
    // is at least the time they have waited (censored at the end of the window).
    std::vector<char> is_free(reqs_.size(), 0);
    for (int f : free_) is_free[static_cast<size_t>(f)] = 1;
    for (size_t id = 0; id < reqs_.size(); ++id) {
      if (is_free[id]) continue;
      const Request& r = reqs_[id];
      if (r.arrival >= start && net_.tenants[static_cast<size_t>(r.tenant)].open) {
        lat_[static_cast<size_t>(r.tenant)].push_back(end_ - r.arrival);
      }
    }
    for (size_t t = 0; t < net_.tenants.size(); ++t) {
      const TenantSpec& ts = net_.tenants[t];
      TenantResult tr;
      tr.name = ts.name;
      std::vector<double>& v = lat_[t];
      double sum = 0;
      for (double x : v) sum += x;
      tr.mean_s = v.empty() ? 0 : sum / static_cast<double>(v.size());
      tr.p50_s = Quantile(v, 0.50);
      tr.p90_s = Quantile(v, 0.90);
      tr.p95_s = Quantile(v, 0.95);
      tr.p99_s = Quantile(v, 0.99);
      tr.completed = completed_[t];
      tr.arrived = arrived_[t];
      tr.dropped = dropped_[t];
      tr.throughput_rps = static_cast<double>(completed_[t]) / window;
      tr.backlog_end = outstanding_[t];
      if (ts.open) {
        const double growth = static_cast<double>(outstanding_[t] - backlog_start_[t]);
        tr.saturated = tr.dropped > 0 || growth > std::max(10.0, 0.02 * static_cast<double>(tr.arrived));
      }
      res.tenants.push_back(std::move(tr));
    }
    double dynamic = 0;
    res.unit_busy.resize(units_.size());
    res.unit_energy_j = unit_energy_;
    for (size_t u = 0; u < units_.size(); ++u) {
      res.unit_busy[u] = std::clamp(busy_[u] / window, 0.0, 1.0);
      dynamic += unit_energy_[u];
    }
    // Host CPU time to submit accelerator work, on top of whatever the CPU unit does.
    if (net_.cpu_unit >= 0) {
      const double cpu_busy = res.unit_busy[static_cast<size_t>(net_.cpu_unit)];
      const double extra = std::min(host_cpu_s_, std::max(0.0, 1.0 - cpu_busy) * window);
      dynamic += extra * net_.host_cpu_busy_w;
      res.unit_energy_j[static_cast<size_t>(net_.cpu_unit)] += extra * net_.host_cpu_busy_w;
    }
    res.emc_energy_j = emc_energy_;
    res.emc_utilisation = bytes_ / (net_.emc_bytes_per_s * window);
    res.energy_j = net_.idle_w * window + dynamic + emc_energy_;
    res.mean_power_w = res.energy_j / window;
    return res;
  }

  const Network& net_;
  RunOptions o_;
  std::mt19937_64 rng_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t seq_ = 0;
  double now_ = 0, end_ = 0, window_start_ = 0;
  bool in_window_ = false;
  int64_t processed_ = 0, window_completions_ = 0;
  std::vector<Request> reqs_;
  std::vector<int> free_;
  std::vector<UnitState> units_;
  std::vector<double> sigma_, busy_, unit_energy_;
  std::vector<std::vector<Nominal>> nominal_;
  std::vector<int64_t> outstanding_, completed_, arrived_, dropped_, backlog_start_;
  std::vector<std::vector<double>> lat_;
  double bytes_ = 0, emc_energy_ = 0, host_cpu_s_ = 0;
};

}  // namespace

double EmcSlowdown(double u) {
  // Loaded-latency curve of a DRAM controller: flat at low load, rising steeply towards the
  // bandwidth limit, then bandwidth-bound (time proportional to demand / bandwidth).
  if (u <= 0) return 1.0;
  constexpr double kKnee = 0.9;
  if (u <= kKnee) return 1.0 + 0.25 * u * u / (1.0 - 0.8 * u);
  const double at_knee = 1.0 + 0.25 * kKnee * kKnee / (1.0 - 0.8 * kKnee);
  return at_knee * u / kKnee;
}

RunResult Run(const Network& net, const RunOptions& options) { return Simulator(net, options).Run(); }

}  // namespace ecomap::platform::sim
