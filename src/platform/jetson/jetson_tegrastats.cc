#include "platform/jetson/jetson_tegrastats.h"

#include <cctype>
#include <regex>

#include "platform/host/sysfs.h"

namespace ecomap::platform {
namespace {

Status Bad(std::string_view field, std::string_view token, std::string_view expected) {
  return InvalidArgument("tegrastats: " + std::string(field) + " value '" + std::string(token) +
                         "' is malformed (expected " + std::string(expected) + ")");
}

bool IsFieldName(std::string_view t) {
  if (t.empty() || !std::isalpha(static_cast<unsigned char>(t.front()))) return false;
  for (char c : t) {
    if (!(std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '_'))
      return false;
  }
  return true;
}

StatusOr<int> ToInt(std::string_view s, std::string_view field, std::string_view token,
                    std::string_view expected) {
  auto v = ParseInt64(s, field);
  if (!v.ok() || *v < 0 || *v > 1000000000) return Bad(field, token, expected);
  return static_cast<int>(*v);
}

// "12%", "12%@1377", "12%@[1300,1300]", "@[1000,1000]".
Status ParseLoadFreq(std::string_view token, std::string_view field, std::optional<int>& load,
                     std::vector<int>& freqs) {
  constexpr std::string_view kExpected = "N%, N%@MHz or N%@[MHz,...]";
  size_t at = token.find('@');
  std::string_view load_part = token.substr(0, at);
  if (!load_part.empty()) {
    if (load_part.back() != '%') return Bad(field, token, kExpected);
    ECOMAP_ASSIGN_OR_RETURN(int l, ToInt(load_part.substr(0, load_part.size() - 1), field, token, kExpected));
    if (l > 100) return Bad(field, token, "a load of at most 100%");
    load = l;
  }
  if (at == std::string_view::npos) {
    if (load_part.empty()) return Bad(field, token, kExpected);
    return Status::Ok();
  }
  std::string_view f = token.substr(at + 1);
  if (!f.empty() && f.front() == '[') {
    if (f.back() != ']') return Bad(field, token, kExpected);
    f = f.substr(1, f.size() - 2);
    size_t i = 0;
    while (i <= f.size()) {
      size_t comma = f.find(',', i);
      if (comma == std::string_view::npos) comma = f.size();
      ECOMAP_ASSIGN_OR_RETURN(int mhz, ToInt(f.substr(i, comma - i), field, token, kExpected));
      freqs.push_back(mhz);
      i = comma + 1;
    }
  } else {
    ECOMAP_ASSIGN_OR_RETURN(int mhz, ToInt(f, field, token, kExpected));
    freqs.push_back(mhz);
  }
  return Status::Ok();
}

Status ParseCpuList(std::string_view token, std::vector<TegrastatsCpu>& cpus) {
  constexpr std::string_view kExpected = "[N%@MHz,off,...]";
  if (token.size() < 2 || token.front() != '[' || token.back() != ']') return Bad("CPU", token, kExpected);
  std::string_view body = token.substr(1, token.size() - 2);
  size_t i = 0;
  while (i <= body.size()) {
    size_t comma = body.find(',', i);
    if (comma == std::string_view::npos) comma = body.size();
    std::string_view item = body.substr(i, comma - i);
    TegrastatsCpu cpu;
    if (item == "off") {
      cpu.online = false;
    } else {
      std::optional<int> load;
      std::vector<int> f;
      if (!ParseLoadFreq(item, "CPU", load, f).ok() || !load || f.size() > 1)
        return Bad("CPU", token, kExpected);
      cpu.online = true;
      cpu.load_pct = *load;
      if (!f.empty()) cpu.freq_mhz = f.front();
    }
    cpus.push_back(cpu);
    i = comma + 1;
  }
  return Status::Ok();
}

// "1155/1155" (Xavier) or "5139mW/5139mW[/5139mW]" (Orin). Returns false when the token is not a rail value.
bool MatchRail(std::string_view token, TegrastatsRail& rail, bool& orin) {
  static const std::regex kXavier(R"(^([0-9]+)/([0-9]+)$)");
  static const std::regex kOrin(R"(^([0-9]+)mW/([0-9]+)mW(/[0-9]+mW)?$)");
  std::cmatch m;
  if (std::regex_match(token.begin(), token.end(), m, kXavier)) {
    orin = false;
  } else if (std::regex_match(token.begin(), token.end(), m, kOrin)) {
    orin = true;
  } else {
    return false;
  }
  rail.current_mw = std::stod(m[1].str());
  rail.average_mw = std::stod(m[2].str());
  return true;
}

}  // namespace

Watts TegrastatsSample::TotalPower() const {
  if (const TegrastatsRail* in = FindRail("VDD_IN")) return Watts(in->current_mw / 1000.0);
  double mw = 0;
  for (const TegrastatsRail& r : rails) mw += r.current_mw;
  return Watts(mw / 1000.0);
}

const TegrastatsRail* TegrastatsSample::FindRail(std::string_view name) const {
  for (const TegrastatsRail& r : rails) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

StatusOr<TegrastatsSample> ParseTegrastatsLine(std::string_view line) {
  static const std::regex kDate(R"(^[0-9]{2}-[0-9]{2}-[0-9]{4}$)");
  static const std::regex kTime(R"(^[0-9]{2}:[0-9]{2}:[0-9]{2}$)");
  static const std::regex kTemp(R"(^([A-Za-z][A-Za-z0-9_]*)@(-?[0-9]+(\.[0-9]+)?)C(/-?[0-9.]+C)?$)");
  static const std::regex kMb(R"(^([0-9]+)/([0-9]+)MB$)");
  std::vector<std::string_view> tok = SplitWhitespace(line);
  if (tok.empty()) return InvalidArgument("tegrastats: empty line");
  TegrastatsSample s;
  size_t i = 0;
  if (tok.size() >= 2 && std::regex_match(tok[0].begin(), tok[0].end(), kDate) &&
      std::regex_match(tok[1].begin(), tok[1].end(), kTime)) {
    s.timestamp = std::string(tok[0]) + " " + std::string(tok[1]);
    i = 2;
  }
  int recognised = 0;
  bool saw_orin = false, saw_xavier = false;
  for (; i < tok.size(); ++i) {
    std::string_view t = tok[i];
    const bool has_next = i + 1 < tok.size();
    std::string_view next = has_next ? tok[i + 1] : std::string_view();
    if (t.front() == '(') {  // "(lfb 3702x4MB)", "(cached 0MB)"
      while (i < tok.size() && tok[i].back() != ')') ++i;
      continue;
    }
    if (t == "RAM" || t == "SWAP" || t == "IRAM") {
      std::cmatch m;
      if (!has_next || !std::regex_match(next.begin(), next.end(), m, kMb))
        return Bad(t, next, "USED/TOTALMB");
      if (t == "RAM") {
        s.ram_used_mb = std::stoi(m[1].str());
        s.ram_total_mb = std::stoi(m[2].str());
      }
      ++recognised;
      ++i;
      continue;
    }
    if (t == "CPU" && has_next && next.front() == '[') {
      ECOMAP_RETURN_IF_ERROR(ParseCpuList(next, s.cpus));
      ++recognised;
      ++i;
      continue;
    }
    if (t == "EMC_FREQ" || t == "GR3D_FREQ") {
      if (!has_next) return Bad(t, "", "N%[@MHz]");
      std::optional<int> load;
      std::vector<int> freqs;
      ECOMAP_RETURN_IF_ERROR(ParseLoadFreq(next, t, load, freqs));
      if (t == "EMC_FREQ") {
        s.emc_load_pct = load;
        if (!freqs.empty()) s.emc_freq_mhz = freqs.front();
      } else {
        s.gr3d_load_pct = load;
        s.gr3d_freq_mhz = freqs;
      }
      ++recognised;
      ++i;
      continue;
    }
    std::cmatch m;
    if (std::regex_match(t.begin(), t.end(), m, kTemp)) {
      s.temperatures_c[m[1].str()] = std::stod(m[2].str());
      ++recognised;
      continue;
    }
    if (IsFieldName(t) && has_next && std::isdigit(static_cast<unsigned char>(next.front())) &&
        next.find('/') != std::string_view::npos) {
      TegrastatsRail rail;
      bool orin = false;
      if (!MatchRail(next, rail, orin))
        return Bad(t, next, "CURRENT/AVERAGE mW, e.g. 1155/1155 or 5139mW/5139mW");
      rail.name = std::string(t);
      (orin ? saw_orin : saw_xavier) = true;
      s.rails.push_back(std::move(rail));
      ++recognised;
      ++i;
      continue;
    }
    // Anything else (APE 174, NVENC off, VIC_FREQ 0%@115, MTS fg 0% bg 0%) is skipped.
  }
  if (recognised == 0) {
    std::string shown(Trim(line));
    if (shown.size() > 80) shown = shown.substr(0, 80) + "...";
    return InvalidArgument("tegrastats: no known field (RAM, CPU [...], GR3D_FREQ, rails) in '" + shown +
                           "'");
  }
  if (saw_orin && saw_xavier)
    return InvalidArgument("tegrastats: line mixes 'N/N' and 'NmW/NmW' rail styles");
  s.orin_style_rails = saw_orin;
  return s;
}

}  // namespace ecomap::platform
