#include "service/grpc_client.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <utility>

#include "grpc_predict_v2.grpc.pb.h"
#include "service/grpc_convert.h"

namespace ecomap::service {
namespace {

constexpr char kRetryAfterKey[] = "retry-after-s";

// The server's retry hint, or a negative value when the trailer is absent or unreadable.
double RetryAfter(const grpc::ClientContext& ctx) {
  const auto& trailers = ctx.GetServerTrailingMetadata();
  auto it = trailers.find(kRetryAfterKey);
  if (it == trailers.end()) return -1;
  const std::string v(it->second.data(), it->second.size());
  char* end = nullptr;
  const double s = std::strtod(v.c_str(), &end);
  return (end != v.c_str() && s >= 0) ? s : -1;
}

}  // namespace

class GrpcInferenceClient::Impl {
 public:
  Impl(const std::string& target, GrpcClientOptions options) : options_(options) {
    grpc::ChannelArguments args;
    const int max_bytes = static_cast<int>(std::min<size_t>(options.max_message_bytes, INT32_MAX));
    args.SetMaxReceiveMessageSize(max_bytes);
    args.SetMaxSendMessageSize(max_bytes);
    channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    stub_ = inference::GRPCInferenceService::NewStub(channel_);
  }

  void Prepare(grpc::ClientContext* ctx) const {
    const auto d = std::chrono::microseconds(static_cast<int64_t>(options_.deadline_s * 1e6));
    ctx->set_deadline(std::chrono::system_clock::now() + d);
  }

  // The gRPC status of `rpc` as an ecomap Status; sets *retry_after_s on a refusal.
  Status FromGrpc(const std::string& target, const char* rpc, const grpc::Status& s,
                  const grpc::ClientContext& ctx, double* retry_after_s) const {
    if (s.ok()) return Status::Ok();
    const std::string m = fmt::format("gRPC {} to {}: {}", rpc, target, s.error_message());
    switch (s.error_code()) {
      case grpc::StatusCode::RESOURCE_EXHAUSTED: {
        const double retry = RetryAfter(ctx);
        if (retry < 0) return ResourceExhausted(m);
        if (retry_after_s != nullptr) *retry_after_s = retry;
        return Unavailable(m);
      }
      case grpc::StatusCode::UNAVAILABLE:
        return Unavailable(m);
      case grpc::StatusCode::NOT_FOUND:
        return NotFound(m);
      case grpc::StatusCode::INVALID_ARGUMENT:
        return InvalidArgument(m);
      case grpc::StatusCode::FAILED_PRECONDITION:
        return FailedPrecondition(m);
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        return DeadlineExceeded(fmt::format("{} (deadline {} s)", m, options_.deadline_s));
      case grpc::StatusCode::UNIMPLEMENTED:
        return Unimplemented(m);
      case grpc::StatusCode::PERMISSION_DENIED:
        return PermissionDenied(m);
      case grpc::StatusCode::UNAUTHENTICATED:
        return Unauthenticated(m);
      default:
        return Internal(m);
    }
  }

  GrpcClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

GrpcInferenceClient::GrpcInferenceClient(std::string target, GrpcClientOptions options)
    : target_(std::move(target)), impl_(std::make_unique<Impl>(target_, options)) {}

GrpcInferenceClient::~GrpcInferenceClient() = default;

StatusOr<bool> GrpcInferenceClient::Live() {
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  inference::ServerLiveResponse out;
  grpc::Status s = impl_->stub_->ServerLive(&ctx, inference::ServerLiveRequest(), &out);
  ECOMAP_RETURN_IF_ERROR(impl_->FromGrpc(target_, "ServerLive", s, ctx, nullptr));
  return out.live();
}

StatusOr<bool> GrpcInferenceClient::Ready() {
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  inference::ServerReadyResponse out;
  grpc::Status s = impl_->stub_->ServerReady(&ctx, inference::ServerReadyRequest(), &out);
  ECOMAP_RETURN_IF_ERROR(impl_->FromGrpc(target_, "ServerReady", s, ctx, nullptr));
  return out.ready();
}

StatusOr<ServerMetadata> GrpcInferenceClient::Metadata() {
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  inference::ServerMetadataResponse out;
  grpc::Status s = impl_->stub_->ServerMetadata(&ctx, inference::ServerMetadataRequest(), &out);
  ECOMAP_RETURN_IF_ERROR(impl_->FromGrpc(target_, "ServerMetadata", s, ctx, nullptr));
  ServerMetadata m;
  m.name = out.name();
  m.version = out.version();
  m.extensions.assign(out.extensions().begin(), out.extensions().end());
  return m;
}

StatusOr<bool> GrpcInferenceClient::ModelReady(const std::string& model, const std::string& version) {
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  inference::ModelReadyRequest in;
  in.set_name(model);
  in.set_version(version);
  inference::ModelReadyResponse out;
  grpc::Status s = impl_->stub_->ModelReady(&ctx, in, &out);
  ECOMAP_RETURN_IF_ERROR(impl_->FromGrpc(target_, "ModelReady", s, ctx, nullptr));
  return out.ready();
}

StatusOr<ModelMetadata> GrpcInferenceClient::ModelMetadataOf(const std::string& model,
                                                             const std::string& version) {
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  inference::ModelMetadataRequest in;
  in.set_name(model);
  in.set_version(version);
  inference::ModelMetadataResponse out;
  grpc::Status s = impl_->stub_->ModelMetadata(&ctx, in, &out);
  ECOMAP_RETURN_IF_ERROR(impl_->FromGrpc(target_, "ModelMetadata", s, ctx, nullptr));
  return oip::ModelMetadataFromProto(out);
}

StatusOr<InferResponse> GrpcInferenceClient::Infer(const InferRequest& request, double* retry_after_s) {
  StatusOr<inference::ModelInferRequest> in = oip::RequestToProto(request);
  if (!in.ok()) return in.status().WithContext(fmt::format("model '{}'", request.model));
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  inference::ModelInferResponse out;
  grpc::Status s = impl_->stub_->ModelInfer(&ctx, *in, &out);
  ECOMAP_RETURN_IF_ERROR(impl_->FromGrpc(target_, "ModelInfer", s, ctx, retry_after_s));
  StatusOr<InferResponse> r = oip::ResponseFromProto(out, oip::Limits{impl_->options_.max_message_bytes});
  if (!r.ok()) return r.status().WithContext(fmt::format("gRPC ModelInfer to {}", target_));
  return r;
}

}  // namespace ecomap::service
