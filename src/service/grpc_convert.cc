#include "service/grpc_convert.h"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <type_traits>
#include <utility>

namespace ecomap::service::oip {
namespace {

using engine::DataType;
using engine::HostTensor;

static_assert(std::endian::native == std::endian::little,
              "the raw tensor form is little-endian; a big-endian host needs byte swapping here");

std::string ShapeString(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ","));
}

// The InferTensorContents field that carries `t`; nullptr for FP16 (raw only).
const char* ContentsFieldFor(DataType t) {
  switch (t) {
    case DataType::kBool:
      return "bool_contents";
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
      return "int_contents";
    case DataType::kInt64:
      return "int64_contents";
    case DataType::kUint8:
    case DataType::kUint16:
    case DataType::kUint32:
      return "uint_contents";
    case DataType::kUint64:
      return "uint64_contents";
    case DataType::kFp32:
      return "fp32_contents";
    case DataType::kFp64:
      return "fp64_contents";
    case DataType::kBytes:
      return "bytes_contents";
    case DataType::kFp16:
      return nullptr;
  }
  return nullptr;
}

struct FieldCount {
  const char* name;
  int count;
};

std::array<FieldCount, 8> Counts(const inference::InferTensorContents& c) {
  return {{{"bool_contents", c.bool_contents_size()},
           {"int_contents", c.int_contents_size()},
           {"int64_contents", c.int64_contents_size()},
           {"uint_contents", c.uint_contents_size()},
           {"uint64_contents", c.uint64_contents_size()},
           {"fp32_contents", c.fp32_contents_size()},
           {"fp64_contents", c.fp64_contents_size()},
           {"bytes_contents", c.bytes_contents_size()}}};
}

// Appends the elements of `src` to `data` as `Out`, checking that each value fits.
template <typename Out, typename Src>
Status AppendAs(const std::string& tensor, DataType datatype, const Src& src, std::string* data) {
  data->resize(static_cast<size_t>(src.size()) * sizeof(Out));
  char* p = data->data();
  for (int i = 0; i < src.size(); ++i) {
    const auto v = src.Get(i);
    using In = std::remove_cv_t<decltype(v)>;
    if constexpr (std::is_integral_v<Out> && !std::is_same_v<Out, In>) {
      if (v < static_cast<In>(std::numeric_limits<Out>::min()) ||
          v > static_cast<In>(std::numeric_limits<Out>::max())) {
        return InvalidArgument(fmt::format("tensor '{}': element {} is {}, outside the {} range [{}, {}]",
                                           tensor, i, v, engine::DataTypeName(datatype),
                                           +std::numeric_limits<Out>::min(),
                                           +std::numeric_limits<Out>::max()));
      }
    }
    const Out o = static_cast<Out>(v);
    std::memcpy(p + static_cast<size_t>(i) * sizeof(Out), &o, sizeof(Out));
  }
  return Status::Ok();
}

// Adds the elements of `t` (fixed-size datatype `Elem`) to `dst` as its element type.
template <typename Elem, typename Dst>
void AddAll(const HostTensor& t, Dst* dst) {
  const size_t n = t.data.size() / sizeof(Elem);
  dst->Reserve(static_cast<int>(n));
  for (size_t i = 0; i < n; ++i) {
    Elem e;
    std::memcpy(&e, t.data.data() + i * sizeof(Elem), sizeof(Elem));
    dst->Add(e);
  }
}

uint32_t ReadLength(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | (uint32_t{u[1]} << 8) | (uint32_t{u[2]} << 16) | (uint32_t{u[3]} << 24);
}

void AppendLength(uint32_t n, std::string* out) {
  const char b[4] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
                     static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 24) & 0xff)};
  out->append(b, 4);
}

Status CheckSize(const std::string& tensor, size_t bytes, const Limits& limits) {
  if (bytes > limits.max_tensor_bytes) {
    return InvalidArgument(fmt::format("tensor '{}': {} bytes of data, over the limit of {} bytes", tensor,
                                       bytes, limits.max_tensor_bytes));
  }
  return Status::Ok();
}

