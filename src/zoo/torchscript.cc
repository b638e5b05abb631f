#include "zoo/torchscript.h"

#include <cctype>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ecomap::zoo {
namespace {

bool ValidModelName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

const char* SplitModeName(SplitMode mode) {
  switch (mode) {
    case SplitMode::kAuto: return "auto";
    case SplitMode::kChildren: return "children";
    case SplitMode::kNone: return "none";
  }
  return "auto";
}

StatusOr<SplitMode> ParseSplitMode(const std::string& name) {
  if (name == "auto") return SplitMode::kAuto;
  if (name == "children") return SplitMode::kChildren;
  if (name == "none") return SplitMode::kNone;
  return InvalidArgument("split = '" + name +
                         "' is unknown; use \"auto\" (split at the top-level children when that reproduces "
                         "forward), \"children\" (forward calls the children in order) or \"none\" (one block)");
}

Status ValidateTorchScriptSpec(const TorchScriptSpec& s) {
  if (!ValidModelName(s.name)) {
    return InvalidArgument("TorchScript model name '" + s.name +
                           "' is invalid: use 1-64 letters, digits, '-', '_' or '.'");
  }
  const std::string who = "TorchScript model '" + s.name + "'";
  if (s.family.empty()) return InvalidArgument(who + ": the tenant needs a family, e.g. family = \"doorbell\"");
  if (s.path.empty()) {
    return InvalidArgument(who + ": no file; give torchscript = \"path/to/model.pt\" (saved by torch.jit.save)");
  }
  if (!std::isfinite(s.accuracy) || s.accuracy < 0 || s.accuracy > 100) {
    return InvalidArgument(fmt::format("{}: accuracy = {:g} must be in [0, 100] (top-1 % or your task metric)", who,
                                       s.accuracy));
  }
  if (s.input_shape.empty() || static_cast<int>(s.input_shape.size()) > kMaxInputRank) {
    return InvalidArgument(who + ": input_shape " + ShapeText(s.input_shape) + " must have 1 to " +
                           std::to_string(kMaxInputRank) + " dimensions, batch first, e.g. [1, 3, 224, 224]");
  }
  if (s.input_shape.front() != 1) {
    return InvalidArgument(who + ": input_shape " + ShapeText(s.input_shape) +
                           " must start with the batch size 1, e.g. [1, 3, 224, 224]");
  }
  int64_t elements = 1;
  for (int64_t d : s.input_shape) {
    if (d < 1) return InvalidArgument(who + ": input_shape " + ShapeText(s.input_shape) + " has a dimension < 1");
    if (d > kMaxInputElements || elements > kMaxInputElements / d) {
      return InvalidArgument(who + ": input_shape " + ShapeText(s.input_shape) + " has more than " +
                             std::to_string(kMaxInputElements) + " elements");
    }
    elements *= d;
  }
  if (s.input_dtype != "float32" && s.input_dtype != "int64") {
    return InvalidArgument(who + ": input_dtype = '" + s.input_dtype + "'; use \"float32\" or \"int64\"");
  }
  return Status::Ok();
}

StatusOr<TorchScriptSpec> TorchScriptSpecFromJson(const nlohmann::json& j, const std::string& family) {
  using nlohmann::json;
  if (!j.is_object()) {
    return InvalidArgument(std::string("a 'models' entry must be an object such as {\"name\": \"my_net\", "
                                       "\"torchscript\": \"models/my_net.pt\", \"accuracy\": 80, "
                                       "\"input_shape\": [1, 3, 224, 224]}, not ") + j.type_name());
  }
  static const std::set<std::string> kKeys = {"name", "torchscript", "accuracy", "accuracy_metric",
                                              "input_shape", "input_dtype", "split"};
  for (const auto& [k, v] : j.items()) {
    if (!kKeys.count(k)) {
      return InvalidArgument("unknown key '" + k + "' in a 'models' entry; known keys: name, torchscript, accuracy, "
                             "accuracy_metric, input_shape, input_dtype, split");
    }
  }
  TorchScriptSpec s;
  s.family = family;
  auto str = [&](const char* key, std::string* out, bool required) -> Status {
    auto it = j.find(key);
    if (it == j.end()) {
      return required ? InvalidArgument(std::string("'models' entry: '") + key + "' (a string) is required")
                      : Status::Ok();
    }
    if (!it->is_string()) return InvalidArgument(std::string("'models' entry: '") + key + "' must be a string");
    *out = it->get<std::string>();
    return Status::Ok();
  };
  ECOMAP_RETURN_IF_ERROR(str("name", &s.name, true));
  ECOMAP_RETURN_IF_ERROR(str("torchscript", &s.path, true));
  ECOMAP_RETURN_IF_ERROR(str("accuracy_metric", &s.accuracy_metric, false));
  ECOMAP_RETURN_IF_ERROR(str("input_dtype", &s.input_dtype, false));
  std::string split = "auto";
  ECOMAP_RETURN_IF_ERROR(str("split", &split, false));
  ECOMAP_ASSIGN_OR_RETURN(s.split, ParseSplitMode(split));
  auto acc = j.find("accuracy");
  if (acc == j.end() || !acc->is_number()) {
    return InvalidArgument("model '" + s.name + "': 'accuracy' (a number in [0, 100]) is required");
  }
  s.accuracy = acc->get<double>();
  auto shape = j.find("input_shape");
  if (shape == j.end() || !shape->is_array()) {
    return InvalidArgument("model '" + s.name +
                           "': 'input_shape' (an array of integers, batch 1 first, e.g. [1, 3, 224, 224]) is required; "
                           "a TorchScript file does not record its input shape");
  }
  if (shape->size() > static_cast<size_t>(kMaxInputRank)) {
    return InvalidArgument("model '" + s.name + "': 'input_shape' has more than " + std::to_string(kMaxInputRank) +
                           " dimensions");
  }
  for (const json& d : *shape) {
    if (!d.is_number_integer()) {
      return InvalidArgument("model '" + s.name + "': 'input_shape' must be an array of integers, e.g. [1, 3, 224, 224]");
    }
    s.input_shape.push_back(d.get<int64_t>());
  }
  ECOMAP_RETURN_IF_ERROR(ValidateTorchScriptSpec(s));
  return s;
}

nlohmann::json TorchScriptSpecToJson(const TorchScriptSpec& s) {
  return {{"name", s.name},
          {"torchscript", s.path},
          {"accuracy", s.accuracy},
          {"accuracy_metric", s.accuracy_metric},
          {"input_shape", s.input_shape},
          {"input_dtype", s.input_dtype},
          {"split", SplitModeName(s.split)}};
}

}  // namespace ecomap::zoo
