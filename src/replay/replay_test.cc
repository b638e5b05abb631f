// Tests of the replay engine with hand-computable cases: accounting of one interval, a whole
// replay of a fixed configuration on a small trace, sub-hour intervals, bad input, the reports.
// (The real controllers are exercised in replay_controllers_test.cc.)
#include "replay/replay.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "platform/sim/xavier_sim.h"
#include "replay/report.h"
#include "zoo/model.h"

namespace ecomap::replay {
namespace {

using platform::ArrivalKind;
using platform::Configuration;
using platform::Performance;
using platform::TenantConfig;
using platform::TenantPerformance;

policy::TenantSpec Spec(std::string name, std::string family, double slo_ms, double rate,
                        std::vector<std::string> variants = {}) {
  policy::TenantSpec s;
  s.name = std::move(name);
  s.family = std::move(family);
  s.variants = std::move(variants);
  s.slo_p95 = Milliseconds(slo_ms);
  s.rate_rps = rate;
  s.arrival = ArrivalKind::kOpenLoop;
  return s;
}

TenantConfig Tc(std::string name, std::string model, int blocks, double rate) {
  TenantConfig t;
  t.name = std::move(name);
  t.model = std::move(model);
  t.stages = {{0, blocks, "GPU"}};
  t.arrival = ArrivalKind::kOpenLoop;
  t.rate_rps = rate;
  return t;
}

// A controller with a fixed decision: a test fixture whose figures can be computed by hand.
struct Seen {
  int steps = 0;
  int measured = 0;
  size_t forecast_size = 0;
};

class FixedController final : public policy::Controller {
 public:
  explicit FixedController(Configuration c, double threshold_w = 0, std::shared_ptr<Seen> seen = nullptr)
      : c_(std::move(c)), th_(threshold_w), seen_(seen ? seen : std::make_shared<Seen>()) {}
  std::string name() const override { return "fixed"; }
  StatusOr<policy::Decision> Step(const policy::ControlInput& in) override {
    ++seen_->steps;
    seen_->measured += in.measured.has_value();
    seen_->forecast_size = in.forecast.size();
    policy::Decision d;
    d.config = c_;
    d.threshold = Watts(th_);
    d.replanned = seen_->steps == 1;
    for (const auto& t : c_.tenants) d.variants.push_back(t.model);
    return d;
  }