void SetParams(double latency_ms, google::protobuf::Map<std::string, inference::InferParameter>* p) {
  if (latency_ms > 0) (*p)[kLatencyParam].set_double_param(latency_ms);
}

}  // namespace

bool HasContents(const inference::InferTensorContents& contents) {
  for (const FieldCount& f : Counts(contents)) {
    if (f.count > 0) return true;
  }
  return false;
}

StatusOr<HostTensor> TensorFromContents(const std::string& name, DataType datatype,
                                        std::vector<int64_t> shape,
                                        const inference::InferTensorContents& contents,
                                        const Limits& limits) {
  HostTensor t{name, datatype, std::move(shape), std::string()};
  ECOMAP_ASSIGN_OR_RETURN(const int64_t n, t.ElementCount());
  const char* field = ContentsFieldFor(datatype);
  if (field == nullptr) {
    return InvalidArgument(fmt::format("tensor '{}': {} has no typed contents field; send it as raw contents",
                                       name, engine::DataTypeName(datatype)));
  }
  int count = 0;
  for (const FieldCount& f : Counts(contents)) {
    if (f.name == std::string_view(field)) {
      count = f.count;
    } else if (f.count > 0) {
      return InvalidArgument(fmt::format("tensor '{}': datatype {} takes its elements in {}, got {} in {}",
                                         name, engine::DataTypeName(datatype), field, f.count, f.name));
    }
  }
  if (count != n) {
    return InvalidArgument(fmt::format("tensor '{}': shape {} implies {} {} elements, {} holds {}", name,
                                       ShapeString(t.shape), n, engine::DataTypeName(datatype), field,
                                       count));
  }
  if (datatype != DataType::kBytes) {
    ECOMAP_RETURN_IF_ERROR(CheckSize(name, static_cast<size_t>(n) * engine::DataTypeSize(datatype), limits));
  }
  const inference::InferTensorContents& c = contents;
  Status s;
  switch (datatype) {
    case DataType::kBool: {
      t.data.resize(static_cast<size_t>(n));
      for (int i = 0; i < c.bool_contents_size(); ++i) t.data[i] = c.bool_contents(i) ? 1 : 0;
      break;
    }
    case DataType::kInt8:
      s = AppendAs<int8_t>(name, datatype, c.int_contents(), &t.data);
      break;
    case DataType::kInt16:
      s = AppendAs<int16_t>(name, datatype, c.int_contents(), &t.data);
      break;
    case DataType::kInt32:
      s = AppendAs<int32_t>(name, datatype, c.int_contents(), &t.data);
      break;
    case DataType::kInt64:
      s = AppendAs<int64_t>(name, datatype, c.int64_contents(), &t.data);
      break;
    case DataType::kUint8:
      s = AppendAs<uint8_t>(name, datatype, c.uint_contents(), &t.data);
      break;
    case DataType::kUint16:
      s = AppendAs<uint16_t>(name, datatype, c.uint_contents(), &t.data);
      break;
    case DataType::kUint32:
      s = AppendAs<uint32_t>(name, datatype, c.uint_contents(), &t.data);
      break;
    case DataType::kUint64:
      s = AppendAs<uint64_t>(name, datatype, c.uint64_contents(), &t.data);
      break;
    case DataType::kFp32:
      s = AppendAs<float>(name, datatype, c.fp32_contents(), &t.data);
      break;
    case DataType::kFp64:
      s = AppendAs<double>(name, datatype, c.fp64_contents(), &t.data);
      break;
    case DataType::kBytes: {
      size_t total = 0;
      for (const std::string& e : c.bytes_contents()) total += 4 + e.size();
      ECOMAP_RETURN_IF_ERROR(CheckSize(name, total, limits));
      t.data.reserve(total);
      for (const std::string& e : c.bytes_contents()) {
        AppendLength(static_cast<uint32_t>(e.size()), &t.data);
        t.data += e;
      }
      break;
    }
    case DataType::kFp16:
      break;  // handled above
  }
  ECOMAP_RETURN_IF_ERROR(s);
  ECOMAP_RETURN_IF_ERROR(t.Validate());
  return t;
}

