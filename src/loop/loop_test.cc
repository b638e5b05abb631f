// Tests of the control loop and its accounting with plugs whose figures are computed by hand:
// the order of one Tick, what is fed back and when not, strict (replay) against tolerant
// (serve) handling of failures, carbon held over an outage, and the one SLO verdict.
#include "loop/control_loop.h"

#include <gtest/gtest.h>

#include <chrono>

#include "loop/accounting.h"
#include "policy/tenant.h"

namespace ecomap::loop {
namespace {

using platform::ArrivalKind;
using platform::Configuration;
using platform::Performance;

const TimePoint kStart = *ParseTimestamp("2023-03-01");

policy::TenantSpec Spec(const std::string& name, double slo_ms = 50, double rate = 10) {
  policy::TenantSpec s;
  s.name = name;
  s.family = "resnet";
  s.slo_p95 = Milliseconds(slo_ms);
  s.arrival = ArrivalKind::kOpenLoop;
  s.rate_rps = rate;
  return s;
}

// Decides every tenant of the demand on resnet18, all on the GPU; records what it was given.
class RecordingController final : public policy::Controller {
 public:
  std::string name() const override { return "recording"; }
  StatusOr<policy::Decision> Step(const policy::ControlInput& in) override {
    inputs.push_back(in);
    if (fail) return Internal("planned failure");
    policy::Decision d;
    d.config.power_mode = mode;
    for (const auto& t : in.tenants) {
      platform::TenantConfig tc;
      tc.name = t.name;
      tc.model = "resnet18";
      tc.stages = {{0, 7, "GPU"}};
      d.config.tenants.push_back(tc);
    }
    d.threshold = Watts(20);
    d.replanned = inputs.size() == 1;
    d.reason = "step " + std::to_string(inputs.size());
    return d;
  }
  std::vector<policy::ControlInput> inputs;
  bool fail = false;
  int mode = 1;
};

carbon::CarbonReading Reading(TimePoint t, double g) {
  carbon::CarbonReading r;
  r.time = t;
  r.intensity = GramsPerKwh(g);
  r.source = "stepping";
  return r;
}

// Intensity 100, 200, 300, ... per call of Latest; fails on request.
class SteppingCarbon final : public carbon::CarbonSource {
 public:
  std::string Name() const override { return "stepping"; }
  StatusOr<carbon::CarbonReading> Latest(TimePoint now) override {
    if (fail) return Unavailable("provider down");
    ++calls;
    return Reading(now, 100.0 * calls);
  }
  StatusOr<std::vector<carbon::CarbonReading>> Forecast(TimePoint now, Duration) override {
    return std::vector<carbon::CarbonReading>{Reading(now, 1), Reading(now, 2)};
  }
  int calls = 0;
  bool fail = false;
};

// 10 W; every tenant at `throughput` req/s with p95 `p95_ms`.
class FakeWorld final : public Actuator, public Meter {
 public:
  StatusOr<Applied> Apply(const policy::Decision& d, const std::vector<policy::TenantSpec>&) override {
    ++applies;
    if (fail_apply) return Unavailable("engine down");
    return Applied{d.config, "note"};
  }
  Status Clear() override {
    ++clears;
    return Status::Ok();
  }
  StatusOr<Measurement> Measure(const Request& r) override {
    Measurement m;
    m.window = r.elapsed;
    m.perf.power = Watts(10);
    if (r.config != nullptr) {
      m.config = *r.config;
      m.demand = *r.demand;
      for (const auto& t : r.config->tenants) {
        m.perf.tenants.push_back({t.name, Milliseconds(1), Milliseconds(p95_ms), throughput, false});
      }
      m.feedback = m.perf;
    }
    return m;
  }
  int applies = 0, clears = 0;
  bool fail_apply = false;
  double throughput = 10, p95_ms = 20;
};

struct Rig {
  RecordingController controller;
  SteppingCarbon* carbon = nullptr;
  FakeWorld world;
  std::vector<policy::TenantSpec> demand = {Spec("cam")};
  std::vector<DecisionEvent> events;
  std::unique_ptr<ControlLoop> loop;