 private:
  Configuration c_;
  double th_;
  std::shared_ptr<Seen> seen_;
};

TEST(AccountIntervalTest, HandComputedFigures) {
  // 10 W for one hour at 200 g/kWh: 10 Wh, 2 g. Two tenants at 50 inf/s each: c = 10 W x 200
  // g/kWh / 100 inf/s = 0.1 J x 200 / 3.6e6 g. CDP = c x mean(10 ms, 20 ms).
  std::vector<policy::TenantSpec> demand = {Spec("cam", "resnet", 15, 50), Spec("txt", "bert", 30, 50)};
  Configuration c;
  c.power_mode = 0;
  c.tenants = {Tc("cam", "resnet50", 7, 50), Tc("txt", "bert_medium", 10, 50)};
  Performance p;
  p.power = Watts(10);
  p.tenants = {{"cam", Milliseconds(5), Milliseconds(10), 50, false},
               {"txt", Milliseconds(8), Milliseconds(20), 50, false}};
  StatusOr<IntervalRecord> r = AccountInterval(demand, c, p, GramsPerKwh(200), std::chrono::minutes(60));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->energy_wh, 10.0);
  EXPECT_NEAR(r->carbon_g, 2.0, 1e-12);
  const double c_g = 0.1 * 200 / 3.6e6;
  EXPECT_NEAR(r->per_inference_g, c_g, 1e-15);
  EXPECT_NEAR(r->cdp_g_s, c_g * 0.015, 1e-18);
  EXPECT_NEAR(r->tenants[1].cdp_g_s, c_g * 0.020, 1e-18);
  // resnet50 76.130 vs resnet152 78.312 -> 2.182 pts; bert_medium is its family's best -> 0.
  EXPECT_NEAR(r->tenants[0].accuracy_loss_pts, 78.312 - 76.130, 1e-9);
  EXPECT_NEAR(r->tenants[1].accuracy_loss_pts, 0.0, 1e-12);
  EXPECT_NEAR(r->accuracy_loss_pts, (78.312 - 76.130) / 2, 1e-9);  // equal offered rates
  EXPECT_FALSE(r->tenants[0].slo_violated);
  EXPECT_TRUE(r->tenants[1].slo_violated == false);
  EXPECT_DOUBLE_EQ(r->requests, 100.0 * 3600);
}

TEST(AccountIntervalTest, SloViolationCases) {
  struct Case {
    const char* what;
    double p95_ms;
    bool saturated;
    double throughput;
    double min_tp;
    bool violated;
  };
  const Case cases[] = {
      {"under the SLO", 9.9, false, 40, 0, false},
      {"exactly at the SLO", 10.0, false, 40, 0, false},
      {"above the SLO", 10.1, false, 40, 0, true},
      {"saturated", 5.0, true, 40, 0, true},
      {"under its minimum throughput", 5.0, false, 30, 35, true},
  };
  for (const Case& k : cases) {
    policy::TenantSpec s = Spec("cam", "resnet", 10, 40, {"resnet18", "resnet50"});
    s.min_throughput_rps = k.min_tp;
    Configuration c;
    c.tenants = {Tc("cam", "resnet18", 7, 40)};
    Performance p;
    p.power = Watts(5);
    p.tenants = {{"cam", Milliseconds(1), Milliseconds(k.p95_ms), k.throughput, k.saturated}};
    auto r = AccountInterval({s}, c, p, GramsPerKwh(100), std::chrono::minutes(60));
    ASSERT_TRUE(r.ok()) << k.what;
    EXPECT_EQ(r->tenants[0].slo_violated, k.violated) << k.what;
    // Allowed variants only: the best is resnet50, not the family's resnet152.
    EXPECT_NEAR(r->tenants[0].accuracy_loss_pts, 76.130 - 69.758, 1e-9) << k.what;
  }
}

TEST(AccountIntervalTest, RejectsMismatches) {
  Configuration c;
  c.tenants = {Tc("cam", "resnet18", 7, 40)};
  Performance p;
  p.power = Watts(5);
  EXPECT_FALSE(AccountInterval({Spec("cam", "resnet", 10, 40)}, c, p, GramsPerKwh(1), std::chrono::minutes(60)).ok());
  p.tenants = {{"cam", Milliseconds(1), Milliseconds(2), 0, false}};
  // No throughput: no per-inference carbon. The accounting says so (a live interval may serve
  // nothing); a replay stops there (the loop's strict mode, loop_test).
  auto zero = AccountInterval({Spec("cam", "resnet", 10, 40)}, c, p, GramsPerKwh(1), std::chrono::minutes(60));
  ASSERT_TRUE(zero.ok());
  EXPECT_FALSE(zero->served);
  EXPECT_EQ(zero->per_inference_g, 0);
  p.tenants[0].throughput_rps = 10;
  EXPECT_FALSE(AccountInterval({Spec("other", "resnet", 10, 40)}, c, p, GramsPerKwh(1), std::chrono::minutes(60)).ok());
}

// A 3-day plain CSV trace: CI = 100 + 10 x (hour of day) + day, so every hour differs.
carbon::Trace SmallTrace() {
  std::ostringstream csv;
  csv << "timestamp,gco2_per_kwh\n";
  for (int d = 0; d < 3; ++d) {
    for (int h = 0; h < 24; ++h) {
      csv << "2023-03-0" << (d + 1) << " " << (h < 10 ? "0" : "") << h << ":00:00," << (100 + 10 * h + d) << "\n";
    }
  }
  auto t = carbon::ParseTrace(csv.str(), "small.csv");
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return *t;
}

Configuration FixedConfig() {
  Configuration c;
  c.power_mode = 2;  // MODE_15W
  c.tenants = {Tc("cam", "resnet50", 7, 30), Tc("txt", "bert_small", 6, 20)};
  return c;
}

// A replay's run of FixedController with FixedConfig().
ControllerRun FixedRun() {
  return {"fixed", []() -> StatusOr<std::unique_ptr<policy::Controller>> {
            return std::unique_ptr<policy::Controller>(std::make_unique<FixedController>(FixedConfig()));
          }};
}

std::vector<policy::TenantSpec> Demand(TimePoint) {
  return {Spec("cam", "resnet", 200, 30), Spec("txt", "bert", 200, 20)};
}

TEST(RunReplayTest, FixedConfigurationMatchesHandComputation) {
  carbon::Trace trace = SmallTrace();
  auto seen = std::make_shared<Seen>();
  ControllerRun run{"fixed", [seen]() -> StatusOr<std::unique_ptr<policy::Controller>> {
                      return std::unique_ptr<policy::Controller>(
                          std::make_unique<FixedController>(FixedConfig(), 12.5, seen));
                    }};
  ReplayOptions o;
  o.start = *ParseTimestamp("2023-03-02");
  o.days = 1;
  o.platform_options.noise = 0;  // measurements equal the noise-free model
  int progress_calls = 0;
  o.progress = [&](const ProgressEvent& e) {
    ++progress_calls;
    EXPECT_EQ(e.steps, 24);
  };
  StatusOr<ReplayResult> r = RunReplay(trace, Demand, {run}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->controllers.size(), 1u);
  const ControllerSummary& s = r->controllers[0];
  EXPECT_EQ(r->steps, 24);
  EXPECT_EQ(progress_calls, 24);
  EXPECT_EQ(seen->steps, 24);
  EXPECT_EQ(seen->measured, 23);  // every step but the first sees the last measurement
  EXPECT_EQ(seen->forecast_size, 24u);

  // The same measurements, taken by hand: a simulator with the replay's seed measures the fixed
  // configuration once per interval (every measurement simulates new requests).
  platform::XavierSim sim{o.platform_options};
  std::vector<Performance> perf;
  double ci_sum_weighted = 0, energy = 0;
  std::vector<double> p95s;
  for (int h = 0; h < 24; ++h) {
    auto m = sim.Evaluate(FixedConfig());
    ASSERT_TRUE(m.ok());
    perf.push_back(*m);
    energy += m->power.value();  // W x 1 h
    ci_sum_weighted += m->power.value() * (100 + 10 * h + 1);  // day index 1
    p95s.push_back(m->tenants[0].latency_p95.value());
  }
  EXPECT_NEAR(s.energy_wh, energy, 1e-9);
  EXPECT_NEAR(s.carbon_g, ci_sum_weighted / 1000.0, 1e-9);
  EXPECT_NEAR(s.mean_power_w, energy / 24, 1e-12);
  EXPECT_EQ(s.mode_switches, 0);
  EXPECT_EQ(s.replans, 1);
  EXPECT_EQ(s.slo_violations, 0);
  EXPECT_EQ(s.tenant_intervals, 48);
  // resnet50 vs resnet152 (2.182), bert_small vs bert_medium (2.3), weighted 30:20.
  EXPECT_NEAR(s.accuracy_loss_pts, (30 * (78.312 - 76.130) + 20 * (73.5 - 71.2)) / 50, 1e-9);
  EXPECT_NEAR(s.intervals[5].threshold_w, 12.5, 1e-12);
  EXPECT_NEAR(s.intervals[5].intensity_g_per_kwh, 151, 1e-12);
  // CDP of an hour: c = P x CI / total throughput, times the mean p95.
  const Performance& first = perf[0];
  const double thr = first.tenants[0].throughput_rps + first.tenants[1].throughput_rps;
  const double mean_p95_s = (first.tenants[0].latency_p95.value() + first.tenants[1].latency_p95.value()) / 2000;
  EXPECT_NEAR(s.intervals[0].cdp_g_s, first.power.value() / thr * 101 / 3.6e6 * mean_p95_s, 1e-15);
  ASSERT_EQ(s.tenants.size(), 2u);
  double p95_sum = 0;
  for (double v : p95s) p95_sum += v;
  EXPECT_NEAR(s.tenants[0].mean_p95_ms, p95_sum / 24, 1e-9);
  EXPECT_EQ(s.tenants[0].variant_intervals.at("resnet50"), 24);
  EXPECT_EQ(r->provenance, "simulated");
}

TEST(RunReplayTest, SubHourIntervalsHoldTheHoursIntensity) {
  carbon::Trace trace = SmallTrace();
  const ControllerRun run = FixedRun();
  ReplayOptions hourly;
  hourly.start = *ParseTimestamp("2023-03-02");
  hourly.days = 1;
  hourly.platform_options.noise = 0;
  ReplayOptions quarter = hourly;
  quarter.interval = std::chrono::minutes(15);
  auto a = RunReplay(trace, Demand, {run}, hourly);
  auto b = RunReplay(trace, Demand, {run}, quarter);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->steps, 96);
  // Four measurements per hour instead of one: the same figures up to the run-to-run spread of
  // the simulated measurements (well under 1% for this steady load).
  EXPECT_NEAR(b->controllers[0].carbon_g, a->controllers[0].carbon_g, 0.01 * a->controllers[0].carbon_g);
  EXPECT_NEAR(b->controllers[0].energy_wh, a->controllers[0].energy_wh, 0.01 * a->controllers[0].energy_wh);
  EXPECT_NEAR(b->controllers[0].intervals[5].intensity_g_per_kwh, 111, 1e-12);  // 01:15 -> hour 1
}

