// `ecomap zoo list|show`: the model catalogue (torch-free; works in every build).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "app/cli_util.h"
#include "app/commands.h"
#include "zoo/catalog.h"
#include "zoo/model.h"

namespace ecomap::app {
namespace {

using zoo::BlockDescriptor;
using zoo::ModelInfo;

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s;
  for (int64_t d : shape) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

nlohmann::json Summary(const ModelInfo& m) {
  return nlohmann::json{{"name", m.name},
                        {"family", m.family},
                        {"task", m.task},
                        {"input_shape", m.input_shape},
                        {"input_dtype", m.input_dtype},
                        {"params", m.TotalParams()},
                        {"flops", m.TotalFlops()},
                        {"gflops", m.TotalFlops() / 1e9},
                        {"gmacs", m.TotalFlops() / 2e9},
                        {"published_gmacs", m.published_gmacs},
                        {"accuracy", m.accuracy},
                        {"accuracy_metric", m.accuracy_metric},
                        {"accuracy_source", m.accuracy_source},
                        {"blocks", m.blocks.size()}};
}

void RequireCatalogue() {
  if (!zoo::CatalogStatus().ok()) Fail(zoo::CatalogStatus());
}

void List(const std::string& family, bool json) {
  RequireCatalogue();
  std::vector<const ModelInfo*> models;
  if (family.empty()) {
    for (const ModelInfo& m : zoo::Models()) models.push_back(&m);
  } else {
    models = zoo::Family(family);
    if (models.empty()) {
      std::string known;
      for (const std::string& f : zoo::Families()) known += (known.empty() ? "" : ", ") + f;
      Fail("unknown family '" + family + "'; known families: " + known);
    }
  }
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const ModelInfo* m : models) out.push_back(Summary(*m));
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("{:<20} {:<13} {:<24} {:>11} {:>8} {:>7} {:>8}  {:<6} {}\n", "MODEL",
                           "FAMILY", "TASK", "PARAMS", "GFLOPs", "GMACs", "ACCURACY", "BLOCKS",
                           "METRIC");
  for (const ModelInfo* m : models) {
    std::cout << fmt::format("{:<20} {:<13} {:<24} {:>11} {:>8.3f} {:>7.3f} {:>8.3f}  {:<6} {}\n",
                             m->name, m->family, m->task, m->TotalParams(), m->TotalFlops() / 1e9,
                             m->TotalFlops() / 2e9, m->accuracy, m->blocks.size(),
                             m->accuracy_metric);
  }
  std::cout << "GFLOPs = 2 x multiply-accumulates (batch 1), derived from the libtorch modules; "
               "accuracy: published figures (see `ecomap zoo show MODEL` for the source).\n";
}

void Show(const std::string& name, bool json) {
  RequireCatalogue();
  const ModelInfo* m = OrFail(zoo::LookupModel(name));
  if (json) {
    nlohmann::json out = zoo::ModelInfoToJson(*m);
    out["total_params"] = m->TotalParams();
    out["total_flops"] = m->TotalFlops();
    out["total_elementwise_ops"] = m->TotalElementwiseOps();
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("{} ({} family, {})\n", m->name, m->family, m->task);
  std::cout << fmt::format("  input:     {} {}\n", ShapeString(m->input_shape), m->input_dtype);
  std::cout << fmt::format("  params:    {}\n", m->TotalParams());
  std::cout << fmt::format("  GFLOPs:    {:.3f} (= 2 x {:.3f} GMACs; published {:.3f} GMACs)\n",
                           m->TotalFlops() / 1e9, m->TotalFlops() / 2e9, m->published_gmacs);
  std::cout << fmt::format("  accuracy:  {:.3f} {}\n", m->accuracy, m->accuracy_metric);
  std::cout << fmt::format("  source:    {}\n", m->accuracy_source);
  std::cout << fmt::format("{:>3} {:<18} {:<10} {:>10} {:>11} {:>11} {:>11} {:>11}  {}\n", "#",
                           "BLOCK", "KIND", "MFLOPs", "PARAMS", "IN_BYTES", "OUT_BYTES",
                           "ELEM_OPS", "DLA");
  for (size_t i = 0; i < m->blocks.size(); ++i) {
    const BlockDescriptor& b = m->blocks[i];
    std::cout << fmt::format("{:>3} {:<18} {:<10} {:>10.2f} {:>11} {:>11} {:>11} {:>11.0f}  {}\n",
                             i, b.name, zoo::BlockKindName(b.kind), b.flops / 1e6, b.params,
                             b.input_bytes, b.output_bytes, b.elementwise_ops,
                             b.dla_supported ? "yes" : "no (GPU fallback)");
  }
}

void AddZooCommands(CLI::App& app) {
  auto* zoo = app.add_subcommand(
      "zoo", "The DNN model zoo: mixed-quality families, per-block figures, published accuracy");
  zoo->require_subcommand(1);

  auto* list = zoo->add_subcommand("list", "List the models (name, family, task, params, "
                                           "GFLOPs, accuracy, blocks)");
  auto family = std::make_shared<std::string>();
  auto list_json = std::make_shared<bool>(false);
  list->add_option("--family", *family, "Only this family (resnet, mobilenet, efficientnet, vgg, "
                                        "bert)");
  list->add_flag("--json", *list_json, "Print a JSON array instead of a table");
  list->callback([family, list_json] { List(*family, *list_json); });

  auto* show = zoo->add_subcommand("show", "Show one model's blocks (cut points) with their "
                                           "figures");
  auto name = std::make_shared<std::string>();
  auto show_json = std::make_shared<bool>(false);
  show->add_option("model", *name, "Model name, e.g. resnet50 (see `ecomap zoo list`)")
      ->required();
  show->add_flag("--json", *show_json,
                 "Print the model's catalogue record (format: data/zoo/catalog.json) as JSON");
  show->callback([name, show_json] { Show(*name, *show_json); });
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(30, AddZooCommands);

}  // namespace ecomap::app