  explicit Rig(bool strict, bool allow_no_tenants = false) {
    LoopPlugs p;
    p.clock = std::make_unique<SimulatedClock>(kStart);
    auto c = std::make_unique<SteppingCarbon>();
    carbon = c.get();
    p.carbon = std::move(c);
    p.demand = [this](TimePoint) { return demand; };
    p.controller = &controller;
    p.actuator = &world;
    p.meter = &world;
    p.on_decision = [this](const DecisionEvent& e) { events.push_back(e); };
    LoopOptions o;
    o.interval = std::chrono::minutes(30);
    o.strict = strict;
    o.allow_no_tenants = allow_no_tenants;
    loop = std::move(ControlLoop::Create(std::move(p), o)).value();
  }
};

TEST(ControlLoopTest, TickDecidesWaitsMeasuresAccountsAndFeedsBack) {
  Rig rig(/*strict=*/true);
  StatusOr<IntervalOutcome> a = rig.loop->Tick();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->start, kStart);
  EXPECT_EQ(a->end, kStart + std::chrono::minutes(30));
  // 10 W for 30 min at 100 g/kWh: 5 Wh, 0.5 g; c = 10 W x 100 g/kWh / 10 inf/s.
  EXPECT_DOUBLE_EQ(a->record.energy_wh, 5.0);
  EXPECT_NEAR(a->record.carbon_g, 0.5, 1e-12);
  EXPECT_NEAR(a->record.per_inference_g, 1.0 * 100 / 3.6e6, 1e-15);
  EXPECT_NEAR(a->record.cdp_g_s, 1.0 * 100 / 3.6e6 * 0.020, 1e-18);
  EXPECT_EQ(a->record.power_mode, 1);
  EXPECT_DOUBLE_EQ(a->record.threshold_w, 20);
  EXPECT_TRUE(a->record.replanned);
  EXPECT_EQ(a->record.reason, "step 1");
  EXPECT_EQ(a->record.slo_violations, 0);
  ASSERT_EQ(a->decisions.size(), 1u);
  EXPECT_TRUE(a->decisions[0].on_boundary);
  EXPECT_EQ(a->decisions[0].trigger, "interval");
  // The first step has no measurement; the forecast is passed on.
  ASSERT_EQ(rig.controller.inputs.size(), 1u);
  EXPECT_FALSE(rig.controller.inputs[0].measured.has_value());
  EXPECT_EQ(rig.controller.inputs[0].forecast.size(), 2u);

  StatusOr<IntervalOutcome> b = rig.loop->Tick();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->start, kStart + std::chrono::minutes(30));
  EXPECT_DOUBLE_EQ(b->record.intensity_g_per_kwh, 200);
  ASSERT_TRUE(rig.controller.inputs[1].measured.has_value());
  EXPECT_DOUBLE_EQ(rig.controller.inputs[1].measured->tenants[0].latency_p95.value(), 20);
}

TEST(ControlLoopTest, ADecisionBetweenBoundariesGetsNoMeasurementAndStopsTheFeedback) {
  Rig rig(/*strict=*/false);
  ASSERT_TRUE(rig.loop->Start().ok());
  rig.demand.push_back(Spec("txt"));
  ASSERT_TRUE(rig.loop->Decide("api").ok());
  EXPECT_FALSE(rig.controller.inputs.back().measured.has_value());
  StatusOr<IntervalOutcome> a = rig.loop->Tick();  // Start decided for this interval already
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->decisions.size(), 2u);
  EXPECT_EQ(a->decisions[0].trigger, "start");
  EXPECT_FALSE(a->decisions[1].on_boundary);
  EXPECT_EQ(a->record.tenants.size(), 2u);
  ASSERT_TRUE(rig.loop->Tick().ok());
  // The window of the first interval mixed two configurations: not fed back.
  EXPECT_FALSE(rig.controller.inputs[2].measured.has_value());
  ASSERT_TRUE(rig.loop->Tick().ok());
  EXPECT_TRUE(rig.controller.inputs[3].measured.has_value());
}

