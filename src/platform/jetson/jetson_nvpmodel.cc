#include "platform/jetson/jetson_nvpmodel.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

#include "platform/host/process.h"
#include "platform/host/sysfs.h"

namespace ecomap::platform {
namespace {

std::string Where(std::string_view source, int line) {
  return std::string(source) + ":" + std::to_string(line);
}

// "< POWER_MODEL ID=2 NAME=MODE_15W >" -> kind "POWER_MODEL", {ID:2, NAME:MODE_15W}.
Status ParseHeader(std::string_view line, std::string_view where, std::string& kind,
                   std::map<std::string, std::string>& attrs) {
  std::string_view inner = Trim(line.substr(1, line.size() - 2));
  std::vector<std::string_view> tokens = SplitWhitespace(inner);
  if (tokens.empty())
    return InvalidArgument(std::string(where) + ": empty section header '" + std::string(line) + "'");
  kind = std::string(tokens[0]);
  attrs.clear();
  for (size_t i = 1; i < tokens.size(); ++i) {
    size_t eq = tokens[i].find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == tokens[i].size()) {
      return InvalidArgument(std::string(where) + ": section header attribute '" + std::string(tokens[i]) +
                             "' is not KEY=VALUE");
    }
    attrs[std::string(tokens[i].substr(0, eq))] = std::string(tokens[i].substr(eq + 1));
  }
  return Status::Ok();
}

std::optional<int> CpuIndexOfOnlinePath(const std::string& path, const std::string& arg) {
  static const std::regex kPath(R"(/cpu([0-9]+)/online$)");
  static const std::regex kArg(R"(^CORE_([0-9]+)$)");
  std::smatch m;
  if (std::regex_search(path, m, kPath)) return std::stoi(m[1].str());
  if (std::regex_match(arg, m, kArg)) return std::stoi(m[1].str());
  return std::nullopt;
}

std::optional<Watts> BudgetFromName(const std::string& name) {
  static const std::regex kBudget(R"((^|[_-])([0-9]+(\.[0-9]+)?)W($|[_-]))");
  std::smatch m;
  if (std::regex_search(name, m, kBudget)) return Watts(std::stod(m[2].str()));
  return std::nullopt;
}

}  // namespace

const std::string* NvpParam::PathOf(std::string_view arg) const {
  for (const auto& [name, path] : args) {
    if (name == arg) return &path;
  }
  return nullptr;
}