TEST(RunReplayTest, NoiseIsSeededAndIdenticalAcrossRuns) {
  carbon::Trace trace = SmallTrace();
  const ControllerRun run = FixedRun();
  ReplayOptions o;
  o.start = *ParseTimestamp("2023-03-02");
  o.days = 1;
  o.platform_options.noise = 0.05;
  auto a = RunReplay(trace, Demand, {run, run}, o);
  ASSERT_TRUE(a.ok());
  // Both runs get a fresh platform with the same seed: the same measurements.
  EXPECT_DOUBLE_EQ(a->controllers[0].carbon_g, a->controllers[1].carbon_g);
  o.platform_options.seed = 2;
  auto b = RunReplay(trace, Demand, {run}, o);
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->controllers[0].carbon_g, b->controllers[0].carbon_g);
}

TEST(RunReplayTest, BadInputIsRejectedWithClearMessages) {
  carbon::Trace trace = SmallTrace();
  const ControllerRun run = FixedRun();
  struct Case {
    const char* what;
    std::function<void(ReplayOptions&)> change;
    const char* message;
  };
  const Case cases[] = {
      {"zero days", [](ReplayOptions& o) { o.days = 0; }, "days must be > 0"},
      {"negative days", [](ReplayOptions& o) { o.days = -3; }, "days must be > 0"},
      {"interval not dividing 60", [](ReplayOptions& o) { o.interval = std::chrono::minutes(7); }, "divide 60"},
      {"zero interval", [](ReplayOptions& o) { o.interval = Duration(0); }, "divide 60"},
      {"interval over an hour", [](ReplayOptions& o) { o.interval = std::chrono::minutes(120); }, "divide 60"},
      {"window before the trace", [](ReplayOptions& o) { o.start = *ParseTimestamp("2022-01-01"); },
       "which covers 2023-03-01T00:00:00Z to 2023-03-04T00:00:00Z"},
      {"window past the trace end", [](ReplayOptions& o) { o.days = 3; }, "not inside trace 'small.csv'"},
      {"bad noise", [](ReplayOptions& o) { o.platform_options.noise = -1; }, "noise"},
  };
  for (const Case& k : cases) {
    ReplayOptions o;
    o.start = *ParseTimestamp("2023-03-02");
    o.days = 1;
    k.change(o);
    auto r = RunReplay(trace, Demand, {run}, o);
    ASSERT_FALSE(r.ok()) << k.what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << k.what;
    EXPECT_NE(r.status().message().find(k.message), std::string::npos) << k.what << ": " << r.status().message();
  }
  ReplayOptions o;
  o.start = *ParseTimestamp("2023-03-02");
  o.days = 1;
  EXPECT_FALSE(RunReplay(trace, Demand, {}, o).ok());  // no controllers
  // A controller that fails names itself and the interval.
  ControllerRun failing{"broken", []() -> StatusOr<std::unique_ptr<policy::Controller>> {
                          return InvalidArgument("cannot build");
                        }};
  auto r = RunReplay(trace, Demand, {failing}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("controller 'broken'"), std::string::npos);
  // A demand with no tenants.
  auto empty = RunReplay(trace, [](TimePoint) { return std::vector<policy::TenantSpec>{}; }, {run}, o);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("no tenants"), std::string::npos);
}