TEST(ControlLoopTest, StrictModeStopsAtAFailedDecisionTolerantModeKeepsThePreviousOne) {
  Rig strict(/*strict=*/true);
  strict.controller.fail = true;
  StatusOr<IntervalOutcome> s = strict.loop->Tick();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("interval 2023-03-01T00:00:00Z"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("planned failure"), std::string::npos);

  Rig tolerant(/*strict=*/false);
  ASSERT_TRUE(tolerant.loop->Tick().ok());
  tolerant.controller.fail = true;
  StatusOr<IntervalOutcome> t = tolerant.loop->Tick();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->decisions.size(), 1u);
  EXPECT_FALSE(t->decisions[0].status.ok());
  EXPECT_NE(t->decisions[0].reason.find("the previous configuration stays"), std::string::npos);
  ASSERT_NE(tolerant.loop->decision(), nullptr);
  EXPECT_EQ(t->record.tenants.size(), 1u);  // the previous configuration was measured

  // An actuator failure leaves the previous configuration in force too.
  tolerant.controller.fail = false;
  tolerant.world.fail_apply = true;
  tolerant.controller.mode = 3;
  StatusOr<IntervalOutcome> u = tolerant.loop->Tick();
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->decisions[0].applied);
  EXPECT_EQ(u->decisions[0].apply_note, "engine down");
  EXPECT_EQ(tolerant.loop->decision()->config.power_mode, 1);
}

TEST(ControlLoopTest, CarbonOutageHoldsThePreviousReadingMarkedStale) {
  Rig rig(/*strict=*/false);
  ASSERT_TRUE(rig.loop->Tick().ok());
  rig.carbon->fail = true;
  StatusOr<IntervalOutcome> b = rig.loop->Tick();
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->carbon.has_value());
  EXPECT_TRUE(b->carbon->stale);
  EXPECT_NE(b->carbon->note.find("provider down"), std::string::npos);
  EXPECT_DOUBLE_EQ(b->record.intensity_g_per_kwh, 100);
  EXPECT_TRUE(rig.controller.inputs.back().intensity_stale);

  // Never a reading: the decision says so; strict mode fails the Tick.
  Rig none(/*strict=*/false);
  none.carbon->fail = true;
  StatusOr<IntervalOutcome> c = none.loop->Tick();
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->decisions[0].reason.find("no carbon reading yet"), std::string::npos);
  EXPECT_FALSE(none.loop->Start().ok());
  Rig strict(/*strict=*/true);
  strict.carbon->fail = true;
  EXPECT_FALSE(strict.loop->Tick().ok());
}

TEST(ControlLoopTest, NoTenantsClearsInTolerantModeAndFailsInStrictMode) {
  Rig serve(/*strict=*/false, /*allow_no_tenants=*/true);
  ASSERT_TRUE(serve.loop->Tick().ok());
  serve.demand.clear();
  ASSERT_TRUE(serve.loop->Decide("api").ok());
  EXPECT_EQ(serve.world.clears, 1);
  EXPECT_EQ(serve.loop->decision(), nullptr);
  EXPECT_EQ(serve.events.back().reason, "no tenants declared: nothing to run");
  StatusOr<IntervalOutcome> o = serve.loop->Tick();
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->record.tenants.empty());
  EXPECT_DOUBLE_EQ(o->record.energy_wh, 5.0);  // the device still draws power

  Rig replay(/*strict=*/true);
  replay.demand.clear();
  StatusOr<IntervalOutcome> r = replay.loop->Tick();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no tenants"), std::string::npos);
}

TEST(ControlLoopTest, AnIntervalThatServedNothingIsAnErrorOnlyInStrictMode) {
  Rig serve(/*strict=*/false);
  serve.world.throughput = 0;
  StatusOr<IntervalOutcome> o = serve.loop->Tick();
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->record.served);
  EXPECT_EQ(o->record.per_inference_g, 0);
  EXPECT_EQ(o->record.cdp_g_s, 0);
  Rig replay(/*strict=*/true);
  replay.world.throughput = 0;
  EXPECT_FALSE(replay.loop->Tick().ok());
}

