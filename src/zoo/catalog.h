// zoo/catalog.h: the model specifications and the catalogue file format, free of libtorch.
//
// ModelSpecs() is the hand-written half of the catalogue: name, family, task, input, published
// accuracy with its source, published GMACs. The other half, the per-block descriptors, is
// derived from the real libtorch modules (zoo/derive.h) and stored in data/zoo/catalog.json,
// which the build embeds into this library; Models() (zoo/model.h) parses the embedded copy.
//
// Catalogue file (JSON, UTF-8):
//   {
//     "format": "ecomap-zoo-catalog", "version": 1,
//     "conventions": { "flops": "...", ... },          // prose, for readers
//     "models": [ {
//       "name": "resnet18", "family": "resnet", "task": "imagenet-classification",
//       "input_shape": [1,3,224,224], "input_dtype": "float32",
//       "accuracy": 69.758, "accuracy_metric": "ImageNet-1K top-1 (%)",
//       "accuracy_source": "...", "published_gmacs": 1.814,
//       "blocks": [ { "name": "stem", "kind": "conv", "flops": 2.36e8, "params": 9536,
//                     "input_bytes": 602112, "output_bytes": 802816,
//                     "elementwise_ops": 3.2e6, "layers": 1, "dla_supported": true }, ... ] },
//     ... ] }
//   kind is one of BlockKindName()'s strings; flops = 2 x MACs (batch 1); bytes at batch 1;
//   layers (optional, 0 = unknown) = MAC-carrying layers (one GPU kernel each).
//
//   StatusOr<std::vector<ModelInfo>> models = ParseCatalog(text);
//   std::string text = CatalogToJson(*models);
//
// Thread-safety: pure functions; ModelSpecs() is immutable.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "zoo/model.h"

namespace ecomap::zoo {

// The hand-written metadata of every model (blocks empty), in catalogue order.
const std::vector<ModelInfo>& ModelSpecs();
// nullptr when unknown.
const ModelInfo* FindModelSpec(const std::string& name);

// One block / one model as JSON (the catalogue's record format above).
nlohmann::json BlockToJson(const BlockDescriptor& block);
nlohmann::json ModelInfoToJson(const ModelInfo& model);
StatusOr<ModelInfo> ModelInfoFromJson(const nlohmann::json& j);

// The whole catalogue file text (pretty-printed, trailing newline).
std::string CatalogToJson(const std::vector<ModelInfo>& models);
// Parses a catalogue file; InvalidArgument naming the bad model/field on malformed input.
StatusOr<std::vector<ModelInfo>> ParseCatalog(const std::string& text);

// Checks that `catalog` and ModelSpecs() list the same models with the same metadata.
// FailedPrecondition naming the first difference, with the fix ("re-run ecomap zoo export").
Status CheckCatalogMatchesSpecs(const std::vector<ModelInfo>& catalog);

// The catalogue text embedded at build time (from data/zoo/catalog.json).
const char* EmbeddedCatalogJson();

}  // namespace ecomap::zoo
