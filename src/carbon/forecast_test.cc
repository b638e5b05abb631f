#include "carbon/forecast.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace ecomap::carbon {
namespace {

using ::testing::HasSubstr;
using std::chrono::hours;

TimePoint T(const char* s) { return ParseTimestamp(s).value(); }
std::string DataPath(const std::string& file) { return std::string(ECOMAP_SOURCE_DIR) + "/data/carbon/" + file; }

// A deterministic pseudo-random number in [-1, 1) (64-bit LCG; same on every platform).
struct Lcg {
  uint64_t s;
  double Next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) / static_cast<double>(1ULL << 53) * 2.0 - 1.0;
  }
};

// Hourly synthetic trace: 200 + 80 sin(2 pi h / 24) plus an AR(1) anomaly of the given size.
Trace Synthetic(int days, double noise, uint64_t seed) {
  Trace t;
  t.name = "synthetic";
  Lcg rng{seed};
  double anomaly = 0;
  const TimePoint t0 = T("2022-01-01");
  for (int h = 0; h < days * 24; ++h) {
    anomaly = 0.9 * anomaly + noise * rng.Next();
    double v = 200 + 80 * std::sin(2 * M_PI * (h % 24) / 24.0) + anomaly;
    t.points.push_back({t0 + hours(h), GramsPerKwh(std::max(0.0, v)), false});
  }
  return t;
}

const HorizonError& Err(const ForecastEvaluation& ev, const std::string& method, int hours_ahead) {
  for (const MethodErrors& m : ev.methods) {
    if (m.method != method) continue;
    for (const HorizonError& h : m.horizons) {
      if (h.horizon == hours(hours_ahead)) return h;
    }
  }
  ADD_FAILURE() << "no " << method << " at " << hours_ahead << "h";
  static HorizonError none;
  return none;
}

TEST(ForecastTest, HandComputedPrediction) {
  // D = 2 days, lambda = 0.5, phi = 0.5. Day 1 hour 1 = 100, day 2 hour 1 = 200 -> s(day 3, 01:00)
  // = (1*200 + 0.5*100) / 1.5 = 166.67. Origin at day 3 00:00 with value 90; its own profile
  // s(day 3 00:00) = (1*60 + 0.5*40) / 1.5 = 53.33, anomaly = 36.67, one hour ahead decays by 0.5.
  Trace t;
  const TimePoint d1 = T("2022-01-01");
  auto add = [&](TimePoint time, double v) { t.points.push_back({time, GramsPerKwh(v), false}); };
  add(d1, 40);
  add(d1 + hours(1), 100);
  add(d1 + hours(24), 60);
  add(d1 + hours(25), 200);
  add(d1 + hours(48), 90);
  SeasonalForecaster f({.days = 2, .day_decay = 0.5, .anomaly_decay = 0.5});
  const double s_target = (200 + 0.5 * 100) / 1.5;
  const double s_origin = (60 + 0.5 * 40) / 1.5;
  EXPECT_NEAR(f.PredictAt(t.points, 4, d1 + hours(49)), s_target + 0.5 * (90 - s_origin), 1e-9);
  // Two hours ahead: no same-hour history for 02:00 -> persistence.
  EXPECT_DOUBLE_EQ(f.PredictAt(t.points, 4, d1 + hours(50)), 90);
  // 25 h ahead (day 4 01:00): the day-3 value is in the future of the origin, so days 2 and 1 are
  // used with weights 1 and 0.5; the anomaly has decayed by 0.5^25.
  EXPECT_NEAR(f.PredictAt(t.points, 4, d1 + hours(73)), s_target + std::pow(0.5, 25) * (90 - s_origin), 1e-9);
}

TEST(ForecastTest, ForecastGridAndLabels) {
  Trace t = Synthetic(3, 0, 1);
  SeasonalForecaster f;
  StatusOr<std::vector<CarbonReading>> fc = f.Forecast(t.points, T("2022-01-02T10:30Z"), hours(24), hours(1));
  ASSERT_TRUE(fc.ok()) << fc.status().ToString();
  ASSERT_EQ(fc->size(), 24u);
  EXPECT_EQ(fc->front().time, T("2022-01-02T11:00Z"));
  EXPECT_EQ(fc->back().time, T("2022-01-03T10:00Z"));
  for (const CarbonReading& r : *fc) {
    EXPECT_TRUE(r.forecast);
    EXPECT_EQ(r.source, "seasonal-forecast");
    EXPECT_THAT(r.note, HasSubstr("modelled"));
  }
  EXPECT_FALSE(f.Forecast(t.points, T("2021-12-31"), hours(1), hours(1)).ok());
  EXPECT_FALSE(f.Forecast(t.points, T("2022-01-02"), hours(-1), hours(1)).ok());
  EXPECT_FALSE(f.Forecast(t.points, T("2022-01-02"), hours(1), hours(0)).ok());
}