const NvpmodelMode* NvpmodelConf::FindMode(int id) const {
  for (const NvpmodelMode& m : modes) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

const NvpmodelMode* NvpmodelConf::FindModeByName(std::string_view name) const {
  for (const NvpmodelMode& m : modes) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const NvpParam* NvpmodelConf::FindParam(std::string_view name) const {
  for (const NvpParam& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool IsCpuClockParam(std::string_view param) { return param.rfind("CPU_", 0) == 0 && param != "CPU_ONLINE"; }

StatusOr<NvpmodelConf> ParseNvpmodelConf(std::string_view text, std::string_view source) {
  NvpmodelConf conf;
  conf.source = std::string(source);
  enum class Section { kNone, kParam, kMode, kOther } section = Section::kNone;
  std::optional<int> default_mode;
  int default_line = 0;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view raw = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') {
      if (nl == text.size()) break;
      continue;
    }
    const std::string where = Where(source, line_no);
    if (line.front() == '<') {
      if (line.back() != '>')
        return InvalidArgument(where + ": section header '" + std::string(line) + "' has no closing '>'");
      std::string kind;
      std::map<std::string, std::string> attrs;
      ECOMAP_RETURN_IF_ERROR(ParseHeader(line, where, kind, attrs));
      if (kind == "PARAM") {
        if (!attrs.count("NAME") || !attrs.count("TYPE")) {
          return InvalidArgument(where + ": PARAM header needs TYPE= and NAME=");
        }
        NvpParam p;
        p.name = attrs["NAME"];
        if (attrs["TYPE"] == "FILE") {
          p.type = NvpParamType::kFile;
        } else if (attrs["TYPE"] == "CLOCK") {
          p.type = NvpParamType::kClock;
        } else {
          return InvalidArgument(where + ": PARAM " + p.name + " has TYPE=" + attrs["TYPE"] +
                                 "; expected FILE or CLOCK");
        }
        if (conf.FindParam(p.name) != nullptr)
          return InvalidArgument(where + ": PARAM " + p.name + " is declared twice");
        conf.params.push_back(std::move(p));
        section = Section::kParam;
      } else if (kind == "POWER_MODEL") {
        if (!attrs.count("ID") || !attrs.count("NAME")) {
          return InvalidArgument(where + ": POWER_MODEL header needs ID= and NAME=");
        }
        auto id = ParseInt64(attrs["ID"], where + ": POWER_MODEL ID");
        if (!id.ok() || *id < 0 || *id > 1000) {
          return InvalidArgument(where + ": POWER_MODEL ID '" + attrs["ID"] +
                                 "' is not a mode number (0..1000)");
        }
        if (conf.FindMode(static_cast<int>(*id)) != nullptr) {
          return InvalidArgument(where + ": POWER_MODEL ID=" + attrs["ID"] + " is defined twice");
        }
        NvpmodelMode m;
        m.id = static_cast<int>(*id);
        m.name = attrs["NAME"];
        m.budget = BudgetFromName(m.name);
        conf.modes.push_back(std::move(m));
        section = Section::kMode;
      } else if (kind == "PM_CONFIG") {
        if (!attrs.count("DEFAULT")) return InvalidArgument(where + ": PM_CONFIG needs DEFAULT=<mode id>");
        auto id = ParseInt64(attrs["DEFAULT"], where + ": PM_CONFIG DEFAULT");
        if (!id.ok()) return id.status();
        default_mode = static_cast<int>(*id);
        default_line = line_no;
        section = Section::kOther;
      } else {
        for (const auto& [k, v] : attrs) conf.other_sections[kind + "." + k] = v;
        section = Section::kOther;
      }
      if (nl == text.size()) break;
      continue;
    }
    std::vector<std::string_view> tokens = SplitWhitespace(line);
    switch (section) {
      case Section::kNone:
        return InvalidArgument(where + ": '" + std::string(line) +
                               "' appears before any < PARAM > or < POWER_MODEL > section");
      case Section::kOther:
        break;  // e.g. lines of a section this parser does not use
      case Section::kParam: {
        if (tokens.size() != 2) {
          return InvalidArgument(where + ": expected 'ARG_NAME /sys/path' in PARAM " +
                                 conf.params.back().name + ", got '" + std::string(line) + "'");
        }
        conf.params.back().args.emplace_back(std::string(tokens[0]), std::string(tokens[1]));
        break;
      }
      case Section::kMode: {
        NvpmodelMode& m = conf.modes.back();
        if (tokens.size() != 3) {
          return InvalidArgument(where + ": expected 'PARAM ARG VALUE' in POWER_MODEL " + m.name + ", got '" +
                                 std::string(line) + "'");
        }
        NvpmodelMode::Setting s{std::string(tokens[0]), std::string(tokens[1]), std::string(tokens[2]),
                                line_no};
        const NvpParam* p = conf.FindParam(s.param);
        if (p == nullptr)
          return InvalidArgument(where + ": POWER_MODEL " + m.name + " sets undeclared PARAM " + s.param);
        const std::string* path = p->PathOf(s.arg);
        if (path == nullptr) {
          return InvalidArgument(where + ": PARAM " + s.param + " has no argument " + s.arg +
                                 " (declare it in < PARAM NAME=" + s.param + " >)");
        }
        if (p->type == NvpParamType::kClock) {
          auto v = ParseInt64(s.value, where + ": " + s.param + " " + s.arg);
          if (!v.ok()) return v.status();
          if (*v < -1)
            return InvalidArgument(where + ": " + s.param + " " + s.arg + " " + s.value +
                                   " is negative (only -1, no cap, is allowed)");
          const double scale = IsCpuClockParam(s.param) ? 1000.0 : 1.0;
          std::optional<double> hz;
          const bool no_cap = *v == -1 || (*v == 0 && s.arg == "MAX_FREQ" && s.param == "EMC") ||
                              (*v == 0 && s.arg == "MIN_FREQ");
          if (!no_cap) hz = static_cast<double>(*v) * scale;
          if (s.arg == "MAX_FREQ") m.clocks[s.param].max_hz = hz;
          if (s.arg == "MIN_FREQ") m.clocks[s.param].min_hz = hz;
        }
        m.settings.push_back(std::move(s));
        break;
      }
    }
    if (nl == text.size()) break;
  }
  if (conf.modes.empty())
    return InvalidArgument(std::string(source) + ": no < POWER_MODEL ID=.. NAME=.. > section");
  if (!default_mode) return InvalidArgument(std::string(source) + ": no < PM_CONFIG DEFAULT=<id> > line");
  if (conf.FindMode(*default_mode) == nullptr) {
    return InvalidArgument(Where(source, default_line) + ": PM_CONFIG DEFAULT=" +
                           std::to_string(*default_mode) + " is not a defined POWER_MODEL ID");
  }
  conf.default_mode = *default_mode;

  // CPUs: those of the CPU_ONLINE param; a mode leaves online every one it does not set to 0.
  std::map<std::string, int> cpu_of_arg;
  if (const NvpParam* online = conf.FindParam("CPU_ONLINE")) {
    for (const auto& [arg, path] : online->args) {
      std::optional<int> cpu = CpuIndexOfOnlinePath(path, arg);
      if (!cpu) {
        return InvalidArgument(std::string(source) + ": CPU_ONLINE argument " + arg + " -> " + path +
                               " does not name a cpuN/online file");
      }
      cpu_of_arg[arg] = *cpu;
      conf.all_cpus.push_back(*cpu);
    }
    std::sort(conf.all_cpus.begin(), conf.all_cpus.end());
  }
  for (NvpmodelMode& m : conf.modes) {
    std::set<int> off;
    for (const auto& s : m.settings) {
      if (s.param != "CPU_ONLINE") continue;
      if (s.value != "0" && s.value != "1") {
        return InvalidArgument(Where(source, s.line) + ": CPU_ONLINE " + s.arg + " " + s.value +
                               " must be 0 or 1");
      }
      if (s.value == "0") off.insert(cpu_of_arg[s.arg]);
    }
    for (int c : conf.all_cpus) {
      if (!off.count(c)) m.online_cpus.push_back(c);
    }
  }
  return conf;
}

StatusOr<NvpmodelCurrent> ParseNvpmodelQuery(std::string_view output) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < output.size()) {
    size_t nl = output.find('\n', pos);
    if (nl == std::string_view::npos) nl = output.size();
    std::string_view l = Trim(output.substr(pos, nl - pos));
    if (!l.empty()) lines.push_back(l);
    pos = nl + 1;
  }
  constexpr std::string_view kKey = "NV Power Mode:";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind(kKey, 0) != 0) continue;
    NvpmodelCurrent cur;
    cur.name = std::string(Trim(lines[i].substr(kKey.size())));
    if (cur.name.empty()) break;
    if (i + 1 >= lines.size()) break;
    auto id = ParseInt64(lines[i + 1], "nvpmodel -q mode id");
    if (!id.ok() || *id < 0) break;
    cur.id = static_cast<int>(*id);
    return cur;
  }
  std::string shown(Trim(output));
  if (shown.size() > 200) shown = shown.substr(0, 200) + "...";
  return InvalidArgument("cannot parse `nvpmodel -q` output (expected 'NV Power Mode: NAME' then the id): '" +
                         shown + "'");
}

