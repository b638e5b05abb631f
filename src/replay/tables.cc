#include "replay/tables.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "replay/sweep.h"

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

// The knob each swept curve was drawn along (replay/sweep.h).
std::string KnobOf(const std::string& curve) {
  if (curve == "ecomap") return "threshold depth";
  if (curve == "energy") return "threshold position";
  if (curve == "clover") return "lambda";
  if (curve == "bound") return "accuracy-loss budget";
  return "-";
}

// The "pareto" object of a swept run, or InvalidArgument naming how to make one.
StatusOr<json> Pareto(const json& run) {
  if (!run.contains("pareto") || !run["pareto"].is_object() || run["pareto"].empty()) {
    return InvalidArgument("no 'pareto' curves (replay with --sweep N)");
  }
  return run["pareto"];
}

// The carbon of a run's curve `name` at `loss` (CarbonAtLoss); InvalidArgument naming `file`
// when the run has no such curve or a point lacks a figure.
StatusOr<std::optional<double>> CurveAt(const json& pareto, const std::string& file, const std::string& name,
                                        double loss) {
  if (!pareto.contains(name)) return InvalidArgument(fmt::format("{} has no '{}' curve", file, name));
  std::vector<std::pair<double, double>> curve;
  for (const json& p : pareto[name]) {
    ECOMAP_ASSIGN_OR_RETURN(double l, Num(p, name, "accuracy_loss_pts"));
    ECOMAP_ASSIGN_OR_RETURN(double c, Num(p, name, "carbon_g"));
    curve.push_back({l, c});
  }
  return CarbonAtLoss(curve, loss);
}

// The bound solved at ecomap's loss (bound.at.ecomap), nullopt when the run has none or it is
// infeasible.
StatusOr<std::optional<double>> BoundAtEcomap(const json& run) {
  if (!run.contains("bound") || !run["bound"].contains("at") || !run["bound"]["at"].contains("ecomap") ||
      !run["bound"]["at"]["ecomap"].value("feasible", false)) {
    return std::optional<double>();
  }
  ECOMAP_ASSIGN_OR_RETURN(double b, Num(run["bound"]["at"]["ecomap"], "bound", "carbon_g"));
  return std::optional<double>(b);
}

