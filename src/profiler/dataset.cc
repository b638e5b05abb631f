#include "profiler/dataset.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ecomap::profiler {

using nlohmann::json;

std::string SampleToJsonLine(const Sample& s) {
  json j;
  j["schema"] = kDatasetSchema;
  j["platform"] = s.platform;
  j["provenance"] = platform::ProvenanceName(s.provenance);
  j["power_provenance"] = platform::ProvenanceName(s.power_provenance);
  j["index"] = s.index;
  j["seed"] = s.seed;
  j["config"] = s.config;
  j["result"] = s.result;
  return j.dump();
}

StatusOr<Sample> SampleFromJsonLine(const std::string& line, const std::string& where) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception& e) {
    return InvalidArgument(where + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) return InvalidArgument(where + ": a sample must be a JSON object");
  for (const char* key : {"schema", "platform", "provenance", "config", "result"}) {
    if (!j.contains(key)) return InvalidArgument(where + ": missing field '" + key + "'");
  }
  if (!j["schema"].is_string() || j["schema"].get<std::string>() != kDatasetSchema) {
    return InvalidArgument(where + ": schema " + j["schema"].dump() + " is not '" + kDatasetSchema +
                           "' (a dataset from another version; regenerate it with `ecomap profile`)");
  }
  Sample s;
  if (!j["platform"].is_string()) return InvalidArgument(where + ": 'platform' must be a string");
  s.platform = j["platform"].get<std::string>();
  if (!j["provenance"].is_string()) return InvalidArgument(where + ": 'provenance' must be a string");
  auto prov = platform::ParseProvenance(j["provenance"].get<std::string>());
  if (!prov.ok()) return prov.status().WithContext(where);
  s.provenance = *prov;
  s.power_provenance = *prov;
  if (j.contains("power_provenance")) {
    if (!j["power_provenance"].is_string()) return InvalidArgument(where + ": 'power_provenance' must be a string");
    auto pp = platform::ParseProvenance(j["power_provenance"].get<std::string>());
    if (!pp.ok()) return pp.status().WithContext(where);
    s.power_provenance = *pp;
  }
  if (j.contains("index")) {
    if (!j["index"].is_number_integer()) return InvalidArgument(where + ": 'index' must be an integer");
    s.index = j["index"].get<int64_t>();
  }
  if (j.contains("seed")) {
    if (!j["seed"].is_number_unsigned() && !j["seed"].is_number_integer())
      return InvalidArgument(where + ": 'seed' must be an integer");
    s.seed = j["seed"].get<uint64_t>();
  }
  auto config = platform::ConfigurationFromJson(j["config"]);
  if (!config.ok()) return config.status().WithContext(where + ": config");
  s.config = std::move(*config);
  auto result = platform::PerformanceFromJson(j["result"]);
  if (!result.ok()) return result.status().WithContext(where + ": result");
  s.result = std::move(*result);
  if (s.result.tenants.size() != s.config.tenants.size()) {
    return InvalidArgument(where + ": result has " + std::to_string(s.result.tenants.size()) +
                           " tenants but config has " + std::to_string(s.config.tenants.size()));
  }
  return s;
}

StatusOr<std::unique_ptr<DatasetWriter>> DatasetWriter::Open(const std::string& path, bool truncate) {
  std::FILE* f = std::fopen(path.c_str(), truncate ? "w" : "a");
  if (!f) return Unavailable("cannot open '" + path + "' for writing: " + std::strerror(errno));
  return std::unique_ptr<DatasetWriter>(new DatasetWriter(f, path));
}

DatasetWriter::~DatasetWriter() {
  if (f_) std::fclose(f_);
}

Status DatasetWriter::Append(const Sample& sample) {
  std::string line = SampleToJsonLine(sample);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = std::fwrite(line.data(), 1, line.size(), f_);
  if (n != line.size() || std::fflush(f_) != 0) {
    return DataLoss("writing '" + path_ + "' failed after " + std::to_string(lines_) + " lines: " +
                    std::strerror(errno));
  }
  ++lines_;
  return Status::Ok();
}

StatusOr<Dataset> ReadDataset(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("dataset '" + path + "' not found or unreadable");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  Dataset d;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    ++line_no;
    if (nl == std::string::npos) {  // an interrupted last write
      d.truncated_lines = 1;
      break;
    }
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    auto s = SampleFromJsonLine(line, path + ":" + std::to_string(line_no));
    if (!s.ok()) return s.status();
    d.samples.push_back(std::move(*s));
  }
  if (d.samples.empty()) return InvalidArgument("dataset '" + path + "' has no samples");
  return d;
}

namespace {

// Removes the samples whose configuration is (`in_others`) or is not (!`in_others`) in `others`.
int EraseByConfiguration(std::vector<Sample>* samples, const std::vector<Sample>& others, bool in_others) {
  const size_t before = samples->size();
  std::erase_if(*samples, [&](const Sample& s) {
    return in_others == std::any_of(others.begin(), others.end(), [&](const Sample& o) { return o.config == s.config; });
  });
  return static_cast<int>(before - samples->size());
}

}  // namespace

int RemoveConfigurations(std::vector<Sample>* samples, const std::vector<Sample>& others) {
  return EraseByConfiguration(samples, others, true);
}

int KeepConfigurations(std::vector<Sample>* samples, const std::vector<Sample>& others) {
  return EraseByConfiguration(samples, others, false);
}

}  // namespace ecomap::profiler
