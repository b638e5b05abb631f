// replay/tables.h: the documentation's result tables, generated from committed replay JSON.
//
// A figure typed by hand drifts from the run it came from. Instead, a Markdown document marks
// where a table goes and which committed `ecomap replay --json` output(s) it shows:
//
//   <!-- replay-table controllers data/results/replay-week-ES-2023-06-05.json -->
//   ... (generated; replaced on every update) ...
//   <!-- /replay-table -->
//
// Kinds:
//   controllers FILE           one row per controller of the run: carbon g, energy Wh, CDP,
//                              SLO violations, accuracy loss, g per 1000 good requests, dropped
//                              requests, decision ms (mean / p95) where the JSON has them
//   savings FILE [FILE...]     one row per run (its zone and week): ecomap's carbon saving
//                              against every other controller of the first run, its CDP saving
//                              against the best carbon-agnostic one (maxn / throughput), its SLO
//                              violations and accuracy loss
//   equal-accuracy FILE        a run with --sweep: per swept baseline (energy, clover),
//                              ecomap's accuracy loss, the curve's carbon there (its lower
//                              envelope, replay/sweep.h), ecomap's carbon and its saving, or "not
//                              covered" when ecomap's loss is outside the curve; then the bound
//                              solved at ecomap's loss (bound.at.ecomap, not interpolated) and,
//                              where the run has it, the carbon-blind bound solved there
//   pareto FILE                a run with --sweep: every point of every curve (knob, accuracy
//                              loss, carbon, CDP, SLO violations, good requests)
//   must-show FILE [FILE...]   runs with --sweep: one row per run with the evidence issue's
//                              goals (ecomap's saving at equal accuracy against energy and
//                              clover, its carbon above the bound, its CDP against throughput
//                              and clover, SLO violations, accuracy loss), each figure with its
//                              goal and "met" / "missed", and the count of goals met
//   carbon-signal FILE [FILE...]  runs with --sweep: one row per run, the savings against the
//                              energy twin's curve at ecomap's loss of the bound, of the
//                              carbon-blind bound (bound.h) and of ecomap, and the bound's
//                              saving less the carbon-blind bound's: what knowing the carbon
//                              signal added to the bound
// Paths are relative to the repository root. `ecomap results tables --update FILE...` rewrites
// the marked blocks; without `--update` it only checks, failing on the first block that
// differs, and a test checks the README and the docs that way, so a table can never disagree
// with its JSON.
//
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace ecomap::replay {

// Loads a replay JSON by its repository-relative path.
using ResultLoader = std::function<StatusOr<nlohmann::json>(const std::string& path)>;

// Reads FILE below `root` as JSON; NotFound / DataLoss naming the file.
ResultLoader FileLoader(const std::string& root);

// The Markdown table of one kind (see above). InvalidArgument naming the missing key or the
// unknown kind.
StatusOr<std::string> RenderResultTable(const std::string& kind, const std::vector<std::string>& files,
                                        const ResultLoader& load);

// `doc` with every marked block regenerated. InvalidArgument naming the line of a malformed or
// unclosed marker.
StatusOr<std::string> UpdateResultTables(const std::string& doc, const ResultLoader& load);

}  // namespace ecomap::replay