Status TensorToContents(const HostTensor& t, inference::InferTensorContents* c) {
  ECOMAP_RETURN_IF_ERROR(t.Validate());
  switch (t.datatype) {
    case DataType::kBool:
      for (char b : t.data) c->add_bool_contents(b != 0);
      return Status::Ok();
    case DataType::kInt8:
      AddAll<int8_t>(t, c->mutable_int_contents());
      return Status::Ok();
    case DataType::kInt16:
      AddAll<int16_t>(t, c->mutable_int_contents());
      return Status::Ok();
    case DataType::kInt32:
      AddAll<int32_t>(t, c->mutable_int_contents());
      return Status::Ok();
    case DataType::kInt64:
      AddAll<int64_t>(t, c->mutable_int64_contents());
      return Status::Ok();
    case DataType::kUint8:
      AddAll<uint8_t>(t, c->mutable_uint_contents());
      return Status::Ok();
    case DataType::kUint16:
      AddAll<uint16_t>(t, c->mutable_uint_contents());
      return Status::Ok();
    case DataType::kUint32:
      AddAll<uint32_t>(t, c->mutable_uint_contents());
      return Status::Ok();
    case DataType::kUint64:
      AddAll<uint64_t>(t, c->mutable_uint64_contents());
      return Status::Ok();
    case DataType::kFp32:
      AddAll<float>(t, c->mutable_fp32_contents());
      return Status::Ok();
    case DataType::kFp64:
      AddAll<double>(t, c->mutable_fp64_contents());
      return Status::Ok();
    case DataType::kBytes: {
      size_t pos = 0;
      while (pos < t.data.size()) {  // Validate() checked the prefixes
        const uint32_t len = ReadLength(t.data.data() + pos);
        c->add_bytes_contents(t.data.substr(pos + 4, len));
        pos += 4 + len;
      }
      return Status::Ok();
    }
    case DataType::kFp16:
      break;
  }
  return InvalidArgument(fmt::format("tensor '{}': {} has no typed contents field; it travels raw", t.name,
                                     engine::DataTypeName(t.datatype)));
}

