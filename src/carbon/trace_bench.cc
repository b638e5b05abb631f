// Parsing speed of the bundled traces. Goal: a bundled file (8760 rows) parses in well under
// 100 ms. Each iteration also times a naive baseline over the same bytes (split lines and fields,
// strtod the direct column, no validation) and reports the ratio parse/baseline, so the figure
// is comparable across machines.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "carbon/trace.h"

namespace ecomap::carbon {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double NaiveSum(const std::string& text) {
  double sum = 0;
  size_t pos = text.find('\n') + 1;  // skip the header
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    size_t field = pos;
    for (int i = 0; i < 4 && field < end; ++i) field = text.find(',', field) + 1;
    sum += std::strtod(text.c_str() + field, nullptr);
    pos = end + 1;
  }
  return sum;
}

void BM_ParseBundledTrace(benchmark::State& state, const char* file) {
  const std::string text = ReadAll(std::string(ECOMAP_DATA_DIR) + "/carbon/" + file);
  double parse_s = 0, base_s = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    StatusOr<Trace> t = ParseTrace(text, file);
    auto t1 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(NaiveSum(text));
    auto t2 = std::chrono::steady_clock::now();
    if (!t.ok() || t->points.size() != 8760) state.SkipWithError("parse failed");
    parse_s += std::chrono::duration<double>(t1 - t0).count();
    base_s += std::chrono::duration<double>(t2 - t1).count();
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["parse_ms"] = 1000 * parse_s / n;
  state.counters["naive_split_ms"] = 1000 * base_s / n;
  state.counters["ratio_vs_naive"] = parse_s / base_s;
}

BENCHMARK_CAPTURE(BM_ParseBundledTrace, ES_2022, "ES_2022_hourly.csv")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ParseBundledTrace, US_CAL_CISO_2023, "US-CAL-CISO_2023_hourly.csv")
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ecomap::carbon

BENCHMARK_MAIN();
