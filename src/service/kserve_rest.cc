#include "service/kserve_rest.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace ecomap::service::kserve {

using engine::DataType;
using engine::HostTensor;
using nlohmann::json;

namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

// Appends the leaves of a (possibly nested) "data" array, row-major.
Status Flatten(const json& j, std::vector<const json*>* out, int depth) {
  if (depth > 32) return InvalidArgument("\"data\" is nested deeper than 32 levels");
  if (j.is_array()) {
    for (const json& e : j) ECOMAP_RETURN_IF_ERROR(Flatten(e, out, depth + 1));
  } else {
    out->push_back(&j);
  }
  return Status::Ok();
}

template <typename T>
void Put(std::string* data, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  data->append(b, sizeof(T));
}

template <typename T>
Status PutInteger(const json& v, std::string* data, const std::string& ctx, size_t i) {
  auto bad = [&] {
    return InvalidArgument(ctx + ": element " + std::to_string(i) + " (" + v.dump().substr(0, 40) +
                           ") is not an integer in the range of the datatype");
  };
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) return bad();
    Put<T>(data, static_cast<T>(u));
  } else if (v.is_number_integer()) {
    int64_t s = v.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (s < 0) return bad();
      if (static_cast<uint64_t>(s) > static_cast<uint64_t>(std::numeric_limits<T>::max())) return bad();
    } else {
      if (s < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          s > static_cast<int64_t>(std::numeric_limits<T>::max())) {
        return bad();
      }
    }
    Put<T>(data, static_cast<T>(s));
  } else {
    return bad();
  }
  return Status::Ok();
}

// The JSON "data" of a tensor as its bytes.
Status EncodeData(const json& data, HostTensor* t, int64_t count, const std::string& ctx) {
  std::vector<const json*> leaves;
  ECOMAP_RETURN_IF_ERROR(Flatten(data, &leaves, 0));
  if (static_cast<int64_t>(leaves.size()) != count) {
    return InvalidArgument(ctx + ": \"data\" has " + std::to_string(leaves.size()) + " elements but shape " +
                           ShapeText(t->shape) + " needs " + std::to_string(count));
  }
  if (t->datatype != DataType::kBytes) t->data.reserve(leaves.size() * engine::DataTypeSize(t->datatype));
  for (size_t i = 0; i < leaves.size(); ++i) {
    const json& v = *leaves[i];
    switch (t->datatype) {
      case DataType::kFp32:
      case DataType::kFp64: {
        if (!v.is_number()) {
          return InvalidArgument(ctx + ": element " + std::to_string(i) + " (" + v.dump().substr(0, 40) +
                                 ") is not a number");
        }
        double d = v.get<double>();
        if (t->datatype == DataType::kFp32) Put<float>(&t->data, static_cast<float>(d));
        else Put<double>(&t->data, d);
        break;
      }
      case DataType::kBool:
        if (!v.is_boolean()) {
          return InvalidArgument(ctx + ": element " + std::to_string(i) + " is not true or false");
        }
        Put<uint8_t>(&t->data, v.get<bool>() ? 1 : 0);
        break;
      case DataType::kInt8: ECOMAP_RETURN_IF_ERROR(PutInteger<int8_t>(v, &t->data, ctx, i)); break;
      case DataType::kInt16: ECOMAP_RETURN_IF_ERROR(PutInteger<int16_t>(v, &t->data, ctx, i)); break;
      case DataType::kInt32: ECOMAP_RETURN_IF_ERROR(PutInteger<int32_t>(v, &t->data, ctx, i)); break;
      case DataType::kInt64: ECOMAP_RETURN_IF_ERROR(PutInteger<int64_t>(v, &t->data, ctx, i)); break;
      case DataType::kUint8: ECOMAP_RETURN_IF_ERROR(PutInteger<uint8_t>(v, &t->data, ctx, i)); break;
      case DataType::kUint16: ECOMAP_RETURN_IF_ERROR(PutInteger<uint16_t>(v, &t->data, ctx, i)); break;
      case DataType::kUint32: ECOMAP_RETURN_IF_ERROR(PutInteger<uint32_t>(v, &t->data, ctx, i)); break;
      case DataType::kUint64: ECOMAP_RETURN_IF_ERROR(PutInteger<uint64_t>(v, &t->data, ctx, i)); break;
      case DataType::kBytes: {
        if (!v.is_string()) return InvalidArgument(ctx + ": element " + std::to_string(i) + " is not a string");
        const std::string& s = v.get_ref<const std::string&>();
        Put<uint32_t>(&t->data, static_cast<uint32_t>(s.size()));
        t->data += s;
        break;
      }
      case DataType::kFp16:
        return InvalidArgument(ctx + ": FP16 cannot be sent as JSON data; send it as binary "
                                     "(\"parameters\": {\"binary_data_size\": N})");
    }
  }
  return Status::Ok();
}