// Per swept baseline (energy, clover): ecomap's accuracy loss, the curve's carbon there
// (CarbonAtLoss's rule: the curve's lower envelope, nothing outside the curve), ecomap's carbon
// and its saving (positive: ecomap emits less). Recomputed from the curves, and checked against
// the run's own "equal_accuracy" so that the two cannot drift apart. Then the bound and the
// carbon-blind bound at ecomap's loss.
StatusOr<std::string> EqualAccuracy(const json& run) {
  ECOMAP_ASSIGN_OR_RETURN(json pareto, Pareto(run));
  if (!run["controllers"].contains("ecomap")) return InvalidArgument("no 'ecomap' controller");
  const json& e = run["controllers"]["ecomap"];
  ECOMAP_ASSIGN_OR_RETURN(double loss, Num(e, "ecomap", "accuracy_loss_pts"));
  ECOMAP_ASSIGN_OR_RETURN(double carbon, Num(e, "ecomap", "carbon_g"));
  std::string out =
      "| baseline (knob swept) | its points | its accuracy-loss range | ecomap's acc. loss | baseline's carbon at "
      "that loss | ecomap's carbon | ecomap's saving |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const auto& [name, points] : pareto.items()) {
    if (name == "ecomap" || name == "bound") continue;
    std::vector<std::pair<double, double>> curve;
    for (const json& p : points) {
      ECOMAP_ASSIGN_OR_RETURN(double l, Num(p, name, "accuracy_loss_pts"));
      ECOMAP_ASSIGN_OR_RETURN(double c, Num(p, name, "carbon_g"));
      curve.push_back({l, c});
    }
    if (curve.empty()) return InvalidArgument("pareto curve '" + name + "' has no point");
    const auto [lo, hi] = std::minmax_element(curve.begin(), curve.end());
    const std::optional<double> at = CarbonAtLoss(curve, loss);
    if (run.contains("equal_accuracy") && run["equal_accuracy"].contains("vs") &&
        run["equal_accuracy"]["vs"].contains(name)) {
      const json& v = run["equal_accuracy"]["vs"][name];
      if (v.value("covered", false) != at.has_value() ||
          (at && std::fabs(v.value("carbon_g", 0.0) - *at) > 1e-6 * std::max(1.0, *at))) {
        return InvalidArgument("'equal_accuracy' of '" + name + "' disagrees with its pareto curve");
      }
    }
    const std::string range = fmt::format("{:.2f}-{:.2f} pts", lo->first, hi->first);
    out += fmt::format("| {} ({}) | {} | {} | {:.2f} pts | ", name, KnobOf(name), curve.size(), range, loss);
    if (!at) {
      out += fmt::format("not covered | {:.1f} | not covered |\n", carbon);
      continue;
    }
    out += fmt::format("{:.1f} | {:.1f} | {} |\n", *at, carbon,
                       *at > 0 ? fmt::format("{:+.1f}%", 100.0 * (1.0 - carbon / *at)) : std::string("-"));
  }
  // The bound is not interpolated: the replay solved it at exactly ecomap's loss ("bound.at");
  // a line between two of its budgets lies above it where its curve bends.
  if (run.contains("bound") && run["bound"].contains("at") && run["bound"]["at"].contains("ecomap")) {
    const json& b = run["bound"]["at"]["ecomap"];
    if (!b.value("feasible", false)) {
      out += fmt::format("| bound (solved at that loss) | - | - | {:.2f} pts | no plan holds every SLO | {:.1f} | - |\n",
                         loss, carbon);
    } else {
      ECOMAP_ASSIGN_OR_RETURN(double bg, Num(b, "bound", "carbon_g"));
      out += fmt::format("| bound (solved at that loss) | - | - | {:.2f} pts | {:.1f} | {:.1f} | {} |\n", loss, bg,
                         carbon, bg > 0 ? fmt::format("{:+.1f}%", 100.0 * (1.0 - carbon / bg)) : std::string("-"));
    }
  }
  // The carbon-blind bound (runs made before it existed have none): the replay solved it.
  if (run.contains("equal_accuracy") && run["equal_accuracy"].contains("vs") &&
      run["equal_accuracy"]["vs"].contains(kCarbonBlindBound)) {
    const json& b = run["equal_accuracy"]["vs"][kCarbonBlindBound];
    if (!b.value("covered", false)) {
      out += fmt::format(
          "| bound, carbon-blind (least energy, solved at that loss) | - | - | {:.2f} pts | no plan | {:.1f} "
          "| - |\n",
          loss, carbon);
    } else {
      ECOMAP_ASSIGN_OR_RETURN(double bg, Num(b, kCarbonBlindBound, "carbon_g"));
      out += fmt::format(
          "| bound, carbon-blind (least energy, solved at that loss) | - | - | {:.2f} pts | {:.1f} | {:.1f} "
          "| {} |\n",
          loss, bg, carbon, bg > 0 ? fmt::format("{:+.1f}%", 100.0 * (1.0 - carbon / bg)) : std::string("-"));
    }
  }
  return out;
}