TEST(ForecastTest, InvalidOptions) {
  struct Case {
    SeasonalForecastOptions o;
    const char* want;
  } cases[] = {{{.days = 0}, "days 0"},
               {{.day_decay = 0}, "day_decay"},
               {{.day_decay = 1.5}, "day_decay"},
               {{.anomaly_decay = -0.1}, "anomaly_decay"},
               {{.season = hours(0)}, "season"}};
  Trace t = Synthetic(10, 0, 1);
  for (const Case& c : cases) {
    StatusOr<ForecastEvaluation> ev = EvaluateForecasts(t, c.o, {hours(1)});
    ASSERT_FALSE(ev.ok());
    EXPECT_THAT(ev.status().message(), HasSubstr(c.want));
  }
}

TEST(ForecastTest, ExactOnAPurelyPeriodicSignal) {
  Trace t = Synthetic(20, 0, 1);
  StatusOr<ForecastEvaluation> ev = EvaluateForecasts(t, {}, {hours(1), hours(6), hours(24)});
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->origins, 13u * 24u - 1);  // 20 days - 7 warm-up days; the last point has no target
  for (int h : {1, 6, 24}) EXPECT_LT(Err(*ev, "seasonal-profile", h).mae, 1e-9) << h;
  // Persistence is wrong except a whole period ahead: |x(t+6h) - x(t)| averages 80*sqrt(2)*2/pi.
  EXPECT_NEAR(Err(*ev, "persistence", 6).mae, 80 * std::sqrt(2.0) * 2 / M_PI, 1.0);
  EXPECT_LT(Err(*ev, "persistence", 24).mae, 1e-9);
}

TEST(ForecastTest, BeatsPersistenceOnANoisyPeriodicSignal) {
  Trace t = Synthetic(60, 10, 42);
  StatusOr<ForecastEvaluation> ev = EvaluateForecasts(t, {}, {hours(1), hours(6), hours(24)});
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_LT(Err(*ev, "seasonal-profile", 6).mae, 0.5 * Err(*ev, "persistence", 6).mae);
  EXPECT_LT(Err(*ev, "seasonal-profile", 24).mae, Err(*ev, "persistence", 24).mae);
  EXPECT_LT(Err(*ev, "seasonal-profile", 24).mae, Err(*ev, "seasonal-naive", 24).mae);
  EXPECT_LT(Err(*ev, "seasonal-profile", 1).mae, 1.2 * Err(*ev, "persistence", 1).mae);
  EXPECT_GT(Err(*ev, "seasonal-profile", 6).mape_pct, 0);
}

TEST(ForecastTest, TooShortTraceFails) {
  Trace t = Synthetic(5, 0, 1);
  StatusOr<ForecastEvaluation> ev = EvaluateForecasts(t, {}, {hours(24)});
  ASSERT_FALSE(ev.ok());
  EXPECT_THAT(ev.status().message(), HasSubstr("too short"));
  EXPECT_FALSE(EvaluateForecasts(t, {}, {hours(0)}).ok());
}

TEST(ForecastTest, BundledTracesSeasonalBeatsPersistenceAtSixHoursAndADay) {
  for (const char* file : {"ES_2022_hourly.csv", "US-CAL-CISO_2023_hourly.csv"}) {
    StatusOr<Trace> t = LoadTrace(DataPath(file));
    ASSERT_TRUE(t.ok());
    StatusOr<ForecastEvaluation> ev = EvaluateForecasts(*t, {}, {hours(1), hours(6), hours(24)});
    ASSERT_TRUE(ev.ok());
    EXPECT_LT(Err(*ev, "seasonal-profile", 6).mae, Err(*ev, "persistence", 6).mae) << file;
    EXPECT_LT(Err(*ev, "seasonal-profile", 24).mae, Err(*ev, "persistence", 24).mae) << file;
  }
}

}  // namespace
}  // namespace ecomap::carbon
