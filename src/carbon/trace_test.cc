#include "carbon/trace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ecomap::carbon {
namespace {

using ::testing::HasSubstr;
using std::chrono::hours;
using std::chrono::minutes;

std::string DataPath(const std::string& file) { return std::string(ECOMAP_SOURCE_DIR) + "/data/carbon/" + file; }
std::string TestPath(const std::string& file) {
  return std::string(ECOMAP_SOURCE_DIR) + "/src/carbon/testdata/traces/" + file;
}
TimePoint T(const char* s) { return ParseTimestamp(s).value(); }

struct BundledCase {
  const char* file;
  const char* zone;
  int year;
  TraceColumn column;
  double first_value;  // the first row's value in that column, read from the file by eye
};

class BundledTraceTest : public ::testing::TestWithParam<BundledCase> {};

TEST_P(BundledTraceTest, ParsesAllRows) {
  const BundledCase& c = GetParam();
  StatusOr<Trace> t = LoadTrace(DataPath(c.file), {.column = c.column});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->name, c.file);
  EXPECT_EQ(t->zone, c.zone);
  EXPECT_EQ(t->format, TraceFormat::kElectricityMapsCsv);
  EXPECT_EQ(t->column, c.column);
  ASSERT_EQ(t->points.size(), 8760u);
  EXPECT_EQ(t->period, hours(1));
  const std::string y = std::to_string(c.year);
  EXPECT_EQ(t->points.front().time, T((y + "-01-01 00:00:00").c_str()));
  EXPECT_EQ(t->points.back().time, T((y + "-12-31 23:00:00").c_str()));
  EXPECT_DOUBLE_EQ(t->points.front().intensity.value(), c.first_value);
  for (size_t i = 1; i < t->points.size(); ++i) {
    ASSERT_EQ(t->points[i].time - t->points[i - 1].time, hours(1)) << "row " << i + 2;
    ASSERT_GE(t->points[i].intensity.value(), 0.0);
  }
  EXPECT_EQ(t->End(), T((std::to_string(c.year + 1) + "-01-01").c_str()));
  EXPECT_THAT(t->Attribution(), HasSubstr("ODbL"));
}

INSTANTIATE_TEST_SUITE_P(
    AllFourBothColumns, BundledTraceTest,
    ::testing::Values(BundledCase{"ES_2022_hourly.csv", "ES", 2022, TraceColumn::kDirect, 133.64},
                      BundledCase{"ES_2022_hourly.csv", "ES", 2022, TraceColumn::kLifecycle, 175.54},
                      BundledCase{"ES_2023_hourly.csv", "ES", 2023, TraceColumn::kDirect, 82.99},
                      BundledCase{"ES_2023_hourly.csv", "ES", 2023, TraceColumn::kLifecycle, 114.42},
                      BundledCase{"US-CAL-CISO_2022_hourly.csv", "US-CAL-CISO", 2022, TraceColumn::kDirect, 209.26},
                      BundledCase{"US-CAL-CISO_2022_hourly.csv", "US-CAL-CISO", 2022, TraceColumn::kLifecycle, 274.07},
                      BundledCase{"US-CAL-CISO_2023_hourly.csv", "US-CAL-CISO", 2023, TraceColumn::kDirect, 218.3},
                      BundledCase{"US-CAL-CISO_2023_hourly.csv", "US-CAL-CISO", 2023, TraceColumn::kLifecycle,
                                  285.41}));

TEST(TraceTest, LifecycleColumnIsAboveDirect) {
  StatusOr<Trace> direct = LoadTrace(DataPath("ES_2022_hourly.csv"), {.column = TraceColumn::kDirect});
  StatusOr<Trace> lca = LoadTrace(DataPath("ES_2022_hourly.csv"), {.column = TraceColumn::kLifecycle});
  ASSERT_TRUE(direct.ok() && lca.ok());
  for (size_t i = 0; i < direct->points.size(); ++i) {
    ASSERT_GT(lca->points[i].intensity, direct->points[i].intensity) << i;
  }
}

TEST(TraceTest, EstimatedFlagIsRead) {
  StatusOr<Trace> t = LoadTrace(DataPath("ES_2022_hourly.csv"));
  ASSERT_TRUE(t.ok());
  size_t estimated = 0;
  for (const TracePoint& p : t->points) estimated += p.estimated;
  EXPECT_GT(estimated, 0u);
  EXPECT_LT(estimated, 200u);
}

