#include "carbon/stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include <fmt/format.h>

namespace ecomap::carbon {
namespace {

double Round2(double v) { return std::round(v * 100.0) / 100.0; }

}  // namespace

double Percentile(std::span<const double> v, double p) {
  const double r = (static_cast<double>(v.size()) - 1.0) * p / 100.0;
  const size_t lo = static_cast<size_t>(std::floor(r));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (r - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

TraceStats ComputeStats(const Trace& trace) {
  TraceStats s;
  std::vector<double> values;
  values.reserve(trace.points.size());
  double sum = 0;
  std::map<long long, std::pair<double, double>> day_range;  // UTC day -> (min, max)
  for (const TracePoint& p : trace.points) {
    const double v = p.intensity.value();
    values.push_back(v);
    sum += v;
    if (p.estimated) ++s.estimated;
    const long long day = std::chrono::floor<std::chrono::days>(p.time).time_since_epoch().count();
    auto [it, inserted] = day_range.try_emplace(day, v, v);
    if (!inserted) {
      it->second.first = std::min(it->second.first, v);
      it->second.second = std::max(it->second.second, v);
    }
  }
  std::sort(values.begin(), values.end());
  s.count = values.size();
  s.days = day_range.size();
  s.start = trace.points.front().time;
  s.end = trace.points.back().time;
  s.min = GramsPerKwh(values.front());
  s.max = GramsPerKwh(values.back());
  s.p10 = GramsPerKwh(Percentile(values, 10));
  s.median = GramsPerKwh(Percentile(values, 50));
  s.p90 = GramsPerKwh(Percentile(values, 90));
  s.mean = GramsPerKwh(sum / static_cast<double>(values.size()));
  double swing = 0;
  for (const auto& [day, range] : day_range) swing += range.second - range.first;
  s.mean_daily_swing = GramsPerKwh(swing / static_cast<double>(day_range.size()));
  return s;
}

std::string StatsToJson(const TraceStats& s) {
  nlohmann::ordered_json j;
  j["count"] = s.count;
  j["start"] = FormatIso8601(s.start);
  j["end"] = FormatIso8601(s.end);
  j["min"] = Round2(s.min.value());
  j["p10"] = Round2(s.p10.value());
  j["median"] = Round2(s.median.value());
  j["p90"] = Round2(s.p90.value());
  j["max"] = Round2(s.max.value());
  j["mean_daily_swing"] = Round2(s.mean_daily_swing.value());
  return j.dump();
}

std::string StatsToText(const TraceStats& s, const Trace& trace) {
  std::string out;
  auto row = [&](const std::string& k, const std::string& v) {
    out += fmt::format("  {:<18} {}\n", k, v);
  };
  const std::string unit = " gCO2eq/kWh";
  out += "Carbon intensity trace " + trace.name + "\n";
  row("zone", trace.zone.empty() ? "(not given)" : trace.zone);
  row("format", TraceFormatName(trace.format));
  if (trace.format == TraceFormat::kElectricityMapsCsv) {
    row("column", trace.column == TraceColumn::kDirect ? "direct (operational)" : "lca (life cycle)");
  }
  row("points", std::to_string(s.count) + " (" + std::to_string(s.estimated) + " estimated), " +
                    std::to_string(s.days) + " UTC days");
  row("period", fmt::format("{:.0f}", std::chrono::duration<double, std::ratio<60>>(trace.period).count()) + " min");
  row("start", FormatIso8601(s.start));
  row("end", FormatIso8601(s.end) + " (last period's start)");
  row("min", fmt::format("{:.1f}", s.min.value()) + unit);
  row("p10", fmt::format("{:.1f}", s.p10.value()) + unit);
  row("median", fmt::format("{:.1f}", s.median.value()) + unit);
  row("mean", fmt::format("{:.1f}", s.mean.value()) + unit);
  row("p90", fmt::format("{:.1f}", s.p90.value()) + unit);
  row("max", fmt::format("{:.1f}", s.max.value()) + unit);
  row("mean daily swing", fmt::format("{:.1f}", s.mean_daily_swing.value()) + unit + " (mean over UTC days of max - min)");
  if (!trace.Attribution().empty()) out += trace.Attribution() + "\n";
  return out;
}

}  // namespace ecomap::carbon