StatusOr<int> ParseNvpmodelStatusFile(std::string_view text) {
  for (std::string_view tok : SplitWhitespace(text)) {
    if (tok.rfind("pmode:", 0) == 0) {
      auto id = ParseInt64(tok.substr(6), "nvpmodel status pmode");
      if (!id.ok() || *id < 0)
        return InvalidArgument("nvpmodel status: bad pmode in '" + std::string(Trim(text)) + "'");
      return static_cast<int>(*id);
    }
  }
  return InvalidArgument("nvpmodel status: no 'pmode:NNNN' in '" + std::string(Trim(text)) + "'");
}

NvpmodelClient::NvpmodelClient(NvpmodelConf conf, NvpmodelOptions options)
    : conf_(std::move(conf)), options_(std::move(options)) {}

namespace {

std::string Excerpt(const ProcessResult& r) {
  std::string s(Trim(r.stderr_text.empty() ? r.stdout_text : r.stderr_text + " " + r.stdout_text));
  if (s.size() > 300) s = s.substr(0, 300) + "...";
  return s;
}

bool ContainsNoCase(std::string_view hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

Status ExitStatus(const std::vector<std::string>& argv, const ProcessResult& r) {
  if (r.exit_code == 0) return Status::Ok();
  std::string how = r.term_signal != 0 ? "was killed by signal " + std::to_string(r.term_signal)
                                       : "exited with status " + std::to_string(r.exit_code);
  std::string msg = DescribeCommand(argv) + " " + how + (Excerpt(r).empty() ? "" : ": " + Excerpt(r));
  if (ContainsNoCase(r.stdout_text + r.stderr_text, "permission denied") ||
      ContainsNoCase(r.stdout_text + r.stderr_text, "must be root")) {
    return PermissionDenied(msg + " (nvpmodel needs root: run ecomap with sudo)");
  }
  return Unavailable(msg);
}

}  // namespace

StatusOr<NvpmodelCurrent> NvpmodelClient::Query() const {
  ProcessOptions po;
  po.timeout = options_.timeout;
  po.extra_env = options_.extra_env;
  const std::vector<std::string> argv = {options_.binary, "-q"};
  ECOMAP_ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, po));
  ECOMAP_RETURN_IF_ERROR(ExitStatus(argv, r));
  return ParseNvpmodelQuery(r.stdout_text);
}