TEST(RunReplayTest, DefaultStartLeavesAWeekOfHistory) {
  carbon::Trace trace = SmallTrace();
  EXPECT_EQ(DefaultStart(trace, 1), trace.Start());  // too short for a week of history
  auto year = carbon::LoadTrace(std::string(ECOMAP_SOURCE_DIR) + "/data/carbon/ES_2023_hourly.csv");
  ASSERT_TRUE(year.ok());
  EXPECT_EQ(FormatIso8601(DefaultStart(*year, 7)), "2023-01-08T00:00:00Z");
}

TEST(ReportTest, TextJsonAndHtml) {
  carbon::Trace trace = SmallTrace();
  auto make = [](double th) {
    return ControllerRun{"fixed" + std::to_string(int(th)), [th]() -> StatusOr<std::unique_ptr<policy::Controller>> {
                           Configuration c = FixedConfig();
                           if (th > 0) c.power_mode = 1;
                           return std::unique_ptr<policy::Controller>(std::make_unique<FixedController>(c, th));
                         }};
  };
  ReplayOptions o;
  o.start = *ParseTimestamp("2023-03-02");
  o.days = 1;
  auto r = RunReplay(trace, Demand, {make(10), make(0)}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ReportOptions ro;
  ro.reference = "fixed10";
  ro.scenario = {{"name", "test"}};
  std::string text = FormatTextReport(*r, ro);
  EXPECT_NE(text.find("simulated (xavier-sim)"), std::string::npos);
  EXPECT_NE(text.find("fixed10 vs the others"), std::string::npos);
  EXPECT_NE(text.find("CDP = "), std::string::npos);

  nlohmann::json j = ReplayToJson(*r, ro, false);
  for (const char* key : {"carbon_g", "energy_wh", "cdp", "slo_violation_rate", "accuracy_loss_pts", "decision_ms", "decision_ms_p95",
                          "p95_ms", "mode_switches"}) {
    EXPECT_TRUE(j["controllers"]["fixed0"].contains(key)) << key;
  }
  EXPECT_TRUE(j["controllers"]["fixed0"]["p95_ms"].contains("cam"));
  EXPECT_FALSE(j["controllers"]["fixed0"].contains("intervals"));
  const double saving = j["savings"]["vs"]["fixed0"]["carbon_pct"];
  EXPECT_NEAR(saving, SavingPct(r->controllers[0].carbon_g, r->controllers[1].carbon_g), 1e-12);
  EXPECT_GT(saving, 0);  // MODE_10W draws less than MODE_15W with the same mapping

  const std::string dir = ::testing::TempDir() + "/replay_report_test";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(WriteHtmlReport(*r, ro, dir).ok());
  std::ifstream f(dir + "/index.html");
  std::stringstream html;
  html << f.rdbuf();
  const std::string page = html.str();
  EXPECT_EQ(page.find("<!DOCTYPE html>"), 0u);
  size_t svgs = 0;
  for (size_t pos = page.find("<svg"); pos != std::string::npos; pos = page.find("<svg", pos + 1)) ++svgs;
  EXPECT_EQ(svgs, 5u);  // intensity, threshold, power, cumulative carbon, variants
  EXPECT_NE(page.find("Cumulative carbon"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);  // self-contained, static
  auto json = nlohmann::json::parse(std::ifstream(dir + "/replay.json"));
  EXPECT_EQ(json["format"], "ecomap.replay");
  EXPECT_EQ(json["controllers"]["fixed10"]["intervals"].size(), 24u);
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos);  // no temporaries left
  }
  std::filesystem::remove_all(dir);
}

