#include "replay/tables.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace ecomap::replay {
namespace {

using json = nlohmann::json;

constexpr std::string_view kOpen = "<!-- replay-table ";
constexpr std::string_view kClose = "<!-- /replay-table -->";

StatusOr<double> Num(const json& c, const std::string& controller, const char* key) {
  if (!c.contains(key) || !c[key].is_number()) {
    return InvalidArgument(fmt::format("controller '{}' has no number '{}' (rerun the replay with this build)",
                                       controller, key));
  }
  return c[key].get<double>();
}

std::string Pct(double x) { return fmt::format("{:.2f}%", 100 * x); }
std::string Saving(double ours, double theirs) {
  if (theirs == 0) return "-";
  return fmt::format("{:+.1f}%", -100.0 * (1.0 - ours / theirs));
}

StatusOr<std::string> Controllers(const json& run) {
  if (!run.contains("controllers") || !run["controllers"].is_object()) {
    return InvalidArgument("not a replay result: no 'controllers' object");
  }
  std::string out =
      "| controller | carbon g | energy Wh | CDP g*s | SLO viol. | acc. loss pts | g / 1k good req. | dropped req. | "
      "decision ms mean / p95 |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const auto& [name, c] : run["controllers"].items()) {
    ECOMAP_ASSIGN_OR_RETURN(double carbon, Num(c, name, "carbon_g"));
    ECOMAP_ASSIGN_OR_RETURN(double energy, Num(c, name, "energy_wh"));
    ECOMAP_ASSIGN_OR_RETURN(double cdp, Num(c, name, "cdp"));
    ECOMAP_ASSIGN_OR_RETURN(double viol, Num(c, name, "slo_violation_rate"));
    ECOMAP_ASSIGN_OR_RETURN(double loss, Num(c, name, "accuracy_loss_pts"));
    ECOMAP_ASSIGN_OR_RETURN(double per_good, Num(c, name, "carbon_per_1k_good_g"));
    ECOMAP_ASSIGN_OR_RETURN(double dropped, Num(c, name, "dropped_requests"));
    ECOMAP_ASSIGN_OR_RETURN(double dec, Num(c, name, "decision_ms"));
    ECOMAP_ASSIGN_OR_RETURN(double dec95, Num(c, name, "decision_ms_p95"));
    ECOMAP_ASSIGN_OR_RETURN(double good, Num(c, name, "good_requests"));
    const bool bold = name == "ecomap";
    // No good request at all: carbon per good request is unbounded, not 0.
    const std::string per_good_text = good > 0 ? fmt::format("{:.4f}", per_good) : "- (none good)";
    out += fmt::format("| {} | {} | {:.0f} | {:.3e} | {} | {:.2f} | {} | {:.0f} | {:.0f} / {:.0f} |\n",
                       bold ? "**ecomap**" : name, bold ? fmt::format("**{:.1f}**", carbon) : fmt::format("{:.1f}", carbon),
                       energy, cdp, Pct(viol), loss, per_good_text, dropped, dec, dec95);
  }
  return out;
}

