#include "engine/tensor.h"

#include <array>
#include <utility>

#include <fmt/format.h>

namespace ecomap::engine {
namespace {

struct TypeRow {
  DataType type;
  const char* name;
  size_t size;
};
constexpr std::array<TypeRow, 13> kTypes = {{
    {DataType::kBool, "BOOL", 1},    {DataType::kUint8, "UINT8", 1},
    {DataType::kUint16, "UINT16", 2}, {DataType::kUint32, "UINT32", 4},
    {DataType::kUint64, "UINT64", 8}, {DataType::kInt8, "INT8", 1},
    {DataType::kInt16, "INT16", 2},  {DataType::kInt32, "INT32", 4},
    {DataType::kInt64, "INT64", 8},  {DataType::kFp16, "FP16", 2},
    {DataType::kFp32, "FP32", 4},    {DataType::kFp64, "FP64", 8},
    {DataType::kBytes, "BYTES", 0},
}};

constexpr int64_t kMaxElements = int64_t{1} << 40;

}  // namespace

const char* DataTypeName(DataType t) {
  for (const TypeRow& r : kTypes) {
    if (r.type == t) return r.name;
  }
  return "UNKNOWN";
}

StatusOr<DataType> ParseDataType(std::string_view name) {
  for (const TypeRow& r : kTypes) {
    if (name == r.name) return r.type;
  }
  std::string names;
  for (const TypeRow& r : kTypes) names += (names.empty() ? "" : ", ") + std::string(r.name);
  return InvalidArgument(fmt::format("unknown datatype '{}' (one of {})", name, names));
}

size_t DataTypeSize(DataType t) {
  for (const TypeRow& r : kTypes) {
    if (r.type == t) return r.size;
  }
  return 0;
}

StatusOr<int64_t> HostTensor::ElementCount() const {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      return InvalidArgument(fmt::format("tensor '{}': negative dimension {} in its shape", name, d));
    }
    if (d != 0 && n > kMaxElements / d) {
      return InvalidArgument(fmt::format("tensor '{}': more than 2^40 elements", name));
    }
    n *= d;
  }
  return n;
}

Status HostTensor::Validate() const {
  ECOMAP_ASSIGN_OR_RETURN(int64_t n, ElementCount());
  if (datatype != DataType::kBytes) {
    const size_t expected = static_cast<size_t>(n) * DataTypeSize(datatype);
    if (data.size() != expected) {
      return InvalidArgument(fmt::format(
          "tensor '{}': {} {} elements need {} bytes of data, got {}", name, n,
          DataTypeName(datatype), expected, data.size()));
    }
    return Status::Ok();
  }
  size_t pos = 0;
  int64_t count = 0;
  while (pos < data.size()) {
    if (data.size() - pos < 4) {
      return InvalidArgument(fmt::format(
          "tensor '{}': BYTES element {} has a truncated 4-byte length prefix", name, count));
    }
    const auto* p = reinterpret_cast<const unsigned char*>(data.data() + pos);
    const uint32_t len = uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) |
                         (uint32_t{p[3]} << 24);
    pos += 4;
    if (data.size() - pos < len) {
      return InvalidArgument(fmt::format(
          "tensor '{}': BYTES element {} declares {} bytes, only {} remain", name, count, len,
          data.size() - pos));
    }
    pos += len;
    ++count;
  }
  if (count != n) {
    return InvalidArgument(fmt::format("tensor '{}': shape implies {} BYTES elements, data holds {}",
                                       name, n, count));
  }
  return Status::Ok();
}

HostTensor HostTensor::Zeros(std::string name, DataType datatype, std::vector<int64_t> shape) {
  HostTensor t{std::move(name), datatype, std::move(shape), std::string()};
  StatusOr<int64_t> n = t.ElementCount();
  if (n.ok()) t.data.assign(static_cast<size_t>(*n) * DataTypeSize(datatype), '\0');
  return t;
}

}  // namespace ecomap::engine