TEST(ControlLoopTest, CreateRejectsMissingPlugs) {
  LoopPlugs p;
  EXPECT_FALSE(ControlLoop::Create(std::move(p), LoopOptions{}).ok());
  Rig rig(true);
  LoopPlugs q;
  q.clock = std::make_unique<SimulatedClock>(kStart);
  q.carbon = std::make_unique<SteppingCarbon>();
  q.demand = [](TimePoint) { return std::vector<policy::TenantSpec>{}; };
  q.controller = &rig.controller;
  q.actuator = &rig.world;
  q.meter = &rig.world;
  LoopOptions zero;
  zero.interval = Duration(0);
  StatusOr<std::unique_ptr<ControlLoop>> z = ControlLoop::Create(std::move(q), zero);
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.status().message().find("interval"), std::string::npos);
}

TEST(JudgeSloTest, OneVerdictWithItsReason) {
  policy::TenantSpec s = Spec("cam", 10);
  s.min_throughput_rps = 5;
  auto judge = [&](double p95, bool saturated, double tp) {
    return policy::JudgeSlo(s, {"cam", Milliseconds(1), Milliseconds(p95), tp, saturated});
  };
  EXPECT_FALSE(judge(10.0, false, 5).violated);  // at the SLO and at the minimum: met
  EXPECT_EQ(judge(10.04, false, 6).why, "p95 10.0 > 10.0 ms");
  EXPECT_EQ(judge(5, true, 6).why, "saturated");
  EXPECT_EQ(judge(5, false, 4).why, "throughput 4.0 < 5.0 req/s");
  EXPECT_EQ(judge(50, true, 0).why, "saturated");  // the first rule that fails
}

TEST(AccountIntervalTest, ZeroWindowAndBadWindowsAreHandled) {
  Configuration c;
  c.tenants = {{.name = "cam", .model = "resnet18", .stages = {{0, 7, "GPU"}}}};
  Performance p;
  p.power = Watts(4);
  p.tenants = {{"cam", Milliseconds(1), Milliseconds(2), 3, false}};
  StatusOr<IntervalRecord> zero = AccountInterval({Spec("cam")}, c, p, GramsPerKwh(100), Seconds(0));
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->energy_j, 0);
  EXPECT_FALSE(AccountInterval({Spec("cam")}, c, p, GramsPerKwh(100), Seconds(-1)).ok());
  StatusOr<IntervalRecord> r = AccountInterval({Spec("cam")}, c, p, GramsPerKwh(100), Seconds(2.5));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->energy_j, 10);
  EXPECT_DOUBLE_EQ(r->requests, 25);  // open loop: the demand's 10 req/s
}

TEST(AccountIntervalTest, CountsGoodAndDroppedRequests) {
  Configuration c;
  c.tenants = {{.name = "cam", .model = "resnet18", .stages = {{0, 7, "GPU"}}},
               {.name = "mic", .model = "resnet18", .stages = {{0, 7, "GPU"}}}};
  Performance p;
  p.power = Watts(4);
  // cam: 8 of its 10 req/s served within the SLO; mic: all 10 served but p95 60 > 50 ms.
  p.tenants = {{"cam", Milliseconds(1), Milliseconds(20), 8, true},
               {"mic", Milliseconds(1), Milliseconds(60), 10, false}};
  StatusOr<IntervalRecord> r = AccountInterval({Spec("cam"), Spec("mic")}, c, p, GramsPerKwh(100), Seconds(10));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->tenants[0].completed_requests, 80);
  EXPECT_DOUBLE_EQ(r->tenants[0].good_requests, 0);      // saturated: the interval broke its SLO
  EXPECT_DOUBLE_EQ(r->tenants[0].dropped_requests, 20);
  EXPECT_DOUBLE_EQ(r->tenants[1].good_requests, 0);      // p95 over the SLO
  EXPECT_DOUBLE_EQ(r->tenants[1].dropped_requests, 0);
  p.tenants[0].saturated = false;
  p.tenants[1].latency_p95 = Milliseconds(40);
  r = AccountInterval({Spec("cam"), Spec("mic")}, c, p, GramsPerKwh(100), Seconds(10));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->good_requests, 180);
  EXPECT_DOUBLE_EQ(r->completed_requests, 180);
  EXPECT_DOUBLE_EQ(r->dropped_requests, 20);
}

}  // namespace
}  // namespace ecomap::loop