// A run named like a swept one ("ecomap@0.50") serving `cam` with `model`: its accuracy loss is
// the model's distance from resnet152, so a small fixed "sweep" has a curve that can be read back.
ControllerRun FixedModelRun(std::string name, std::string model) {
  return ControllerRun{std::move(name), [model]() -> StatusOr<std::unique_ptr<policy::Controller>> {
                         Configuration c = FixedConfig();
                         const zoo::ModelInfo* m = zoo::FindModel(model);
                         if (m == nullptr) return NotFound("no model " + model);
                         c.tenants[0] = Tc("cam", model, static_cast<int>(m->blocks.size()), 30);
                         return std::unique_ptr<policy::Controller>(std::make_unique<FixedController>(c));
                       }};
}

// The <svg>...</svg> of `page` whose title contains `title`; empty when none.
std::string SvgTitled(const std::string& page, const std::string& title) {
  for (size_t pos = page.find("<svg"); pos != std::string::npos; pos = page.find("<svg", pos + 1)) {
    const size_t end = page.find("</svg>", pos);
    if (end == std::string::npos) break;
    const std::string svg = page.substr(pos, end + 6 - pos);
    if (svg.find("<title>" + title) != std::string::npos) return svg;
  }
  return "";
}

TEST(ReportTest, SweptReplayHasAParetoChartWithACurvePerSweptController) {
  carbon::Trace trace = SmallTrace();
  ReplayOptions o;
  o.start = *ParseTimestamp("2023-03-02");
  o.days = 1;
  // Default runs, then the swept ones in knob order (not in loss order: resnet18 loses the most).
  auto r = RunReplay(trace, Demand,
                     {FixedModelRun("ecomap", "resnet50"), FixedModelRun("maxn", "resnet152"),
                      FixedModelRun("ecomap@0.00", "resnet101"), FixedModelRun("ecomap@0.50", "resnet18"),
                      FixedModelRun("ecomap@1.00", "resnet34"), FixedModelRun("energy@0.00", "resnet152"),
                      FixedModelRun("energy@1.00", "resnet18")},
                     o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ReportOptions ro;
  ro.reference = "ecomap";
  ro.sweep_points = 3;
  StatusOr<std::string> page = RenderHtmlReport(*r, ro);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  const std::string svg = SvgTitled(*page, "Carbon against accuracy loss");
  ASSERT_FALSE(svg.empty()) << "no Pareto chart in the page of a swept replay";
  EXPECT_NE(svg.find("simulated (xavier-sim)"), std::string::npos);
  EXPECT_NE(svg.find(">accuracy loss (points"), std::string::npos);
  EXPECT_NE(svg.find(">carbon (gCO2eq)"), std::string::npos);

  // Read the series back: label, then the polyline's points (curves) or the marker's label.
  std::map<std::string, std::vector<double>> curves;  // label -> x of each polyline point
  std::vector<std::string> squares;
  const std::regex group("<g class=\"xy-series\" data-label=\"([^\"]*)\">([\\s\\S]*?)</g>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), group); it != std::sregex_iterator(); ++it) {
    const std::string body = (*it)[2].str();
    std::smatch line;
    if (std::regex_search(body, line, std::regex("<polyline points=\"([^\"]*)\""))) {
      std::istringstream in(line[1].str());
      for (std::string p; in >> p;) curves[(*it)[1].str()].push_back(std::stod(p));
    } else {
      std::smatch text;
      if (std::regex_search(body, text, std::regex(">([^<]+)</text>"))) squares.push_back(text[1].str());
    }
  }
  // One curve per swept controller (and the bound's), with as many points as runs.
  ASSERT_EQ(curves.size(), 3u);
  ASSERT_TRUE(curves.count("ecomap (threshold depth)"));
  ASSERT_TRUE(curves.count("energy (threshold position)"));
  ASSERT_TRUE(curves.count("bound (loss budget)"));
  EXPECT_EQ(curves["ecomap (threshold depth)"].size(), 3u);
  EXPECT_EQ(curves["energy (threshold position)"].size(), 2u);
  // Every curve's points follow the accuracy loss (x grows along the polyline) ...
  for (const auto& [name, xs] : curves) EXPECT_TRUE(std::is_sorted(xs.begin(), xs.end())) << name;
  // ... which is not the knob order: ecomap@0.50 (resnet18) loses more than ecomap@1.00 (resnet34).
  const auto& e = r->controllers;
  auto loss = [&](const std::string& n) { return r->Find(n)->accuracy_loss_pts; };
  EXPECT_GT(loss("ecomap@0.50"), loss("ecomap@1.00"));
  EXPECT_GT(loss("ecomap@1.00"), loss("ecomap@0.00"));
  EXPECT_EQ(e.size(), 7u);
  // The default runs are labelled squares, the swept ones are not.
  EXPECT_EQ(squares, (std::vector<std::string>{"ecomap", "maxn"}));
  EXPECT_NE(page->find("At equal accuracy"), std::string::npos);
  EXPECT_NE(page->find("<td>bound (solved at that loss)</td>"), std::string::npos);  // not interpolated
  const nlohmann::json swept = ReplayToJson(*r, ro, false);
  EXPECT_TRUE(swept.contains("pareto"));
  // The bound at equal accuracy is the bound solved at ecomap's loss, as the run's bound.at says.
  ASSERT_TRUE(swept["equal_accuracy"]["vs"].contains("bound")) << swept["equal_accuracy"].dump();
  const nlohmann::json& at = swept["bound"]["at"]["ecomap"];
  if (at.value("feasible", true)) {
    EXPECT_DOUBLE_EQ(swept["equal_accuracy"]["vs"]["bound"]["carbon_g"].get<double>(), at["carbon_g"].get<double>());
  } else {
    EXPECT_FALSE(swept["equal_accuracy"]["vs"]["bound"]["covered"].get<bool>());
  }
  // The carbon-blind bound is a plan of the same candidates within ecomap's loss: never under the
  // bound's dual (lower) bound, never over that loss.
  ASSERT_TRUE(swept["equal_accuracy"]["vs"].contains("bound-carbon-blind")) << swept["equal_accuracy"].dump();
  const nlohmann::json& blind = swept["equal_accuracy"]["vs"]["bound-carbon-blind"];
  if (blind.value("covered", false) && at.value("feasible", false)) {
    EXPECT_GE(blind["carbon_g"].get<double>() + 1e-9, at["lower_bound_g"].get<double>());
    EXPECT_LE(blind["accuracy_loss_pts"].get<double>(), loss("ecomap") + 1e-6);
    EXPECT_GT(blind["energy_wh"].get<double>(), 0);
  }

  // Without a sweep: no Pareto chart, no "pareto" in the JSON.
  ro.sweep_points = 0;
  page = RenderHtmlReport(*r, ro);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(SvgTitled(*page, "Carbon against accuracy loss").empty());
  EXPECT_EQ(page->find("At equal accuracy"), std::string::npos);
  EXPECT_FALSE(ReplayToJson(*r, ro, false).contains("pareto"));
  // A sweep asked for but no swept run in the result: no chart either.
  ro.sweep_points = 3;
  auto plain = RunReplay(trace, Demand, {FixedModelRun("ecomap", "resnet50"), FixedModelRun("maxn", "resnet152")}, o);
  ASSERT_TRUE(plain.ok());
  page = RenderHtmlReport(*plain, ro);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(SvgTitled(*page, "Carbon against accuracy loss").empty());
}

// The measurement draws of a fresh platform reproduce what a controller measured in each
// interval: XavierSim::Measure with interval k's draw, coming from the mode in force, accounted
// at the interval's intensity, gives the replay's own record, bit for bit (with noise). This is
// how the bound's searched candidates are measured "as a controller's choice is".
TEST(BoundSearchTest, DrawsReproduceTheReplaysMeasurements) {
  carbon::Trace trace = SmallTrace();
  const ControllerRun run = FixedRun();
  ReplayOptions o;
  o.start = *ParseTimestamp("2023-03-02");
  o.days = 1;
  o.platform_options.noise = 0.05;
  StatusOr<ReplayResult> r = RunReplay(trace, Demand, {run}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  platform::XavierSim fresh{o.platform_options};
  const platform::XavierSim measurer{o.platform_options};
  StatusOr<int> start_mode = fresh.CurrentMode();
  ASSERT_TRUE(start_mode.ok());
  for (int k = 0; k < r->steps; ++k) {
    const platform::XavierSim::MeasurementDraw draw = fresh.NextDraw();
    const TimePoint t = o.start + o.interval * k;
    StatusOr<Performance> m =
        measurer.Measure(FixedConfig(), draw, k == 0 ? *start_mode : FixedConfig().power_mode);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    const GramsPerKwh intensity(r->controllers[0].intervals[k].intensity_g_per_kwh);
    StatusOr<IntervalRecord> rec = AccountInterval(Demand(t), FixedConfig(), *m, intensity, o.interval);
    ASSERT_TRUE(rec.ok());
    EXPECT_EQ(rec->carbon_g, r->controllers[0].intervals[k].carbon_g) << "interval " << k;
    EXPECT_EQ(rec->energy_wh, r->controllers[0].intervals[k].energy_wh) << "interval " << k;
  }
  // Measure() leaves the platform alone; a draw taken is gone from the stream.
  platform::XavierSim a{o.platform_options}, b{o.platform_options};
  (void)a.NextDraw();
  StatusOr<Performance> second = a.Evaluate(FixedConfig());
  (void)b.Evaluate(FixedConfig());
  StatusOr<Performance> second_b = b.Evaluate(FixedConfig());
  ASSERT_TRUE(second.ok() && second_b.ok());
  EXPECT_EQ(second->tenants[0].latency_p95.value(), second_b->tenants[0].latency_p95.value());
}

// The bound's searched candidates on two days of a demand that changes with the hour: one search
// set per distinct demand, every candidate measured in every interval of its demand, and a
// search that earns its place: its best SLO-holding candidate of an interval emits no more (1%
// slack) than the best of simple configurations built by hand (each tenant's lightest or heaviest variant,
// one stage on the GPU or a DLA, in every mode), measured the same way.
TEST(BoundSearchTest, SearchedCandidatesBeatHandBuiltOnesAndAreMeasuredPerInterval) {
  auto demand_at = [](int hour) {
    const double f = hour < 12 ? 0.6 : 1.2;
    return std::vector<policy::TenantSpec>{Spec("cam", "resnet", 25, 40 * f, {"resnet18", "resnet50"}),
                                           Spec("txt", "bert", 30, 20 * f, {"bert_mini", "bert_small"})};
  };
  const int steps = 4;  // hours 0, 6, 12, 18: two distinct demands
  std::vector<std::vector<policy::TenantSpec>> demand;
  std::vector<GramsPerKwh> ci;
  for (int k = 0; k < steps; ++k) {
    demand.push_back(demand_at(6 * k));
    ci.push_back(GramsPerKwh(100 + 50 * k));
  }
  platform::PlatformOptions po;
  po.seed = 3;
  po.noise = 0.03;
  BoundSearchOptions bo;
  bo.evals = 120;
  bo.prices = {0, 0.1};
  bo.per_demand = 6;
  bo.threads = 2;
  StatusOr<SearchedCandidates> sc =
      SearchBoundCandidates(demand, ci, std::chrono::minutes(60), "xavier-sim", po, bo);
  ASSERT_TRUE(sc.ok()) << sc.status().ToString();
  EXPECT_EQ(sc->demands, 2);
  EXPECT_EQ(sc->searches, 4);
  ASSERT_EQ(sc->intervals.size(), size_t(steps));
  // Intervals of one demand get the same configurations, measured with their own draws.
  for (int k = 0; k < steps; ++k) {
    ASSERT_FALSE(sc->intervals[k].empty());
    EXPECT_LE(sc->intervals[k].size(), 6u);
    for (const BoundCandidate& c : sc->intervals[k]) EXPECT_EQ(c.source, "search");
  }
  EXPECT_EQ(sc->intervals[0].size(), sc->intervals[1].size());
  EXPECT_EQ(sc->measured, static_cast<int>(sc->intervals[0].size() + sc->intervals[1].size() +
                                           sc->intervals[2].size() + sc->intervals[3].size()));

  platform::XavierSim fresh{po};
  const platform::XavierSim measurer{po};
  const platform::PlatformInfo info = platform::XavierSim::MakeInfo();
  for (int k = 0; k < steps; ++k) {
    const platform::XavierSim::MeasurementDraw draw = fresh.NextDraw();
    double hand_best = INFINITY;
    for (const auto& mode : info.modes) {
      for (const char* unit : {"GPU", "DLA0"}) {
        for (int heavy = 0; heavy < 2; ++heavy) {
          Configuration c;
          c.power_mode = mode.id;
          for (const policy::TenantSpec& t : demand[k]) {
            const std::string model = t.variants[static_cast<size_t>(heavy)];
            TenantConfig tc =
                Tc(t.name, model, static_cast<int>(zoo::FindModel(model)->blocks.size()), t.rate_rps);
            tc.stages[0].unit = unit;
            c.tenants.push_back(tc);
          }
          StatusOr<Performance> m = measurer.Measure(c, draw, c.power_mode);
          if (!m.ok()) continue;  // e.g. a model the DLA cannot run
          StatusOr<IntervalRecord> rec = AccountInterval(demand[k], c, *m, ci[k], std::chrono::minutes(60));
          ASSERT_TRUE(rec.ok());
          if (rec->slo_violations == 0) hand_best = std::min(hand_best, rec->carbon_g);
        }
      }
    }
    // Every searched candidate is its configuration measured with this interval's draw.
    ASSERT_EQ(sc->configs[k].size(), sc->intervals[k].size());
    double searched_best = INFINITY;
    for (size_t i = 0; i < sc->intervals[k].size(); ++i) {
      const BoundCandidate& c = sc->intervals[k][i];
      StatusOr<Performance> m = measurer.Measure(sc->configs[k][i], draw, sc->configs[k][i].power_mode);
      ASSERT_TRUE(m.ok());
      StatusOr<IntervalRecord> rec =
          AccountInterval(demand[k], sc->configs[k][i], *m, ci[k], std::chrono::minutes(60));
      ASSERT_TRUE(rec.ok());
      EXPECT_EQ(c.carbon_g, rec->carbon_g) << "interval " << k << ", candidate " << i;
      EXPECT_EQ(c.slo_violations, rec->slo_violations) << "interval " << k << ", candidate " << i;
      if (c.slo_violations == 0) searched_best = std::min(searched_best, c.carbon_g);
    }
    ASSERT_TRUE(std::isfinite(hand_best))
        << "interval " << k << ": no hand-built configuration holds the SLOs";
    // The searches pick by the short noise-free simulation, the measurement is a longer one: a
    // hand-built configuration may measure a hair under the searched one of its kind (1% slack).
    EXPECT_LE(searched_best, 1.01 * hand_best) << "interval " << k;
  }

  // Bad input: options, sizes, a platform without measurement draws.
  BoundSearchOptions bad = bo;
  bad.evals = 10;
  EXPECT_EQ(
      SearchBoundCandidates(demand, ci, std::chrono::minutes(60), "xavier-sim", po, bad).status().code(),
      StatusCode::kInvalidArgument);
  bad = bo;
  bad.prices = {-1};
  EXPECT_NE(SearchBoundCandidates(demand, ci, std::chrono::minutes(60), "xavier-sim", po, bad)
                .status()
                .message()
                .find("price"),
            std::string::npos);
  EXPECT_FALSE(
      SearchBoundCandidates(demand, {GramsPerKwh(1)}, std::chrono::minutes(60), "xavier-sim", po, bo).ok());
  EXPECT_EQ(SearchBoundCandidates(demand, ci, std::chrono::minutes(60), "host", po, bo).status().code(),
            StatusCode::kFailedPrecondition);
  bad = bo;
  bad.evals = 0;  // off: nothing searched, one empty list per interval
  StatusOr<SearchedCandidates> none =
      SearchBoundCandidates(demand, ci, std::chrono::minutes(60), "host", po, bad);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->intervals.size(), size_t(steps));
  EXPECT_EQ(none->searches, 0);
}

}  // namespace
}  // namespace ecomap::replay
