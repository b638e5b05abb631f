#include "carbon/ukgrid.h"

#include <gtest/gtest.h>

#include "carbon/live_test_server.h"

namespace ecomap::carbon {
namespace {

using std::chrono::milliseconds;
using testing::RecordedServer;
using testing::Reply;
using testing::TestData;

TimePoint T(const char* s) { return *ParseTimestamp(s); }

class UkGridTest : public ::testing::Test {
 protected:
  std::unique_ptr<UkGridSource> Make(Duration timeout = milliseconds(2000)) {
    UkGridOptions o;
    o.base_url = server_.base_url();
    o.http.total_timeout = timeout;
    o.http.retry.max_attempts = 2;
    o.http.sleep = [](Duration) {};
    auto s = UkGridSource::Create(o);
    EXPECT_TRUE(s.ok());
    return std::move(s).value();
  }
  RecordedServer server_;
};

TEST_F(UkGridTest, ActualValue) {
  server_.Script("/intensity", {{200, TestData("uk_intensity.json")}});
  StatusOr<CarbonReading> r = Make()->Latest(T("2024-09-24T03:10:00Z"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->intensity.value(), 148);
  EXPECT_EQ(r->time, T("2024-09-24T03:00:00Z"));
  EXPECT_FALSE(r->forecast);
  EXPECT_FALSE(r->stale);
  EXPECT_EQ(r->source, "ukgrid:GB");
}

TEST_F(UkGridTest, NullActualUsesForecastAndSaysSo) {
  server_.Script("/intensity", {{200, TestData("uk_intensity_null_actual.json")}});
  StatusOr<CarbonReading> r = Make()->Latest(T("2024-09-24T03:10:00Z"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->intensity.value(), 152);
  EXPECT_TRUE(r->forecast);
  EXPECT_NE(r->note.find("actual not yet published"), std::string::npos) << r->note;
}

TEST_F(UkGridTest, MissingForecastToo) {
  server_.Script("/intensity", {{200, TestData("uk_intensity_missing_forecast.json")}});
  StatusOr<CarbonReading> r = Make()->Latest(T("2024-09-24T03:10:00Z"));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("UK Carbon Intensity"), std::string::npos);
  EXPECT_NE(r.status().message().find("missing key 'forecast'"), std::string::npos) << r.status().message();
}

TEST_F(UkGridTest, Forecast24h) {
  server_.Script("/intensity/2024-09-24T03:10Z/fw24h", {{200, TestData("uk_fw24h.json")}});
  StatusOr<std::vector<CarbonReading>> f = Make()->Forecast(T("2024-09-24T03:10:00Z"), std::chrono::hours(3));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->size(), 7u);  // 03:00 (in force, actual) then 03:30 .. 06:00
  EXPECT_FALSE(f->front().forecast);
  EXPECT_DOUBLE_EQ(f->front().intensity.value(), 148);
  EXPECT_TRUE(f->back().forecast);
  EXPECT_EQ(f->back().time, T("2024-09-24T06:00:00Z"));
}

TEST_F(UkGridTest, FailuresAreNamed) {
  server_.Script("/intensity", {{500, "down"}});
  StatusOr<CarbonReading> r = Make()->Latest(T("2024-09-24T03:10:00Z"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("UK Carbon Intensity"), std::string::npos);
  EXPECT_EQ(server_.hits("/intensity"), 2);

  server_.Script("/intensity", {{200, TestData("malformed.json")}});
  EXPECT_EQ(Make()->Latest(T("2024-09-24T03:10:00Z")).status().code(), StatusCode::kInvalidArgument);

  server_.Script("/intensity", {{200, TestData("uk_intensity.json"), {}, milliseconds(400)}});
  EXPECT_EQ(Make(milliseconds(150))->Latest(T("2024-09-24T03:10:00Z")).status().code(),
            StatusCode::kDeadlineExceeded);
}

TEST(UkGridTimeTest, PathFormat) {
  EXPECT_EQ(FormatUkGridTime(T("2020-05-24T20:30:45Z")), "2020-05-24T20:30Z");
}

}  // namespace
}  // namespace ecomap::carbon
