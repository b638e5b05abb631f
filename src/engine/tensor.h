// engine/tensor.h: a tensor as plain bytes, the currency between clients and the engine.
//
// What a client sends to a model and gets back (service/inference.h carries it over the Open
// Inference Protocol, REST and gRPC), free of libtorch: the torch executors convert it to and
// from their activations (ExecutorFactory::FromTensor / ToTensor).
//
// Layout: `data` holds the elements in row-major order, little-endian, densely packed (the
// protocol's binary tensor format). For BYTES each element is a 4-byte little-endian length
// followed by that many bytes; the elements follow one another.
//
//   HostTensor t = HostTensor::Zeros("input", DataType::kFp32, {1, 3, 224, 224});
//   Status s = t.Validate();                 // data size matches shape and datatype
//   std::span<const float> v = t.Span<float>();
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ecomap::engine {

// The Open Inference Protocol's datatypes (names as the protocol spells them).
enum class DataType { kBool, kUint8, kUint16, kUint32, kUint64, kInt8, kInt16, kInt32, kInt64,
                      kFp16, kFp32, kFp64, kBytes };

// "BOOL", "UINT8", ..., "FP32", "BYTES".
const char* DataTypeName(DataType t);
// Parses a protocol datatype name (exact, upper case). InvalidArgument naming the value and the
// accepted names otherwise.
StatusOr<DataType> ParseDataType(std::string_view name);
// Bytes per element; 0 for BYTES (variable length).
size_t DataTypeSize(DataType t);

struct HostTensor {
  std::string name;
  DataType datatype = DataType::kFp32;
  std::vector<int64_t> shape;
  std::string data;  // see the header comment

  // The product of the shape (1 for a scalar shape {}). InvalidArgument on a negative dimension
  // or an element count above 2^40.
  StatusOr<int64_t> ElementCount() const;
  // OK when the shape is valid and `data` has exactly the bytes it implies (for BYTES: the
  // elements' length prefixes walk exactly to the end of `data` and their number matches).
  // InvalidArgument naming the tensor, the expected and the actual size otherwise.
  Status Validate() const;

  // A tensor of zeros (fixed-size datatypes only).
  static HostTensor Zeros(std::string name, DataType datatype, std::vector<int64_t> shape);
  // A tensor holding `values` as `T` (float -> FP32, int64_t -> INT64, ...).
  template <typename T>
  static HostTensor FromValues(std::string name, DataType datatype, std::vector<int64_t> shape,
                               const std::vector<T>& values) {
    HostTensor t{std::move(name), datatype, std::move(shape), std::string()};
    t.data.resize(values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
    return t;
  }
  // The elements viewed as `T`. REQUIRES: sizeof(T) == DataTypeSize(datatype) and Validate().
  template <typename T>
  std::span<const T> Span() const {
    return {reinterpret_cast<const T*>(data.data()), data.size() / sizeof(T)};
  }
};

}  // namespace ecomap::engine
