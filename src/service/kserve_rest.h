// service/kserve_rest.h: the Open Inference Protocol (KServe v2) over REST, as pure functions.
//
// Parsing and serialising only, no sockets: service/http_server.h routes the endpoints to these
// and to the InferenceBackend (service/inference.h); the load generator (service/loadgen.h) uses
// the client half. Everything here is unit-tested without a server (kserve_rest_test.cc),
// malformed input included.
//
// Endpoints (docs/serve.md has examples):
//   GET  /v2                          server metadata {"name", "version", "extensions"}
//   GET  /v2/health/live, /v2/health/ready          200 when live / ready, 503 otherwise
//   GET  /v2/models/NAME[/versions/V]               model metadata {"name", "versions",
//                                                   "platform", "inputs", "outputs"}
//   GET  /v2/models/NAME[/versions/V]/ready         200 when the model serves, 503 otherwise
//   POST /v2/models/NAME[/versions/V]/infer         inference (below)
//
// Inference request (JSON, or JSON followed by binary tensor data):
//   {"id": "...",
//    "parameters": {"top_k": 5, "best_effort": true, "binary_data_output": true},
//    "inputs": [{"name": "input", "datatype": "FP32", "shape": [1,3,224,224],
//                "data": [...]                         // flat or nested, row-major
//                | "parameters": {"binary_data_size": N}}],   // binary tensor extension
//    "outputs": [{"name": "output", "parameters": {"binary_data": true}}]}   // optional
// With binary data the HTTP header Inference-Header-Content-Length gives the JSON's length;
// the inputs' raw bytes follow the JSON in input order. Datatypes: BOOL, UINT8..UINT64,
// INT8..INT64, FP32, FP64 and BYTES (strings) in JSON; all, FP16 included, in binary.
// "top_k": K > 0 adds two outputs, "topk_classes" (INT64 [1,K], class indices, best first) and
// "topk_scores" (FP32 [1,K], softmax probabilities of those classes).
//
// Response: {"model_name", "model_version", "id", "parameters": {"latency_ms"},
//            "outputs": [{"name", "datatype", "shape", "data" | "parameters": {"binary_data_size"}}]}
// followed by the binary outputs when any was asked for as binary (then the reply carries
// Inference-Header-Content-Length and Content-Type application/octet-stream).
// Errors: {"error": "<message>"} with the HTTP status of RestStatusFor.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "service/inference.h"

namespace ecomap::service::kserve {

inline constexpr const char* kHeaderLength = "Inference-Header-Content-Length";

// The HTTP status of an error, as service/inference.h lists them: NotFound 404,
// InvalidArgument 400, Unavailable 503, FailedPrecondition 409, DeadlineExceeded 504,
// ResourceExhausted 429, Unimplemented 501, others 500.
int RestStatusFor(const Status& s);
// {"error": message}.
std::string ErrorBody(const Status& s);
// The Retry-After header value (whole seconds, at least 1) for a retry delay in seconds.
std::string RetryAfterHeader(double retry_after_s);

// The Inference-Header-Content-Length header: "" -> nullopt (the whole body is JSON); otherwise
// a non-negative integer <= body_size. InvalidArgument naming the value otherwise.
StatusOr<std::optional<size_t>> ParseHeaderLength(std::string_view value, size_t body_size);

// --- Server side ---

struct ParsedInfer {
  InferRequest request;
  bool binary_output_default = false;            // parameters.binary_data_output
  std::map<std::string, bool> binary_by_output;  // outputs[i].parameters.binary_data
  bool BinaryOutput(const std::string& name) const;
};

// Parses an infer request for `model` (from the path; `version` may be empty). `json_length`:
// the Inference-Header-Content-Length (nullopt: all JSON). InvalidArgument naming the field,
// the bad value and the fix: bad JSON, missing or mistyped fields, unknown datatype, data count
// not matching the shape, out-of-range values, binary sizes that do not walk the body exactly.
StatusOr<ParsedInfer> ParseInferRequest(const std::string& model, const std::string& version,
                                        std::string_view body, std::optional<size_t> json_length);
// The same with the body already split: `json_text` (the first Inference-Header-Content-Length
// bytes, or the whole body without that header) and `binary` (the rest). An input whose
// binary_data_size is all of `binary` takes the string without copying it (the server reads a
// body straight into these two parts).
StatusOr<ParsedInfer> ParseInferRequest(const std::string& model, const std::string& version,
                                        std::string_view json_text, std::string binary);

struct HttpBody {
  std::string body;
  std::string content_type = "application/json";
  std::optional<size_t> json_length;  // set when binary data follows the JSON
};

// The response for `response`, outputs binary where `how` asks for it.
HttpBody EncodeInferResponse(const InferResponse& response, const ParsedInfer& how);
std::string ServerMetadataJson(const ServerMetadata& m);
std::string ModelMetadataJson(const ModelMetadata& m);

// --- Client side ---

// An infer request's body: inputs as binary (binary_data_size) or JSON "data"; outputs asked
// for as binary or JSON.
HttpBody EncodeInferRequest(const InferRequest& request, bool binary_inputs, bool binary_outputs);
// The JSON part alone of EncodeInferRequest(request, true, binary_outputs): a client that
// sends the inputs' bytes after it straight from the tensors (no body buffer) uses it.
std::string EncodeInferRequestHeader(const InferRequest& request, bool binary_outputs);
// Parses a response body (JSON, binary outputs after `json_length` bytes).
StatusOr<InferResponse> ParseInferResponse(std::string_view body, std::optional<size_t> json_length);
StatusOr<ModelMetadata> ParseModelMetadata(std::string_view body);

}  // namespace ecomap::service::kserve
