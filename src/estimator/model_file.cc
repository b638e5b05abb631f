#include "estimator/model_file.h"

#include <cstdint>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/file.h"

namespace ecomap::estimator {
namespace {

uint64_t Fnv1a64(const std::string& a, const std::string& b) {
  uint64_t h = 1469598103934665603ULL;
  for (const std::string* s : {&a, &b}) {
    for (unsigned char c : *s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  }
  return h;
}

std::string Hex(uint64_t v) {
  return fmt::format("{:016x}", v);
}

// Reads "key value\n" at pos; advances pos past the newline.
Status ReadLine(const std::string& bytes, size_t* pos, const std::string& key, std::string* value,
                const std::string& where) {
  size_t nl = bytes.find('\n', *pos);
  if (nl == std::string::npos) {
    return DataLoss(where + ": truncated: the file ends before the '" + key + "' line");
  }
  std::string line = bytes.substr(*pos, nl - *pos);
  *pos = nl + 1;
  if (line.rfind(key + " ", 0) != 0) {
    return DataLoss(where + ": expected a '" + key + " ...' line, found '" + line.substr(0, 60) + "'");
  }
  *value = line.substr(key.size() + 1);
  return Status::Ok();
}

Status ReadBlock(const std::string& bytes, size_t* pos, const std::string& key, std::string* out,
                 const std::string& where) {
  std::string len_text;
  ECOMAP_RETURN_IF_ERROR(ReadLine(bytes, pos, key, &len_text, where));
  size_t len = 0;
  try {
    size_t used = 0;
    unsigned long long v = std::stoull(len_text, &used);
    if (used != len_text.size()) throw std::invalid_argument("trailing");
    len = static_cast<size_t>(v);
  } catch (const std::exception&) {
    return DataLoss(where + ": the " + key + " length '" + len_text + "' is not a number");
  }
  if (bytes.size() < *pos + len + 1) {
    return DataLoss(where + ": truncated: the " + key + " block needs " + std::to_string(len) + " bytes, the file has " +
                    std::to_string(bytes.size() > *pos ? bytes.size() - *pos : 0) + " left");
  }
  *out = bytes.substr(*pos, len);
  *pos += len;
  if (bytes[*pos] != '\n') return DataLoss(where + ": the " + key + " block is not followed by a newline: corrupt file");
  *pos += 1;
  return Status::Ok();
}

}  // namespace

std::string SerializeModelFile(const ModelFile& f) {
  std::string meta = f.meta.dump();
  std::ostringstream o;
  o << kModelMagic << "\n"
    << "format " << f.format << "\n"
    << "version " << f.version << "\n"
    << "meta " << meta.size() << "\n"
    << meta << "\n"
    << "weights " << f.weights.size() << "\n";
  o.write(f.weights.data(), static_cast<std::streamsize>(f.weights.size()));
  o << "\n"
    << "checksum " << Hex(Fnv1a64(meta, f.weights)) << "\n";
  return o.str();
}

Status WriteModelFile(const std::string& path, const ModelFile& file) {
  return WriteFileAtomic(path, SerializeModelFile(file));
}

StatusOr<ModelFile> ParseModelFile(const std::string& bytes, const std::string& where,
                                   const std::string& expected_format, int expected_version) {
  const std::string magic = std::string(kModelMagic) + "\n";
  if (bytes.compare(0, magic.size(), magic) != 0) {
    if (bytes.empty()) return DataLoss(where + ": the file is empty: not an ecomap model file");
    return InvalidArgument(where + ": not an ecomap model file (it does not start with " + kModelMagic + ")");
  }
  size_t pos = magic.size();
  ModelFile f;
  ECOMAP_RETURN_IF_ERROR(ReadLine(bytes, &pos, "format", &f.format, where));
  if (f.format != expected_format) {
    return InvalidArgument(where + ": holds a '" + f.format + "' model; expected '" + expected_format + "'");
  }
  std::string version;
  ECOMAP_RETURN_IF_ERROR(ReadLine(bytes, &pos, "version", &version, where));
  try {
    f.version = std::stoi(version);
  } catch (const std::exception&) {
    return DataLoss(where + ": the version '" + version + "' is not a number");
  }
  if (f.version != expected_version) {
    return FailedPrecondition(where + ": model format version " + std::to_string(f.version) +
                              ", but this build reads version " + std::to_string(expected_version) +
                              ": retrain it with `ecomap estimator train` (or use the build that wrote it)");
  }
  std::string meta;
  ECOMAP_RETURN_IF_ERROR(ReadBlock(bytes, &pos, "meta", &meta, where));
  ECOMAP_RETURN_IF_ERROR(ReadBlock(bytes, &pos, "weights", &f.weights, where));
  std::string checksum;
  ECOMAP_RETURN_IF_ERROR(ReadLine(bytes, &pos, "checksum", &checksum, where));
  if (checksum != Hex(Fnv1a64(meta, f.weights))) {
    return DataLoss(where + ": checksum mismatch: the file is corrupt (re-copy or retrain it)");
  }
  f.meta = nlohmann::json::parse(meta, nullptr, /*allow_exceptions=*/false);
  if (f.meta.is_discarded() || !f.meta.is_object()) {
    return DataLoss(where + ": the meta block is not a JSON object");
  }
  return f;
}

StatusOr<ModelFile> ReadModelFile(const std::string& path, const std::string& expected_format,
                                  int expected_version) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("model file " + path + " does not exist or cannot be read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseModelFile(ss.str(), path, expected_format, expected_version);
}

}  // namespace ecomap::estimator

namespace ecomap::estimator {
std::string DefaultModelPath(const std::string& platform) {
  return std::string(ECOMAP_DATA_DIR) + "/estimator/" + platform + ".ecomap";
}
}  // namespace ecomap::estimator