Status NvpmodelClient::SetMode(int id) const {
  if (conf_.FindMode(id) == nullptr) {
    std::string ids;
    for (const NvpmodelMode& m : conf_.modes)
      ids += (ids.empty() ? "" : ", ") + std::to_string(m.id) + " (" + m.name + ")";
    return InvalidArgument("power mode " + std::to_string(id) + " is not in " + conf_.source +
                           "; valid modes: " + ids);
  }
  ProcessOptions po;
  po.timeout = options_.timeout;
  po.extra_env = options_.extra_env;
  const std::vector<std::string> argv = {options_.binary, "-m", std::to_string(id)};
  ECOMAP_ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, po));
  if (ContainsNoCase(r.stdout_text + r.stderr_text, "reboot required")) {
    return FailedPrecondition("nvpmodel says switching to mode " + std::to_string(id) + " (" +
                              conf_.FindMode(id)->name +
                              ") needs a reboot; the mode was not changed (run `sudo nvpmodel -m " +
                              std::to_string(id) + "` and reboot, or pick another mode)");
  }
  ECOMAP_RETURN_IF_ERROR(ExitStatus(argv, r));
  ECOMAP_ASSIGN_OR_RETURN(NvpmodelCurrent now, Query());
  if (now.id != id) {
    return DataLoss("nvpmodel -m " + std::to_string(id) + " succeeded but `nvpmodel -q` reports mode " +
                    std::to_string(now.id) + " (" + now.name + ")");
  }
  return Status::Ok();
}

}  // namespace ecomap::platform