template <typename T>
T Get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// A tensor's bytes as JSON "data" (flat). FP16 goes out as its raw 16-bit patterns.
json DecodeData(const HostTensor& t) {
  json out = json::array();
  const char* p = t.data.data();
  const size_t n = t.data.size();
  const size_t sz = engine::DataTypeSize(t.datatype);
  if (t.datatype == DataType::kBytes) {
    size_t off = 0;
    while (off + 4 <= n) {
      uint32_t len = Get<uint32_t>(p + off);
      off += 4;
      if (off + len > n) break;
      out.push_back(std::string(p + off, len));
      off += len;
    }
    return out;
  }
  for (size_t off = 0; sz > 0 && off + sz <= n; off += sz) {
    switch (t.datatype) {
      case DataType::kFp32: {
        float f = Get<float>(p + off);
        if (std::isfinite(f)) out.push_back(f);
        else out.push_back(nullptr);
        break;
      }
      case DataType::kFp64: out.push_back(Get<double>(p + off)); break;
      case DataType::kBool: out.push_back(Get<uint8_t>(p + off) != 0); break;
      case DataType::kInt8: out.push_back(Get<int8_t>(p + off)); break;
      case DataType::kInt16: out.push_back(Get<int16_t>(p + off)); break;
      case DataType::kInt32: out.push_back(Get<int32_t>(p + off)); break;
      case DataType::kInt64: out.push_back(Get<int64_t>(p + off)); break;
      case DataType::kUint8: out.push_back(Get<uint8_t>(p + off)); break;
      case DataType::kUint16: out.push_back(Get<uint16_t>(p + off)); break;
      case DataType::kUint32: out.push_back(Get<uint32_t>(p + off)); break;
      case DataType::kUint64: out.push_back(Get<uint64_t>(p + off)); break;
      case DataType::kFp16: out.push_back(Get<uint16_t>(p + off)); break;
      case DataType::kBytes: break;
    }
  }
  return out;
}

StatusOr<json> ParseJson(std::string_view text, const std::string& what) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return InvalidArgument(what + " is not valid JSON (" + std::to_string(text.size()) +
                           " bytes); send a JSON object, and with binary tensors set " + kHeaderLength +
                           " to the JSON's length");
  }
  if (!j.is_object()) return InvalidArgument(what + " must be a JSON object");
  return j;
}

// A tensor's header fields: name, datatype, shape. The data is filled by the caller.
Status ParseTensorHeader(const json& o, const std::string& ctx, HostTensor* t) {
  if (!o.is_object()) return InvalidArgument(ctx + " must be an object");
  if (!o.contains("name") || !o["name"].is_string() || o["name"].get_ref<const std::string&>().empty()) {
    return InvalidArgument(ctx + ": \"name\" (a non-empty string) is required");
  }
  t->name = o["name"].get<std::string>();
  if (!o.contains("datatype") || !o["datatype"].is_string()) {
    return InvalidArgument(ctx + " '" + t->name + "': \"datatype\" (e.g. \"FP32\") is required");
  }
  StatusOr<DataType> dt = engine::ParseDataType(o["datatype"].get<std::string>());
  if (!dt.ok()) return dt.status().WithContext(ctx + " '" + t->name + "'");
  t->datatype = *dt;
  if (!o.contains("shape") || !o["shape"].is_array()) {
    return InvalidArgument(ctx + " '" + t->name + "': \"shape\" (an array of dimensions) is required");
  }
  for (const json& d : o["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) {
      return InvalidArgument(ctx + " '" + t->name + "': shape dimension " + d.dump() +
                             " is not a non-negative integer");
    }
    t->shape.push_back(d.get<int64_t>());
  }
  return Status::Ok();
}

// Optional "parameters" object; InvalidArgument when present and not an object.
StatusOr<const json*> Params(const json& o, const std::string& ctx) {
  if (!o.contains("parameters")) return static_cast<const json*>(nullptr);
  if (!o["parameters"].is_object()) return InvalidArgument(ctx + ": \"parameters\" must be an object");
  return &o["parameters"];
}

StatusOr<bool> BoolParam(const json* p, const char* key, const std::string& ctx) {
  if (p == nullptr || !p->contains(key)) return false;
  if (!(*p)[key].is_boolean()) return InvalidArgument(ctx + ": parameter \"" + key + "\" must be true or false");
  return (*p)[key].get<bool>();
}

