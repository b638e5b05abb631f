#include "service/grpc_server.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <utility>

#include "grpc_predict_v2.grpc.pb.h"
#include "service/grpc_convert.h"

namespace ecomap::service {
namespace {

// Trailing metadata key of an Unavailable refusal: seconds after which a retry may succeed.
constexpr char kRetryAfterKey[] = "retry-after-s";

grpc::StatusCode ToGrpcCode(StatusCode c) {
  switch (c) {
    case StatusCode::kOk:
      return grpc::StatusCode::OK;
    case StatusCode::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case StatusCode::kUnavailable:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case StatusCode::kDeadlineExceeded:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case StatusCode::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case StatusCode::kUnauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
    case StatusCode::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case StatusCode::kUnimplemented:
      return grpc::StatusCode::UNIMPLEMENTED;
    case StatusCode::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case StatusCode::kDataLoss:
      return grpc::StatusCode::DATA_LOSS;
    case StatusCode::kInternal:
      return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

grpc::Status ToGrpc(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(ToGrpcCode(s.code()), s.message());
}

class Service final : public inference::GRPCInferenceService::Service {
 public:
  Service(InferenceBackend* backend, oip::Limits limits) : backend_(backend), limits_(limits) {}

  grpc::Status ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                          inference::ServerLiveResponse* out) override {
    out->set_live(backend_->Live());
    return grpc::Status::OK;
  }

  grpc::Status ServerReady(grpc::ServerContext*, const inference::ServerReadyRequest*,
                           inference::ServerReadyResponse* out) override {
    out->set_ready(backend_->Ready());
    return grpc::Status::OK;
  }

  grpc::Status ModelReady(grpc::ServerContext*, const inference::ModelReadyRequest* in,
                          inference::ModelReadyResponse* out) override {
    if (in->name().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "ModelReady: name is empty");
    }
    StatusOr<bool> r = backend_->ModelReady(in->name());
    if (!r.ok()) return ToGrpc(r.status());
    out->set_ready(*r);
    return grpc::Status::OK;
  }

  grpc::Status ServerMetadata(grpc::ServerContext*, const inference::ServerMetadataRequest*,
                              inference::ServerMetadataResponse* out) override {
    const service::ServerMetadata m = backend_->Metadata();
    out->set_name(m.name);
    out->set_version(m.version);
    for (const std::string& e : m.extensions) out->add_extensions(e);
    return grpc::Status::OK;
  }

  grpc::Status ModelMetadata(grpc::ServerContext*, const inference::ModelMetadataRequest* in,
                             inference::ModelMetadataResponse* out) override {
    if (in->name().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "ModelMetadata: name is empty");
    }
    StatusOr<service::ModelMetadata> m = backend_->ModelMetadataOf(in->name());
    if (!m.ok()) return ToGrpc(m.status());
    oip::ModelMetadataToProto(*m, out);
    return grpc::Status::OK;
  }

  grpc::Status ModelInfer(grpc::ServerContext* ctx, const inference::ModelInferRequest* in,
                          inference::ModelInferResponse* out) override {
    StatusOr<InferRequest> req = oip::RequestFromProto(*in, limits_);
    if (!req.ok()) return ToGrpc(req.status());
    StatusOr<bool> raw = oip::WantsRawOutput(*in);
    if (!raw.ok()) return ToGrpc(raw.status());
    double retry_after_s = 0;
    StatusOr<InferResponse> r = backend_->Infer(std::move(*req), &retry_after_s);
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kUnavailable) {
        // The same hint as REST's Retry-After: in the message for people, in the trailing
        // metadata for programs.
        const double s = std::isfinite(retry_after_s) && retry_after_s > 0 ? retry_after_s : 1.0;
        ctx->AddTrailingMetadata(kRetryAfterKey, fmt::format("{:.3g}", s));
        return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            fmt::format("{}; retry after {:.3g} s", r.status().message(), s));
      }
      return ToGrpc(r.status());
    }
    StatusOr<inference::ModelInferResponse> wire = oip::ResponseToProto(*r, *raw);
    if (!wire.ok()) return ToGrpc(wire.status());
    if (wire->ByteSizeLong() > limits_.max_tensor_bytes) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          fmt::format("model '{}': the response takes {} bytes, over the limit of "
                                      "{} bytes",
                                      in->model_name(), wire->ByteSizeLong(), limits_.max_tensor_bytes));
    }
    *out = std::move(*wire);
    return grpc::Status::OK;
  }

 private:
  InferenceBackend* backend_;
  oip::Limits limits_;
};

}  // namespace

class GrpcServer::Impl {
 public:
  Impl(InferenceBackend* backend, GrpcServerOptions options)
      : options_(options), service_(backend, oip::Limits{options.max_message_bytes}) {}

  Status Start(const std::string& host, int port) {
    if (server_) return FailedPrecondition(fmt::format("gRPC server already listens on {}", address_));
    if (port < 0 || port > 65535) {
      return InvalidArgument(fmt::format("gRPC port {} is outside 0..65535", port));
    }
    std::string h = host.empty() ? "127.0.0.1" : host;
    if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";
    const std::string requested = fmt::format("{}:{}", h, port);
    grpc::ServerBuilder builder;
    int selected = 0;
    builder.AddListeningPort(requested, grpc::InsecureServerCredentials(), &selected);
    builder.RegisterService(&service_);
    // gRPC shares ports (SO_REUSEPORT) by default; a second daemon must fail instead.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    const int max_bytes = static_cast<int>(std::min<size_t>(options_.max_message_bytes, INT32_MAX));
    builder.SetMaxReceiveMessageSize(max_bytes);
    builder.SetMaxSendMessageSize(max_bytes);
    grpc::ResourceQuota quota("ecomap-grpc");
    quota.SetMaxThreads(std::max(2, options_.max_threads));
    builder.SetResourceQuota(quota);
    server_ = builder.BuildAndStart();
    if (!server_ || selected == 0) {
      server_.reset();
      return Unavailable(
          fmt::format("gRPC server cannot listen on {} (address in use, or not "
                      "an address of this machine?)",
                      requested));
    }
    port_ = selected;
    address_ = fmt::format("{}:{}", h, selected);
    return Status::Ok();
  }

  void Stop() {
    if (!server_) return;
    const auto grace = std::chrono::milliseconds(static_cast<int64_t>(options_.shutdown_grace_s * 1000));
    server_->Shutdown(std::chrono::system_clock::now() + grace);
    server_->Wait();
    server_.reset();
  }

  int port() const { return port_; }
  const std::string& address() const { return address_; }

 private:
  GrpcServerOptions options_;
  Service service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string address_;
};

GrpcServer::GrpcServer(InferenceBackend* backend, GrpcServerOptions options)
    : impl_(std::make_unique<Impl>(backend, options)) {}

GrpcServer::~GrpcServer() { Stop(); }

Status GrpcServer::Start(const std::string& host, int port) { return impl_->Start(host, port); }
int GrpcServer::port() const { return impl_->port(); }
std::string GrpcServer::address() const { return impl_->address(); }
void GrpcServer::Stop() { impl_->Stop(); }

}  // namespace ecomap::service