// The goals of the evidence issue, one row per swept run, each figure with its goal and verdict:
//   vs energy   ecomap's saving at equal accuracy against the energy twin's curve: >= 15%, or,
//               where the bound itself saves less than 18% against that curve, at least the
//               bound's saving minus 3 points (the cell says which goal applies);
//   vs clover   the saving against clover's curve: >= 10%;
//   vs bound    ecomap's carbon above the bound solved at its loss: <= 5%;
//   CDP         ecomap's CDP against the default throughput run's: <= -25%; against clover's: <= 0;
//   SLO viol.   <= 1%;  acc. loss  <= 1.5 points.
// "not covered" (ecomap's loss outside a curve) counts as missed.
StatusOr<std::string> MustShow(const std::vector<std::string>& files, const std::vector<json>& runs) {
  std::string out =
      "| run | vs energy at equal acc. | vs clover at equal acc. | above the bound | CDP vs throughput | CDP vs clover | "
      "SLO viol. | acc. loss | goals met |\n| --- | --- | --- | --- | --- | --- | --- | --- | ---: |\n";
  auto verdict = [](bool ok) { return ok ? "met" : "**missed**"; };
  for (size_t k = 0; k < runs.size(); ++k) {
    const json& r = runs[k];
    ECOMAP_ASSIGN_OR_RETURN(json pareto, Pareto(r));
    const json& cs = r["controllers"];
    for (const char* need : {"ecomap", "throughput", "clover"}) {
      if (!cs.contains(need)) return InvalidArgument(fmt::format("{} has no '{}' controller", files[k], need));
    }
    const json& e = cs["ecomap"];
    ECOMAP_ASSIGN_OR_RETURN(double loss, Num(e, "ecomap", "accuracy_loss_pts"));
    ECOMAP_ASSIGN_OR_RETURN(double carbon, Num(e, "ecomap", "carbon_g"));
    ECOMAP_ASSIGN_OR_RETURN(double cdp, Num(e, "ecomap", "cdp"));
    ECOMAP_ASSIGN_OR_RETURN(double viol, Num(e, "ecomap", "slo_violation_rate"));
    ECOMAP_ASSIGN_OR_RETURN(double tcdp, Num(cs["throughput"], "throughput", "cdp"));
    ECOMAP_ASSIGN_OR_RETURN(double ccdp, Num(cs["clover"], "clover", "cdp"));
    ECOMAP_ASSIGN_OR_RETURN(std::optional<double> energy, CurveAt(pareto, files[k], "energy", loss));
    ECOMAP_ASSIGN_OR_RETURN(std::optional<double> clover, CurveAt(pareto, files[k], "clover", loss));
    ECOMAP_ASSIGN_OR_RETURN(std::optional<double> bound, BoundAtEcomap(r));
    int met = 0, goals = 0;
    auto cell = [&](bool ok, const std::string& text) {
      ++goals;
      met += ok ? 1 : 0;
      return text + ": " + verdict(ok) + " |";
    };
    const std::string zone = r.contains("trace") ? r["trace"].value("zone", std::string("?")) : "?";
    const std::string start = r.contains("window") ? r["window"].value("start", std::string("?")).substr(0, 10) : "?";
    std::string row = fmt::format("| {} {} |", zone, start);
    if (energy && *energy > 0) {
      const double saving = 100.0 * (1.0 - carbon / *energy);
      std::string goal = "goal >= 15%";
      double need = 15;
      if (bound) {
        const double bound_saving = 100.0 * (1.0 - *bound / *energy);
        if (bound_saving < 18) {
          need = bound_saving - 3;
          goal = fmt::format("bound saves {:.1f}%, goal >= {:.1f}%", bound_saving, need);
        }
      }
      row += " " + cell(saving >= need, fmt::format("{:.1f}% ({})", saving, goal));
    } else {
      row += " " + cell(false, "not covered");
    }
    if (clover && *clover > 0) {
      const double saving = 100.0 * (1.0 - carbon / *clover);
      row += " " + cell(saving >= 10, fmt::format("{:.1f}% (goal >= 10%)", saving));
    } else {
      row += " " + cell(false, "not covered");
    }
    if (bound && *bound > 0) {
      const double above = 100.0 * (carbon / *bound - 1.0);
      row += " " + cell(above <= 5, fmt::format("{:+.1f}% (goal <= +5%)", above));
    } else {
      row += " " + cell(false, "no bound");
    }
    row += " " + cell(tcdp > 0 && cdp <= 0.75 * tcdp, Saving(cdp, tcdp) + " (goal <= -25%)");
    row += " " + cell(cdp <= ccdp, Saving(cdp, ccdp) + " (goal <= 0)");
    row += " " + cell(viol <= 0.01, Pct(viol) + " (goal <= 1%)");
    row += " " + cell(loss <= 1.5, fmt::format("{:.2f} pts (goal <= 1.5)", loss));
    out += row + fmt::format(" {} of {} |\n", met, goals);
  }
  return out;
}

