// service/grpc_convert.h: the Open Inference Protocol's gRPC messages <-> service/inference.h.
//
// Internal to the gRPC transport (service/grpc_server.h, service/grpc_client.h); kept apart so
// the conversions are tested without a network. Every function validates what it reads and
// returns InvalidArgument naming the tensor, the field and the bad value.
//
//   inference::ModelInferRequest wire = ...;
//   StatusOr<InferRequest> req = oip::RequestFromProto(wire, limits);
//
// Tensor data: the HostTensor byte layout (engine/tensor.h) is the protocol's raw form, so raw
// contents are copied as they are; typed contents (InferTensorContents) are converted element
// by element with range checks (an INT8 tensor's int_contents must fit in 8 bits).
//
// Thread-safety: free functions on values.
#pragma once

#include <cstddef>
#include <string>

#include "core/status.h"
#include "engine/tensor.h"
#include "grpc_predict_v2.pb.h"
#include "service/inference.h"

namespace ecomap::service::oip {

// The request parameters Ecomap reads (others are ignored, as the protocol allows).
inline constexpr char kTopKParam[] = "top_k";              // int64_param >= 0
inline constexpr char kBestEffortParam[] = "best_effort";  // bool_param
// Request parameter (bool_param): false asks for typed `contents` in the response instead of
// raw_output_contents (the name Triton's HTTP form uses for the same choice).
inline constexpr char kBinaryOutputParam[] = "binary_data_output";
// Response parameter (double_param): the engine's arrival-to-completion latency.
inline constexpr char kLatencyParam[] = "ecomap_latency_ms";

struct Limits {
  // The most bytes one tensor's data may take once decoded (typed contents expand: a BOOL takes
  // one byte, a BYTES element four more for its length).
  size_t max_tensor_bytes = size_t{64} << 20;
};

// Typed contents of tensor `name` -> HostTensor data. InvalidArgument when the datatype has no
// typed field (FP16), when the elements sit in a field that does not match the datatype, when
// their number differs from the shape's, or when a value does not fit the datatype.
StatusOr<engine::HostTensor> TensorFromContents(const std::string& name, engine::DataType datatype,
                                                std::vector<int64_t> shape,
                                                const inference::InferTensorContents& contents,
                                                const Limits& limits);
// HostTensor -> typed contents. InvalidArgument for FP16 (raw only) or a tensor that does not
// validate.
Status TensorToContents(const engine::HostTensor& tensor, inference::InferTensorContents* contents);
// Whether any typed field of `contents` holds an element.
bool HasContents(const inference::InferTensorContents& contents);

// The server's half.
StatusOr<InferRequest> RequestFromProto(const inference::ModelInferRequest& wire, const Limits& limits);
// `raw`: raw_output_contents (the default) or typed contents. FP16 outputs force raw.
StatusOr<inference::ModelInferResponse> ResponseToProto(const InferResponse& response, bool raw);
// Whether the request asked for raw outputs (the default; see kBinaryOutputParam).
StatusOr<bool> WantsRawOutput(const inference::ModelInferRequest& wire);

// The client's half. Inputs go out as raw_input_contents.
StatusOr<inference::ModelInferRequest> RequestToProto(const InferRequest& request);
// Accepts raw or typed outputs (any server).
StatusOr<InferResponse> ResponseFromProto(const inference::ModelInferResponse& wire, const Limits& limits);

// Metadata in both directions.
void ModelMetadataToProto(const ModelMetadata& m, inference::ModelMetadataResponse* wire);
StatusOr<ModelMetadata> ModelMetadataFromProto(const inference::ModelMetadataResponse& wire);

}  // namespace ecomap::service::oip