// Reads the inputs/outputs array `arr` into tensors, taking binary bytes from `bin`.
// `owned`: when non-null, `bin` is its text; an input whose bytes are all of it takes it without
// a copy.
Status ParseTensors(const json& arr, const std::string& what, std::string_view bin, bool allow_json_data,
                    std::vector<HostTensor>* out, std::string* owned = nullptr) {
  size_t off = 0;
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string ctx = what + "[" + std::to_string(i) + "]";
    HostTensor t;
    ECOMAP_RETURN_IF_ERROR(ParseTensorHeader(arr[i], ctx, &t));
    const std::string tctx = what + " '" + t.name + "'";
    StatusOr<int64_t> count = t.ElementCount();
    if (!count.ok()) return count.status().WithContext(tctx);
    ECOMAP_ASSIGN_OR_RETURN(const json* params, Params(arr[i], tctx));
    if (params && params->contains("binary_data_size")) {
      const json& b = (*params)["binary_data_size"];
      if (!b.is_number_integer() || b.get<int64_t>() < 0) {
        return InvalidArgument(tctx + ": binary_data_size " + b.dump() + " is not a non-negative integer");
      }
      const auto size = static_cast<size_t>(b.get<int64_t>());
      if (size > bin.size() - off) {
        return InvalidArgument(tctx + ": binary_data_size " + std::to_string(size) + " runs past the end of the body (" +
                               std::to_string(bin.size() - off) + " binary bytes left); the body is truncated or " +
                               kHeaderLength + " is wrong");
      }
      if (arr[i].contains("data")) return InvalidArgument(tctx + ": has both \"data\" and binary_data_size; give one");
      if (owned != nullptr && off == 0 && size == bin.size() && size > 0) {
        t.data = std::move(*owned);  // the whole binary part: no copy of a large tensor
        owned = nullptr;
      } else {
        t.data.assign(bin.data() + off, size);
      }
      off += size;
    } else if (arr[i].contains("data")) {
      if (!allow_json_data) return InvalidArgument(tctx + ": unexpected \"data\"");
      ECOMAP_RETURN_IF_ERROR(EncodeData(arr[i]["data"], &t, *count, tctx));
    } else {
      return InvalidArgument(tctx + ": no \"data\" and no \"parameters\": {\"binary_data_size\": N}");
    }
    Status v = t.Validate();
    if (!v.ok()) return v.WithContext(tctx);
    out->push_back(std::move(t));
  }
  if (off != bin.size()) {
    return InvalidArgument(std::to_string(bin.size() - off) + " bytes of binary data follow the JSON but no " + what +
                           " claims them (binary_data_size); check " + kHeaderLength);
  }
  return Status::Ok();
}

std::string IdOf(const json& j) {
  if (!j.contains("id")) return "";
  return j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump();
}

json TensorMetaJson(const TensorMetadata& t) {
  return {{"name", t.name}, {"datatype", engine::DataTypeName(t.datatype)}, {"shape", t.shape}};
}

// Splits a body at json_length: (JSON text, binary rest).
std::pair<std::string_view, std::string_view> Split(std::string_view body, std::optional<size_t> json_length) {
  if (!json_length) return {body, {}};
  return {body.substr(0, *json_length), body.substr(*json_length)};
}

HttpBody Finish(const json& j, const std::string& binary) {
  HttpBody out;
  out.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!binary.empty()) {
    out.json_length = out.body.size();
    out.body += binary;
    out.content_type = "application/octet-stream";
  }
  return out;
}

}  // namespace

int RestStatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    default: return 500;
  }
}