// What the carbon signal is worth, one row per swept run: against the energy twin's curve at
// ecomap's loss, the saving of the bound, of the carbon-blind bound (the least-energy mix of the
// same candidates, bound.h) and of ecomap. The bound's saving less the carbon-blind bound's is
// what knowing the carbon signal added to the bound over these candidates. Runs without a
// carbon-blind bound are refused (rerun them).
StatusOr<std::string> CarbonSignal(const std::vector<std::string>& files, const std::vector<json>& runs) {
  std::string out =
      "| run | ecomap's acc. loss | energy twin's carbon at that loss | bound's saving | "
      "carbon-blind bound's saving | the carbon signal's part (the difference) | ecomap's saving |\n"
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (size_t k = 0; k < runs.size(); ++k) {
    const json& r = runs[k];
    ECOMAP_ASSIGN_OR_RETURN(json pareto, Pareto(r));
    if (!r["controllers"].contains("ecomap"))
      return InvalidArgument(files[k] + " has no 'ecomap' controller");
    const json& e = r["controllers"]["ecomap"];
    ECOMAP_ASSIGN_OR_RETURN(double loss, Num(e, "ecomap", "accuracy_loss_pts"));
    ECOMAP_ASSIGN_OR_RETURN(double carbon, Num(e, "ecomap", "carbon_g"));
    ECOMAP_ASSIGN_OR_RETURN(std::optional<double> energy, CurveAt(pareto, files[k], "energy", loss));
    ECOMAP_ASSIGN_OR_RETURN(std::optional<double> bound, BoundAtEcomap(r));
    if (!r.contains("equal_accuracy") || !r["equal_accuracy"].contains("vs") ||
        !r["equal_accuracy"]["vs"].contains(kCarbonBlindBound)) {
      return InvalidArgument(files[k] + " has no carbon-blind bound (replay it again with --sweep N)");
    }
    const json& b = r["equal_accuracy"]["vs"][kCarbonBlindBound];
    std::optional<double> blind;
    if (b.value("covered", false)) {
      ECOMAP_ASSIGN_OR_RETURN(double v, Num(b, kCarbonBlindBound, "carbon_g"));
      blind = v;
    }
    const std::string zone = r.contains("trace") ? r["trace"].value("zone", std::string("?")) : "?";
    const std::string start =
        r.contains("window") ? r["window"].value("start", std::string("?")).substr(0, 10) : "?";
    if (!energy || *energy <= 0) {
      out += fmt::format("| {} {} | {:.2f} pts | not covered | - | - | - | - |\n", zone, start, loss);
      continue;
    }
    auto saving = [&](std::optional<double> c) -> std::optional<double> {
      if (!c) return std::nullopt;
      return 100.0 * (1.0 - *c / *energy);
    };
    auto show = [](std::optional<double> v) { return v ? fmt::format("{:.1f}%", *v) : std::string("none"); };
    const std::optional<double> sb = saving(bound), sbb = saving(blind);
    const std::optional<double> part = sb && sbb ? std::optional<double>(*sb - *sbb) : std::nullopt;
    out += fmt::format("| {} {} | {:.2f} pts | {:.1f} g | {} | {} | {} | {} |\n", zone, start, loss, *energy,
                       show(sb), show(sbb), part ? fmt::format("{:.1f} pts", *part) : std::string("-"),
                       show(saving(carbon)));
  }
  return out;
}

// Every point of every curve, in the JSON's order (by accuracy loss).
StatusOr<std::string> ParetoPoints(const json& run) {
  ECOMAP_ASSIGN_OR_RETURN(json pareto, Pareto(run));
  std::string out =
      "| curve (knob) | knob | acc. loss pts | carbon g | CDP g*s | SLO viol. | good requests |\n"
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const auto& [name, points] : pareto.items()) {
    for (const json& p : points) {
      ECOMAP_ASSIGN_OR_RETURN(double knob, Num(p, name, "knob"));
      ECOMAP_ASSIGN_OR_RETURN(double l, Num(p, name, "accuracy_loss_pts"));
      ECOMAP_ASSIGN_OR_RETURN(double c, Num(p, name, "carbon_g"));
      // The bound is re-solved, not replayed: it has no CDP, violations (it holds every SLO by
      // construction) or request count of its own.
      const bool replayed = p.contains("cdp");
      std::string rest = "- | - | - |";
      if (replayed) {
        ECOMAP_ASSIGN_OR_RETURN(double cdp, Num(p, name, "cdp"));
        ECOMAP_ASSIGN_OR_RETURN(double viol, Num(p, name, "slo_violation_rate"));
        ECOMAP_ASSIGN_OR_RETURN(double good, Num(p, name, "good_requests"));
        rest = fmt::format("{:.3e} | {} | {:.0f} |", cdp, Pct(viol), good);
      }
      out += fmt::format("| {} ({}) | {:.2f} | {:.2f} | {:.1f} | {}\n", name, KnobOf(name), knob, l, c, rest);
    }
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
  if (kind == "must-show") return MustShow(files, runs);
  if (kind == "carbon-signal") return CarbonSignal(files, runs);
  if (kind == "equal-accuracy" || kind == "pareto") {
    if (files.size() != 1) return InvalidArgument("replay-table " + kind + " takes one file");
    StatusOr<std::string> t = kind == "pareto" ? ParetoPoints(runs.front()) : EqualAccuracy(runs.front());
    if (!t.ok()) return t.status().WithContext(files.front());
    return t;
  }
  return InvalidArgument("unknown replay-table kind '" + kind +
                         "' (controllers, savings, equal-accuracy, pareto, must-show or carbon-signal)");
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