TEST(TraceTest, NewHeaderVariantWithBomCrlfAndQuotes) {
  StatusOr<Trace> direct = LoadTrace(TestPath("em_new_header.csv"));
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  ASSERT_EQ(direct->points.size(), 3u);
  EXPECT_EQ(direct->zone, "ES");
  EXPECT_DOUBLE_EQ(direct->points[0].intensity.value(), 120.5);
  EXPECT_DOUBLE_EQ(direct->points[1].intensity.value(), 118);
  EXPECT_DOUBLE_EQ(direct->points[2].intensity.value(), 110.25);
  EXPECT_FALSE(direct->points[0].estimated);
  EXPECT_TRUE(direct->points[1].estimated);
  EXPECT_EQ(direct->points[2].time, T("2024-03-01T02:00:00Z"));
  StatusOr<Trace> lca = LoadTrace(TestPath("em_new_header.csv"), {.column = TraceColumn::kLifecycle});
  ASSERT_TRUE(lca.ok()) << lca.status().ToString();
  EXPECT_DOUBLE_EQ(lca->points[0].intensity.value(), 160.25);
  EXPECT_DOUBLE_EQ(lca->points[2].intensity.value(), 150.5);
}

TEST(TraceTest, QuotedFieldSpanningLinesKeepsLineNumbers) {
  StatusOr<Trace> t = LoadTrace(TestPath("em_multiline_field.csv"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->points.size(), 3u);
  // The same content with a bad value after the multi-line field: the error names line 5.
  std::string text =
      "Datetime (UTC),Zone Name,Zone Id,Carbon Intensity gCO\xE2\x82\x82" "eq/kWh (direct)\n"
      "2022-01-01 00:00:00,a,ES,1\n"
      "2022-01-01 01:00:00,\"x\ny\",ES,2\n"
      "2022-01-01 02:00:00,a,ES,oops\n";
  StatusOr<Trace> bad = ParseTrace(text, "m.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("m.csv:5: carbon intensity 'oops' is not a number"));
}

TEST(TraceTest, PlainCsv) {
  StatusOr<Trace> t = LoadTrace(TestPath("plain.csv"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->format, TraceFormat::kPlainCsv);
  ASSERT_EQ(t->points.size(), 3u);
  EXPECT_DOUBLE_EQ(t->points[1].intensity.value(), 240.5);
  EXPECT_EQ(t->period, hours(1));  // most common spacing; the 2 h gap does not change it
  EXPECT_EQ(t->Attribution(), "");
}

TEST(TraceTest, CarbonAwareSdkJsonArray) {
  StatusOr<Trace> t = LoadTrace(TestPath("sdk.json"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->format, TraceFormat::kCarbonAwareSdkJson);
  EXPECT_EQ(t->zone, "eastus");
  ASSERT_EQ(t->points.size(), 3u);
  EXPECT_EQ(t->period, minutes(5));
  EXPECT_DOUBLE_EQ(t->points[2].intensity.value(), 470);
  EXPECT_EQ(t->points[1].time, T("2022-01-01T00:05:00Z"));
}

TEST(TraceTest, CarbonAwareSdkEmissionsObject) {
  StatusOr<Trace> t = LoadTrace(TestPath("sdk_emissions_object.json"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->zone, "westus");
  EXPECT_EQ(t->points.size(), 2u);
  EXPECT_EQ(t->period, hours(1));
}

TEST(TraceTest, SdkDurationForms) {
  struct Case {
    const char* duration;
    Duration want;
  } cases[] = {{"01:00:00", hours(1)}, {"00:05:00", minutes(5)}, {"1.00:00:00", hours(24)},
               {"PT1H", hours(1)},     {"PT30M", minutes(30)},   {"P1D", hours(24)}};
  for (const Case& c : cases) {
    std::string json = std::string("[{\"Location\":\"x\",\"Time\":\"2022-01-01T00:00:00Z\",\"Rating\":1,\"Duration\":\"") +
                       c.duration + "\"}]";
    StatusOr<Trace> t = ParseTrace(json, "d.json");
    ASSERT_TRUE(t.ok()) << c.duration << ": " << t.status().ToString();
    EXPECT_EQ(t->period, c.want) << c.duration;
  }
  StatusOr<Trace> bad = ParseTrace(R"([{"Time":"2022-01-01T00:00:00Z","Rating":1,"Duration":"soon"}])", "d.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("d.json:1: element 0: Duration 'soon'"));
}

struct BadCase {
  const char* file;
  const char* want;  // substring of the error message
};

class MalformedTraceTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(MalformedTraceTest, FailsNamingFileLineAndProblem) {
  StatusOr<Trace> t = LoadTrace(TestPath(GetParam().file));
  ASSERT_FALSE(t.ok()) << GetParam().file << " parsed";
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr(GetParam().want));
}

INSTANTIATE_TEST_SUITE_P(
    Files, MalformedTraceTest,
    ::testing::Values(
        BadCase{"bad_missing_column.csv", "bad_missing_column.csv:1: missing column 'Carbon Intensity gCO₂eq/kWh (direct)'"},
        BadCase{"bad_timestamp.csv", "bad_timestamp.csv:3: bad timestamp '2022-13-01 01:00:00'"},
        BadCase{"bad_negative.csv", "bad_negative.csv:3: carbon intensity '-3' is negative"},
        BadCase{"bad_non_numeric.csv", "bad_non_numeric.csv:3: carbon intensity 'abc' is not a number"},
        BadCase{"bad_duplicate.csv", "bad_duplicate.csv:4: duplicate time 2023-05-01T01:00:00Z (line 3"},
        BadCase{"bad_out_of_order.csv", "bad_out_of_order.csv:4: time 2023-05-01T01:00:00Z is earlier than line 3's"},
        BadCase{"bad_empty.csv", "bad_empty.csv:1: empty file"},
        BadCase{"bad_header_only.csv", "bad_header_only.csv:2: no data rows after the header"},
        BadCase{"bad_sdk_negative.json", "bad_sdk_negative.json:3: element 1: carbon intensity '-1' is negative"},
        BadCase{"bad_sdk_malformed.json", "bad_sdk_malformed.json:3: malformed JSON"}));

struct InlineBadCase {
  const char* name;
  const char* text;
  TraceColumn column;
  const char* want;
};

class InlineMalformedTest : public ::testing::TestWithParam<InlineBadCase> {};

TEST_P(InlineMalformedTest, Fails) {
  const InlineBadCase& c = GetParam();
  StatusOr<Trace> t = ParseTrace(c.text, "in.csv", {.column = c.column});
  ASSERT_FALSE(t.ok()) << c.name;
  EXPECT_THAT(t.status().message(), HasSubstr(c.want)) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Inline, InlineMalformedTest,
    ::testing::Values(
        InlineBadCase{"only whitespace", " \n\r\n ", TraceColumn::kDirect, "in.csv:1: empty file"},
        InlineBadCase{"only a BOM", "\xEF\xBB\xBF", TraceColumn::kDirect, "in.csv:1: empty file"},
        InlineBadCase{"unknown header", "when,value\n2022-01-01,3\n", TraceColumn::kDirect,
                      "in.csv:1: unrecognised header 'when,value'"},
        InlineBadCase{"plain without value column", "timestamp,co2\n2022-01-01,3\n", TraceColumn::kDirect,
                      "in.csv:1: missing column 'gco2_per_kwh'"},
        InlineBadCase{"lca column missing",
                      "Datetime (UTC),Carbon Intensity gCO2eq/kWh (direct)\n2022-01-01 00:00,3\n",
                      TraceColumn::kLifecycle, "in.csv:1: missing column 'Carbon Intensity gCO₂eq/kWh (LCA)'"},
        InlineBadCase{"short row", "timestamp,gco2_per_kwh\n2022-01-01 00:00\n", TraceColumn::kDirect,
                      "in.csv:2: row has 1 fields"},
        InlineBadCase{"empty value", "timestamp,gco2_per_kwh\n2022-01-01 00:00,\n", TraceColumn::kDirect,
                      "in.csv:2: empty carbon intensity"},
        InlineBadCase{"nan", "timestamp,gco2_per_kwh\n2022-01-01 00:00,nan\n", TraceColumn::kDirect,
                      "in.csv:2: carbon intensity 'nan' is not a number"},
        InlineBadCase{"trailing text", "timestamp,gco2_per_kwh\n2022-01-01 00:00,12g\n", TraceColumn::kDirect,
                      "in.csv:2: carbon intensity '12g' is not a number"},
        InlineBadCase{"empty timestamp", "timestamp,gco2_per_kwh\n,12\n", TraceColumn::kDirect,
                      "in.csv:2: empty timestamp"},
        InlineBadCase{"unterminated quote", "timestamp,gco2_per_kwh\n\"2022-01-01 00:00,12\n", TraceColumn::kDirect,
                      "in.csv:2: unterminated quoted field"},
        InlineBadCase{"text after quote", "timestamp,gco2_per_kwh\n\"2022-01-01 00:00\"x,12\n", TraceColumn::kDirect,
                      "in.csv:2: unexpected character after a closing quote"},
        InlineBadCase{"bad estimated flag", "timestamp,gco2_per_kwh,estimated\n2022-01-01 00:00,12,maybe\n",
                      TraceColumn::kDirect, "in.csv:2: estimated flag 'maybe'"},
        InlineBadCase{"json not array", "{\"data\": 3}", TraceColumn::kDirect, "in.csv:1: JSON object without"},
        InlineBadCase{"json empty array", "[]", TraceColumn::kDirect, "in.csv:1: empty array"},
        InlineBadCase{"json missing rating", "[\n{\"Time\":\"2022-01-01T00:00:00Z\"}\n]", TraceColumn::kDirect,
                      "in.csv:2: element 0: missing key \"Rating\""},
        InlineBadCase{"json string rating", "[\n{\"Time\":\"2022-01-01T00:00:00Z\",\"Rating\":\"12\"}]",
                      TraceColumn::kDirect, "in.csv:2: element 0: carbon intensity \"12\" (\"Rating\") is not a number"},
        InlineBadCase{"json out of order",
                      "[{\"Time\":\"2022-01-01T01:00:00Z\",\"Rating\":1},\n {\"Time\":\"2022-01-01T00:00:00Z\",\"Rating\":2}]",
                      TraceColumn::kDirect, "in.csv:2: time 2022-01-01T00:00:00Z is earlier than line 1's"},
        InlineBadCase{"json number overflow", "[{\"Time\":\"2022-01-01T00:00:00Z\",\"Rating\":1e400}]",
                      TraceColumn::kDirect, "in.csv:1: malformed JSON"},
        InlineBadCase{"csv number overflow", "timestamp,gco2_per_kwh\n2022-01-01,1e400\n", TraceColumn::kDirect,
                      "in.csv:2: carbon intensity '1e400' is out of range"},
        InlineBadCase{"binary header", "\x01\x02\x03garbage\n", TraceColumn::kDirect,
                      "in.csv:1: unrecognised header '???garbage'"},
        InlineBadCase{"json emissions after another array",
                      "{\"meta\": [1, 2],\n \"Emissions\": [\n{\"Time\":\"2022-01-01\",\"Rating\":1},\n"
                      "{\"Time\":\"2022-01-01\",\"Rating\":2}]}",
                      TraceColumn::kDirect, "in.csv:4: duplicate time 2022-01-01T00:00:00Z (line 3"},
        InlineBadCase{"json bad time", "[{\"Time\":\"yesterday\",\"Rating\":1}]", TraceColumn::kDirect,
                      "in.csv:1: element 0: bad timestamp 'yesterday'"}));

TEST(TraceTest, CrlfAndLfGiveTheSameTrace) {
  std::string lf = "timestamp,gco2_per_kwh\n2022-01-01 00:00,1\n2022-01-01 01:00,2\n";
  std::string crlf = "timestamp,gco2_per_kwh\r\n2022-01-01 00:00,1\r\n2022-01-01 01:00,2\r\n";
  StatusOr<Trace> a = ParseTrace(lf, "a"), b = ParseTrace(crlf, "b");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->points.size(), b->points.size());
  for (size_t i = 0; i < a->points.size(); ++i) {
    EXPECT_EQ(a->points[i].time, b->points[i].time);
    EXPECT_EQ(a->points[i].intensity, b->points[i].intensity);
  }
}

TEST(TraceTest, MissingFileIsNotFound) {
  StatusOr<Trace> t = LoadTrace("/nonexistent/trace.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(t.status().message(), HasSubstr("/nonexistent/trace.csv"));
}

TEST(TraceTest, IndexAtAndSlice) {
  StatusOr<Trace> t = LoadTrace(TestPath("plain.csv"));
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->IndexAt(T("2023-04-30T23:59:59Z")).has_value());
  EXPECT_EQ(t->IndexAt(T("2023-05-01T00:00:00Z")), 0u);
  EXPECT_EQ(t->IndexAt(T("2023-05-01T00:59:00Z")), 0u);
  EXPECT_EQ(t->IndexAt(T("2023-05-01T02:30:00Z")), 1u);
  EXPECT_EQ(t->IndexAt(T("2024-01-01")), 2u);
  StatusOr<Trace> s = SliceTrace(*t, T("2023-05-01T01:00:00Z"), T("2023-05-01T03:00:00Z"));
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->points.size(), 1u);
  EXPECT_DOUBLE_EQ(s->points[0].intensity.value(), 240.5);
  EXPECT_FALSE(SliceTrace(*t, T("2024-01-01"), std::nullopt).ok());
}

TEST(TraceTest, ColumnNames) {
  EXPECT_EQ(ParseTraceColumn("direct").value(), TraceColumn::kDirect);
  EXPECT_EQ(ParseTraceColumn("LCA").value(), TraceColumn::kLifecycle);
  EXPECT_EQ(ParseTraceColumn("lifecycle").value(), TraceColumn::kLifecycle);
  StatusOr<TraceColumn> bad = ParseTraceColumn("indirect");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("'indirect'"));
}

}  // namespace
}  // namespace ecomap::carbon