StatusOr<InferRequest> RequestFromProto(const inference::ModelInferRequest& wire, const Limits& limits) {
  if (wire.model_name().empty()) return InvalidArgument("ModelInferRequest: model_name is empty");
  InferRequest req;
  req.model = wire.model_name();
  req.version = wire.model_version();
  req.id = wire.id();
  const std::string where = fmt::format("model '{}'", req.model);
  if (wire.inputs_size() == 0) return InvalidArgument(where + ": the request has no inputs");
  const bool raw = wire.raw_input_contents_size() > 0;
  if (raw && wire.raw_input_contents_size() != wire.inputs_size()) {
    return InvalidArgument(
        fmt::format("{}: {} inputs but {} raw_input_contents entries; send one per input, in the order of "
                    "inputs",
                    where, wire.inputs_size(), wire.raw_input_contents_size()));
  }
  std::set<std::string> names;
  for (int i = 0; i < wire.inputs_size(); ++i) {
    const auto& in = wire.inputs(i);
    if (in.name().empty()) return InvalidArgument(fmt::format("{}: input {} has no name", where, i));
    if (!names.insert(in.name()).second) {
      return InvalidArgument(fmt::format("{}: input '{}' appears twice", where, in.name()));
    }
    StatusOr<DataType> dt = engine::ParseDataType(in.datatype());
    if (!dt.ok()) return dt.status().WithContext(fmt::format("{}: input '{}'", where, in.name()));
    std::vector<int64_t> shape(in.shape().begin(), in.shape().end());
    if (raw) {
      if (HasContents(in.contents())) {
        return InvalidArgument(
            fmt::format("{}: input '{}' has typed contents while the request carries raw_input_contents; use "
                        "one form for all inputs",
                        where, in.name()));
      }
      HostTensor t{in.name(), *dt, std::move(shape), wire.raw_input_contents(i)};
      ECOMAP_RETURN_IF_ERROR(CheckSize(t.name, t.data.size(), limits));
      Status v = t.Validate();
      if (!v.ok()) return v.WithContext(where);
      req.inputs.push_back(std::move(t));
    } else {
      StatusOr<HostTensor> t = TensorFromContents(in.name(), *dt, std::move(shape), in.contents(), limits);
      if (!t.ok()) return t.status().WithContext(where);
      req.inputs.push_back(std::move(*t));
    }
  }
  std::set<std::string> outs;
  for (int i = 0; i < wire.outputs_size(); ++i) {
    const std::string& name = wire.outputs(i).name();
    if (name.empty()) return InvalidArgument(fmt::format("{}: requested output {} has no name", where, i));
    if (!outs.insert(name).second) {
      return InvalidArgument(fmt::format("{}: output '{}' is requested twice", where, name));
    }
    req.outputs.push_back(name);
  }
  if (auto it = wire.parameters().find(kTopKParam); it != wire.parameters().end()) {
    const inference::InferParameter& p = it->second;
    int64_t k = -1;
    if (p.parameter_choice_case() == inference::InferParameter::kInt64Param) {
      k = p.int64_param();
    } else if (p.parameter_choice_case() == inference::InferParameter::kUint64Param &&
               p.uint64_param() <= uint64_t{std::numeric_limits<int32_t>::max()}) {
      k = static_cast<int64_t>(p.uint64_param());
    } else {
      return InvalidArgument(fmt::format("{}: parameter '{}' must be an int64_param, got {}", where,
                                         kTopKParam, p.ShortDebugString()));
    }
    if (k < 0 || k > std::numeric_limits<int32_t>::max()) {
      return InvalidArgument(fmt::format("{}: parameter '{}' is {}; it must be >= 0", where, kTopKParam, k));
    }
    req.top_k = static_cast<int>(k);
  }
  if (auto it = wire.parameters().find(kBestEffortParam); it != wire.parameters().end()) {
    if (it->second.parameter_choice_case() != inference::InferParameter::kBoolParam) {
      return InvalidArgument(fmt::format("{}: parameter '{}' must be a bool_param, got {}", where,
                                         kBestEffortParam, it->second.ShortDebugString()));
    }
    req.best_effort = it->second.bool_param();
  }
  return req;
}

StatusOr<bool> WantsRawOutput(const inference::ModelInferRequest& wire) {
  auto it = wire.parameters().find(kBinaryOutputParam);
  if (it == wire.parameters().end()) return true;
  if (it->second.parameter_choice_case() != inference::InferParameter::kBoolParam) {
    return InvalidArgument(fmt::format("model '{}': parameter '{}' must be a bool_param, got {}",
                                       wire.model_name(), kBinaryOutputParam, it->second.ShortDebugString()));
  }
  return it->second.bool_param();
}

StatusOr<inference::ModelInferResponse> ResponseToProto(const InferResponse& r, bool raw) {
  inference::ModelInferResponse wire;
  wire.set_model_name(r.model);
  wire.set_model_version(r.version);
  wire.set_id(r.id);
  SetParams(r.latency_ms, wire.mutable_parameters());
  for (const HostTensor& t : r.outputs) {
    if (t.datatype == DataType::kFp16) raw = true;
  }
  for (const HostTensor& t : r.outputs) {
    Status v = t.Validate();
    if (!v.ok()) {
      return Internal(fmt::format("model '{}' returned an invalid output: {}", r.model, v.message()));
    }
    auto* out = wire.add_outputs();
    out->set_name(t.name);
    out->set_datatype(engine::DataTypeName(t.datatype));
    for (int64_t d : t.shape) out->add_shape(d);
    if (raw) {
      wire.add_raw_output_contents(t.data);
    } else {
      ECOMAP_RETURN_IF_ERROR(TensorToContents(t, out->mutable_contents()));
    }
  }
  return wire;
}