StatusOr<std::string> Savings(const std::vector<std::string>& files, const std::vector<json>& runs) {
  const json& first = runs.front()["controllers"];
  if (!first.contains("ecomap")) return InvalidArgument(files.front() + " has no 'ecomap' controller");
  std::vector<std::string> others;
  for (const auto& [name, c] : first.items()) {
    if (name != "ecomap") others.push_back(name);
  }
  std::string out = "| run | ";
  for (const std::string& o : others) out += "carbon vs " + o + " | ";
  out += "CDP vs best agnostic | SLO viol. | acc. loss | above the bound at its loss |\n|";
  for (size_t i = 0; i < others.size() + 5; ++i) out += " --- |";
  out += "\n";
  for (size_t k = 0; k < runs.size(); ++k) {
    const json& r = runs[k];
    const json& cs = r["controllers"];
    if (!cs.contains("ecomap")) return InvalidArgument(files[k] + " has no 'ecomap' controller");
    const json& e = cs["ecomap"];
    ECOMAP_ASSIGN_OR_RETURN(double ec, Num(e, "ecomap", "carbon_g"));
    ECOMAP_ASSIGN_OR_RETURN(double ecdp, Num(e, "ecomap", "cdp"));
    ECOMAP_ASSIGN_OR_RETURN(double viol, Num(e, "ecomap", "slo_violation_rate"));
    ECOMAP_ASSIGN_OR_RETURN(double loss, Num(e, "ecomap", "accuracy_loss_pts"));
    const std::string zone = r.contains("trace") ? r["trace"].value("zone", std::string("?")) : "?";
    const std::string start = r.contains("window") ? r["window"].value("start", std::string("?")).substr(0, 10) : "?";
    out += fmt::format("| {} {} |", zone, start);
    for (const std::string& o : others) {
      if (!cs.contains(o)) {
        out += " - |";
        continue;
      }
      ECOMAP_ASSIGN_OR_RETURN(double oc, Num(cs[o], o, "carbon_g"));
      out += " " + Saving(ec, oc) + " |";
    }
    double best_cdp = 0;
    std::string best;
    for (const char* agnostic : {"maxn", "throughput"}) {
      if (!cs.contains(agnostic)) continue;
      ECOMAP_ASSIGN_OR_RETURN(double c, Num(cs[agnostic], agnostic, "cdp"));
      if (best.empty() || c < best_cdp) best_cdp = c, best = agnostic;
    }
    out += best.empty() ? " - |" : fmt::format(" {} ({}) |", Saving(ecdp, best_cdp), best);
    std::string bound = "-";
    if (r.contains("bound") && r["bound"].contains("at") && r["bound"]["at"].contains("ecomap")) {
      const json& b = r["bound"]["at"]["ecomap"];
      if (b.value("feasible", false)) {
        ECOMAP_ASSIGN_OR_RETURN(double bg, Num(b, "bound", "carbon_g"));
        bound = bg > 0 ? fmt::format("{:+.1f}% (bound {:.1f} g)", 100.0 * (ec / bg - 1), bg) : "-";
      }
    }
    out += fmt::format(" {} | {:.2f} pts | {} |\n", Pct(viol), loss, bound);
  }
  return out;
}

}  // namespace

ResultLoader FileLoader(const std::string& root) {
  return [root](const std::string& path) -> StatusOr<json> {
    const std::string full = root.empty() ? path : root + "/" + path;
    std::ifstream f(full);
    if (!f) return NotFound("result file '" + path + "' not found (under " + root + ")");
    json j = json::parse(f, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return DataLoss("result file '" + path + "' is not valid JSON");
    return j;
  };
}

StatusOr<std::string> RenderResultTable(const std::string& kind, const std::vector<std::string>& files,
                                        const ResultLoader& load) {
  if (files.empty()) return InvalidArgument("replay-table " + kind + ": no result file named");
  std::vector<json> runs;
  for (const std::string& f : files) {
    ECOMAP_ASSIGN_OR_RETURN(json j, load(f));
    if (!j.is_object() || j.value("format", std::string()) != "ecomap.replay" || !j.contains("controllers")) {
      return InvalidArgument("'" + f + "' is not an ecomap.replay result");
    }
    runs.push_back(std::move(j));
  }
  if (kind == "controllers") {
    if (files.size() != 1) return InvalidArgument("replay-table controllers takes one file");
    StatusOr<std::string> t = Controllers(runs.front());
    if (!t.ok()) return t.status().WithContext(files.front());
    return t;
  }
  if (kind == "savings") return Savings(files, runs);
  return InvalidArgument("unknown replay-table kind '" + kind + "' (controllers or savings)");
}

StatusOr<std::string> UpdateResultTables(const std::string& doc, const ResultLoader& load) {
  std::string out;
  std::istringstream in(doc);
  std::string line;
  int number = 0;
  bool inside = false;
  int open_line = 0;
  while (std::getline(in, line)) {
    ++number;
    if (inside) {
      if (line == kClose) {
        inside = false;
        out += line + "\n";
      }
      continue;  // the old generated text is dropped
    }
    out += line + "\n";
    if (line.rfind(kOpen, 0) != 0) continue;
    if (line.size() < kOpen.size() + 4 || line.substr(line.size() - 4) != " -->") {
      return InvalidArgument(fmt::format("line {}: a replay-table marker ends with ' -->'", number));
    }
    std::istringstream words(line.substr(kOpen.size(), line.size() - kOpen.size() - 4));
    std::string kind;
    words >> kind;
    std::vector<std::string> files;
    for (std::string f; words >> f;) files.push_back(f);
    StatusOr<std::string> table = RenderResultTable(kind, files, load);
    if (!table.ok()) return table.status().WithContext(fmt::format("line {}", number));
    out += *table;
    inside = true;
    open_line = number;
  }
  if (inside) return InvalidArgument(fmt::format("line {}: replay-table block not closed with {}", open_line, kClose));
  if (!doc.empty() && doc.back() != '\n' && !out.empty()) out.pop_back();
  return out;
}

}  // namespace ecomap::replay
