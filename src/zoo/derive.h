// zoo/derive.h: per-block descriptors derived from the real libtorch modules (ecomap_zoo_torch).
//
// DeriveModelInfo builds the named model (seed 0), pushes one batch-1 input through its blocks
// one by one and records for each block: input/output activation bytes (from the propagated
// tensors), trainable parameters (from the block's modules), MACs of every convolution, linear
// layer and attention matmul (from each layer's configuration and the shapes it actually saw),
// element-wise operations, and whether every op is DLA-capable. Conventions: zoo/catalog.h.
//
//   StatusOr<std::vector<ModelInfo>> all = DeriveCatalog();
//   WriteFile("data/zoo/catalog.json", CatalogToJson(*all));
//
// Thread-safety: safe to call from several threads (each builds its own modules); each call
// runs one batch-1 forward pass per model, so deriving every model takes a few seconds.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "zoo/model.h"

namespace ecomap::zoo {

// Specification of `name` plus its derived blocks. NotFound (naming the known models) for an
// unknown name; Internal if libtorch fails.
StatusOr<ModelInfo> DeriveModelInfo(const std::string& name);

// Every model of ModelSpecs(), in catalogue order.
StatusOr<std::vector<ModelInfo>> DeriveCatalog();

}  // namespace ecomap::zoo