std::string ErrorBody(const Status& s) {
  return json{{"error", s.message()}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string RetryAfterHeader(double retry_after_s) {
  double s = std::ceil(std::isfinite(retry_after_s) ? retry_after_s : 1.0);
  return std::to_string(static_cast<int64_t>(std::max(1.0, std::min(s, 3600.0))));
}

StatusOr<std::optional<size_t>> ParseHeaderLength(std::string_view value, size_t body_size) {
  if (value.empty()) return std::optional<size_t>();
  size_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9' || n > (size_t{1} << 40)) {
      return InvalidArgument(std::string(kHeaderLength) + " '" + std::string(value) +
                             "' is not a non-negative integer (the JSON's length in bytes)");
    }
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  if (n > body_size) {
    return InvalidArgument(std::string(kHeaderLength) + " " + std::to_string(n) + " exceeds the body's " +
                           std::to_string(body_size) + " bytes; the body is truncated or the header wrong");
  }
  return std::optional<size_t>(n);
}

bool ParsedInfer::BinaryOutput(const std::string& name) const {
  auto it = binary_by_output.find(name);
  return it != binary_by_output.end() ? it->second : binary_output_default;
}

namespace {

StatusOr<ParsedInfer> ParseInfer(const std::string& model, const std::string& version, std::string_view text,
                                 std::string_view bin, std::string* owned) {
  ECOMAP_ASSIGN_OR_RETURN(json j, ParseJson(text, "the infer request"));
  ParsedInfer out;
  InferRequest& r = out.request;
  r.model = model;
  r.version = version;
  r.id = IdOf(j);
  ECOMAP_ASSIGN_OR_RETURN(const json* params, Params(j, "the request"));
  if (params) {
    if (params->contains("top_k")) {
      const json& k = (*params)["top_k"];
      if (!k.is_number_integer() || k.get<int64_t>() < 0 || k.get<int64_t>() > 100000) {
        return InvalidArgument("parameter top_k " + k.dump() + " must be an integer >= 0 (e.g. 5)");
      }
      r.top_k = static_cast<int>(k.get<int64_t>());
    }
    ECOMAP_ASSIGN_OR_RETURN(r.best_effort, BoolParam(params, "best_effort", "the request"));
    ECOMAP_ASSIGN_OR_RETURN(out.binary_output_default, BoolParam(params, "binary_data_output", "the request"));
  }
  if (!j.contains("inputs") || !j["inputs"].is_array() || j["inputs"].empty()) {
    return InvalidArgument("the infer request needs \"inputs\": a non-empty array of tensors");
  }
  ECOMAP_RETURN_IF_ERROR(ParseTensors(j["inputs"], "input", bin, true, &r.inputs, owned));
  if (j.contains("outputs")) {
    if (!j["outputs"].is_array()) return InvalidArgument("\"outputs\" must be an array of {\"name\": ...}");
    for (size_t i = 0; i < j["outputs"].size(); ++i) {
      const json& o = j["outputs"][i];
      const std::string ctx = "output[" + std::to_string(i) + "]";
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) {
        return InvalidArgument(ctx + ": \"name\" (a string) is required");
      }
      std::string name = o["name"].get<std::string>();
      r.outputs.push_back(name);
      ECOMAP_ASSIGN_OR_RETURN(const json* op, Params(o, ctx));
      if (op && op->contains("binary_data")) {
        ECOMAP_ASSIGN_OR_RETURN(out.binary_by_output[name], BoolParam(op, "binary_data", ctx));
      }
    }
  }
  return out;
}

}  // namespace

StatusOr<ParsedInfer> ParseInferRequest(const std::string& model, const std::string& version,
                                        std::string_view body, std::optional<size_t> json_length) {
  auto [text, bin] = Split(body, json_length);
  return ParseInfer(model, version, text, bin, nullptr);
}

StatusOr<ParsedInfer> ParseInferRequest(const std::string& model, const std::string& version,
                                        std::string_view json_text, std::string binary) {
  const std::string_view bin(binary);
  return ParseInfer(model, version, json_text, bin, &binary);
}

HttpBody EncodeInferResponse(const InferResponse& response, const ParsedInfer& how) {
  json outputs = json::array();
  std::string binary;
  for (const HostTensor& t : response.outputs) {
    json o = {{"name", t.name}, {"datatype", engine::DataTypeName(t.datatype)}, {"shape", t.shape}};
    if (how.BinaryOutput(t.name)) {
      o["parameters"] = {{"binary_data_size", t.data.size()}};
      binary += t.data;
    } else {
      o["data"] = DecodeData(t);
    }
    outputs.push_back(std::move(o));
  }
  json j = {{"model_name", response.model},
            {"model_version", response.version},
            {"outputs", std::move(outputs)},
            {"parameters", {{"latency_ms", response.latency_ms}}}};
  if (!response.id.empty()) j["id"] = response.id;
  return Finish(j, binary);
}

std::string ServerMetadataJson(const ServerMetadata& m) {
  return json{{"name", m.name}, {"version", m.version}, {"extensions", m.extensions}}.dump();
}

std::string ModelMetadataJson(const ModelMetadata& m) {
  json in = json::array(), out = json::array();
  for (const auto& t : m.inputs) in.push_back(TensorMetaJson(t));
  for (const auto& t : m.outputs) out.push_back(TensorMetaJson(t));
  return json{{"name", m.name}, {"versions", m.versions}, {"platform", m.platform}, {"inputs", in}, {"outputs", out}}
      .dump();
}