StatusOr<inference::ModelInferRequest> RequestToProto(const InferRequest& r) {
  inference::ModelInferRequest wire;
  wire.set_model_name(r.model);
  wire.set_model_version(r.version);
  wire.set_id(r.id);
  for (const HostTensor& t : r.inputs) {
    ECOMAP_RETURN_IF_ERROR(t.Validate());
    auto* in = wire.add_inputs();
    in->set_name(t.name);
    in->set_datatype(engine::DataTypeName(t.datatype));
    for (int64_t d : t.shape) in->add_shape(d);
    wire.add_raw_input_contents(t.data);
  }
  for (const std::string& o : r.outputs) wire.add_outputs()->set_name(o);
  if (r.top_k > 0) (*wire.mutable_parameters())[kTopKParam].set_int64_param(r.top_k);
  if (r.best_effort) (*wire.mutable_parameters())[kBestEffortParam].set_bool_param(true);
  return wire;
}

StatusOr<InferResponse> ResponseFromProto(const inference::ModelInferResponse& wire, const Limits& limits) {
  InferResponse r;
  r.model = wire.model_name();
  r.version = wire.model_version();
  r.id = wire.id();
  if (auto it = wire.parameters().find(kLatencyParam); it != wire.parameters().end()) {
    r.latency_ms = it->second.double_param();
  }
  const bool raw = wire.raw_output_contents_size() > 0;
  if (raw && wire.raw_output_contents_size() != wire.outputs_size()) {
    return InvalidArgument(
        fmt::format("ModelInferResponse of model '{}': {} outputs but {} raw_output_contents entries",
                    r.model, wire.outputs_size(), wire.raw_output_contents_size()));
  }
  for (int i = 0; i < wire.outputs_size(); ++i) {
    const auto& out = wire.outputs(i);
    StatusOr<DataType> dt = engine::ParseDataType(out.datatype());
    if (!dt.ok()) return dt.status().WithContext(fmt::format("output '{}'", out.name()));
    std::vector<int64_t> shape(out.shape().begin(), out.shape().end());
    if (raw) {
      HostTensor t{out.name(), *dt, std::move(shape), wire.raw_output_contents(i)};
      ECOMAP_RETURN_IF_ERROR(t.Validate());
      r.outputs.push_back(std::move(t));
    } else {
      ECOMAP_ASSIGN_OR_RETURN(HostTensor t,
                              TensorFromContents(out.name(), *dt, std::move(shape), out.contents(), limits));
      r.outputs.push_back(std::move(t));
    }
  }
  return r;
}

void ModelMetadataToProto(const ModelMetadata& m, inference::ModelMetadataResponse* wire) {
  wire->set_name(m.name);
  for (const std::string& v : m.versions) wire->add_versions(v);
  wire->set_platform(m.platform);
  auto fill = [](const TensorMetadata& t, inference::ModelMetadataResponse::TensorMetadata* w) {
    w->set_name(t.name);
    w->set_datatype(engine::DataTypeName(t.datatype));
    for (int64_t d : t.shape) w->add_shape(d);
  };
  for (const TensorMetadata& t : m.inputs) fill(t, wire->add_inputs());
  for (const TensorMetadata& t : m.outputs) fill(t, wire->add_outputs());
}

StatusOr<ModelMetadata> ModelMetadataFromProto(const inference::ModelMetadataResponse& wire) {
  ModelMetadata m;
  m.name = wire.name();
  m.versions.assign(wire.versions().begin(), wire.versions().end());
  m.platform = wire.platform();
  auto read = [&](const auto& list, std::vector<TensorMetadata>* out) -> Status {
    for (const auto& w : list) {
      StatusOr<DataType> dt = engine::ParseDataType(w.datatype());
      if (!dt.ok()) {
        return dt.status().WithContext(fmt::format("model '{}' tensor '{}'", m.name, w.name()));
      }
      out->push_back({w.name(), *dt, std::vector<int64_t>(w.shape().begin(), w.shape().end())});
    }
    return Status::Ok();
  };
  ECOMAP_RETURN_IF_ERROR(read(wire.inputs(), &m.inputs));
  ECOMAP_RETURN_IF_ERROR(read(wire.outputs(), &m.outputs));
  return m;
}

}  // namespace ecomap::service::oip
