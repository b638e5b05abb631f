// estimator/model_file.h: the container of a trained estimator (torch-free).
//
// A model file is a small text header, a JSON metadata block and an opaque weights block:
//   ECOMAP-MODEL\n
//   format ecomap.estimator.transformer\n        (what the weights are)
//   version 1\n                                  (the format's version; readers reject others)
//   meta <N>\n<N bytes of JSON>\n                (config, normalisation, analytic baseline, ...)
//   weights <M>\n<M bytes>\n                     (a libtorch archive, torch::serialize)
//   checksum <16 hex digits>\n                   (FNV-1a 64 of the meta and weights bytes)
// Readers name the problem: not a model file (bad magic), another format, another version (with
// the fix: retrain or use the build that wrote it), a truncated file (which block, how many
// bytes expected and found), a checksum mismatch (corrupt), malformed JSON.
//
//   ModelFile f{.format = kTransformerFormat, .version = kTransformerVersion, .meta = j, .weights = w};
//   Status s = WriteModelFile("m.ecomap", f);
//   StatusOr<ModelFile> r = ReadModelFile("m.ecomap", kTransformerFormat, kTransformerVersion);
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/status.h"

namespace ecomap::estimator {

inline constexpr const char* kModelMagic = "ECOMAP-MODEL";

struct ModelFile {
  std::string format;
  int version = 0;
  nlohmann::json meta;
  std::string weights;
};

// Writes atomically (core/file.h: a temporary beside it, then rename). Unavailable on I/O errors.
Status WriteModelFile(const std::string& path, const ModelFile& file);
// Parses a container from bytes; `where` names it in errors.
StatusOr<ModelFile> ParseModelFile(const std::string& bytes, const std::string& where,
                                   const std::string& expected_format, int expected_version);
// NotFound when the file does not exist; otherwise ParseModelFile's errors.
StatusOr<ModelFile> ReadModelFile(const std::string& path, const std::string& expected_format,
                                  int expected_version);
// Serialises to bytes (WriteModelFile writes exactly these).
std::string SerializeModelFile(const ModelFile& file);

}  // namespace ecomap::estimator

namespace ecomap::estimator {
// The shipped default model of a platform: <data dir>/estimator/<platform>.ecomap.
std::string DefaultModelPath(const std::string& platform = "xavier-sim");
}  // namespace ecomap::estimator