namespace {

// The request's JSON; inputs as binary_data_size (their bytes to follow) or as "data".
std::string InferRequestJson(const InferRequest& request, bool binary_inputs, bool binary_outputs) {
  json inputs = json::array();
  for (const HostTensor& t : request.inputs) {
    json o = {{"name", t.name}, {"datatype", engine::DataTypeName(t.datatype)}, {"shape", t.shape}};
    if (binary_inputs) {
      o["parameters"] = {{"binary_data_size", t.data.size()}};
    } else {
      o["data"] = DecodeData(t);
    }
    inputs.push_back(std::move(o));
  }
  json j = {{"inputs", std::move(inputs)}};
  if (!request.id.empty()) j["id"] = request.id;
  json params = json::object();
  if (request.top_k > 0) params["top_k"] = request.top_k;
  if (request.best_effort) params["best_effort"] = true;
  if (binary_outputs) params["binary_data_output"] = true;
  if (!params.empty()) j["parameters"] = params;
  if (!request.outputs.empty()) {
    json outs = json::array();
    for (const auto& n : request.outputs) outs.push_back({{"name", n}});
    j["outputs"] = outs;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string EncodeInferRequestHeader(const InferRequest& request, bool binary_outputs) {
  return InferRequestJson(request, /*binary_inputs=*/true, binary_outputs);
}

HttpBody EncodeInferRequest(const InferRequest& request, bool binary_inputs, bool binary_outputs) {
  HttpBody b;
  b.body = InferRequestJson(request, binary_inputs, binary_outputs);
  if (binary_inputs) {
    // The JSON, then the inputs' bytes, in one buffer of the final size.
    b.json_length = b.body.size();  // also with no bytes at all: it tells the server the split
    size_t binary_size = 0;
    for (const HostTensor& t : request.inputs) binary_size += t.data.size();
    b.body.reserve(*b.json_length + binary_size);
    for (const HostTensor& t : request.inputs) b.body += t.data;
    if (binary_size > 0) b.content_type = "application/octet-stream";
  }
  return b;
}

StatusOr<InferResponse> ParseInferResponse(std::string_view body, std::optional<size_t> json_length) {
  auto [text, bin] = Split(body, json_length);
  ECOMAP_ASSIGN_OR_RETURN(json j, ParseJson(text, "the infer response"));
  if (j.contains("error")) {
    return Internal("the server answered an error: " + (j["error"].is_string() ? j["error"].get<std::string>()
                                                                              : j["error"].dump()));
  }
  InferResponse r;
  if (j.contains("model_name") && j["model_name"].is_string()) r.model = j["model_name"].get<std::string>();
  if (j.contains("model_version") && j["model_version"].is_string()) r.version = j["model_version"].get<std::string>();
  r.id = IdOf(j);
  if (j.contains("parameters") && j["parameters"].is_object() && j["parameters"].contains("latency_ms") &&
      j["parameters"]["latency_ms"].is_number()) {
    r.latency_ms = j["parameters"]["latency_ms"].get<double>();
  }
  if (!j.contains("outputs") || !j["outputs"].is_array()) {
    return InvalidArgument("the infer response has no \"outputs\" array");
  }
  ECOMAP_RETURN_IF_ERROR(ParseTensors(j["outputs"], "output", bin, true, &r.outputs));
  return r;
}

StatusOr<ModelMetadata> ParseModelMetadata(std::string_view body) {
  ECOMAP_ASSIGN_OR_RETURN(json j, ParseJson(body, "the model metadata"));
  ModelMetadata m;
  if (!j.contains("name") || !j["name"].is_string()) return InvalidArgument("model metadata without \"name\"");
  m.name = j["name"].get<std::string>();
  if (j.contains("platform") && j["platform"].is_string()) m.platform = j["platform"].get<std::string>();
  if (j.contains("versions") && j["versions"].is_array()) {
    for (const json& v : j["versions"]) {
      if (v.is_string()) m.versions.push_back(v.get<std::string>());
    }
  }
  for (const char* key : {"inputs", "outputs"}) {
    if (!j.contains(key) || !j[key].is_array()) return InvalidArgument(std::string("model metadata without \"") + key + "\"");
    for (size_t i = 0; i < j[key].size(); ++i) {
      HostTensor t;
      ECOMAP_RETURN_IF_ERROR(ParseTensorHeader(j[key][i], std::string(key) + "[" + std::to_string(i) + "]", &t));
      (std::string(key) == "inputs" ? m.inputs : m.outputs).push_back({t.name, t.datatype, t.shape});
    }
  }
  return m;
}

}  // namespace ecomap::service::kserve
