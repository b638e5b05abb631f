// Tests of the Open Inference Protocol's gRPC transport: the message conversions, then
// GrpcServer and GrpcInferenceClient on 127.0.0.1 with a small real backend
// (service/grpc_test_backend.h), then a raw stub for what our client never sends.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "grpc_predict_v2.grpc.pb.h"
#include "service/grpc_client.h"
#include "service/grpc_convert.h"
#include "service/grpc_server.h"
#include "service/grpc_test_backend.h"

namespace ecomap::service {
namespace {

using engine::DataType;
using engine::HostTensor;
using ::testing::HasSubstr;

std::string BytesData(const std::vector<std::string>& elems) {
  std::string d;
  for (const std::string& e : elems) {
    const uint32_t n = static_cast<uint32_t>(e.size());
    const char b[4] = {static_cast<char>(n), static_cast<char>(n >> 8), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 24)};
    d.append(b, 4);
    d += e;
  }
  return d;
}

// One tensor of every datatype, each with values that exercise its range.
std::vector<HostTensor> EveryDatatype() {
  std::vector<HostTensor> v;
  v.push_back(HostTensor::FromValues<uint8_t>("b", DataType::kBool, {3}, {1, 0, 1}));
  v.push_back(HostTensor::FromValues<uint8_t>("u8", DataType::kUint8, {2}, {0, 255}));
  v.push_back(HostTensor::FromValues<uint16_t>("u16", DataType::kUint16, {2}, {0, 65535}));
  v.push_back(HostTensor::FromValues<uint32_t>("u32", DataType::kUint32, {2}, {7, 4294967295u}));
  v.push_back(HostTensor::FromValues<uint64_t>("u64", DataType::kUint64, {1}, {18446744073709551615ull}));
  v.push_back(HostTensor::FromValues<int8_t>("i8", DataType::kInt8, {2}, {-128, 127}));
  v.push_back(HostTensor::FromValues<int16_t>("i16", DataType::kInt16, {2}, {-32768, 32767}));
  v.push_back(HostTensor::FromValues<int32_t>("i32", DataType::kInt32, {2, 1}, {-5, 2147483647}));
  v.push_back(HostTensor::FromValues<int64_t>("i64", DataType::kInt64, {2}, {-9000000000LL, 3}));
  v.push_back(HostTensor::FromValues<float>("f32", DataType::kFp32, {2, 2}, {1.5f, -2.f, 0.f, 1e30f}));
  v.push_back(HostTensor::FromValues<double>("f64", DataType::kFp64, {1}, {3.141592653589793}));
  v.push_back(HostTensor{"s", DataType::kBytes, {3}, BytesData({"hello", "", std::string("a\0b", 3)})});
  return v;
}

void ExpectSameTensor(const HostTensor& a, const HostTensor& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.datatype, b.datatype) << a.name;
  EXPECT_EQ(a.shape, b.shape) << a.name;
  EXPECT_EQ(a.data, b.data) << a.name;
}

// ---- conversions, no network ----------------------------------------------------------------

TEST(GrpcConvert, TypedContentsRoundTripEveryDatatype) {
  for (const HostTensor& t : EveryDatatype()) {
    inference::InferTensorContents c;
    ASSERT_TRUE(oip::TensorToContents(t, &c).ok()) << t.name;
    StatusOr<HostTensor> back = oip::TensorFromContents(t.name, t.datatype, t.shape, c, {});
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ExpectSameTensor(t, *back);
  }
  inference::InferTensorContents c;
  c.add_bytes_contents("x");
  EXPECT_EQ(oip::TensorToContents(HostTensor::Zeros("h", DataType::kFp16, {2}), &c).code(),
            StatusCode::kInvalidArgument);
}

TEST(GrpcConvert, TypedContentsErrorsNameTheProblem) {
  inference::InferTensorContents c;
  c.add_int_contents(300);
  StatusOr<HostTensor> t = oip::TensorFromContents("q", DataType::kInt8, {1}, c, {});
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("300"));
  EXPECT_THAT(t.status().message(), HasSubstr("INT8"));

  inference::InferTensorContents w;
  w.add_int64_contents(1);
  t = oip::TensorFromContents("x", DataType::kFp32, {1}, w, {});
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("fp32_contents"));
  EXPECT_THAT(t.status().message(), HasSubstr("int64_contents"));

  inference::InferTensorContents f;
  for (int i = 0; i < 5; ++i) f.add_fp32_contents(i);
  t = oip::TensorFromContents("x", DataType::kFp32, {2, 3}, f, {});
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("[2,3] implies 6"));
  EXPECT_THAT(t.status().message(), HasSubstr("holds 5"));

  t = oip::TensorFromContents("x", DataType::kFp32, {-2}, f, {});
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("negative dimension -2"));

  t = oip::TensorFromContents("h", DataType::kFp16, {1}, f, {});
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("FP16"));

  inference::InferTensorContents u;
  u.add_uint_contents(70000);
  EXPECT_FALSE(oip::TensorFromContents("u", DataType::kUint16, {1}, u, {}).ok());

  // Over the size limit.
  inference::InferTensorContents big;
  for (int i = 0; i < 100; ++i) big.add_fp64_contents(i);
  t = oip::TensorFromContents("big", DataType::kFp64, {100}, big, oip::Limits{799});
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("over the limit of 799 bytes"));
}

inference::ModelInferRequest AffineRequest(const std::vector<float>& x) {
  inference::ModelInferRequest r;
  r.set_model_name("affine");
  auto* in = r.add_inputs();
  in->set_name("x");
  in->set_datatype("FP32");
  in->add_shape(static_cast<int64_t>(x.size()));
  for (float v : x) in->mutable_contents()->add_fp32_contents(v);
  return r;
}

TEST(GrpcConvert, RequestFromProtoReadsParametersAndRejectsMalformed) {
  inference::ModelInferRequest r = AffineRequest({1, 2});
  r.set_id("req-7");
  (*r.mutable_parameters())["top_k"].set_int64_param(3);
  (*r.mutable_parameters())["best_effort"].set_bool_param(true);
  (*r.mutable_parameters())["something_else"].set_string_param("ignored");
  r.add_outputs()->set_name("y");
  StatusOr<InferRequest> q = oip::RequestFromProto(r, {});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->id, "req-7");
  EXPECT_EQ(q->top_k, 3);
  EXPECT_TRUE(q->best_effort);
  EXPECT_EQ(q->outputs, std::vector<std::string>{"y"});

  auto expect_bad = [](const inference::ModelInferRequest& bad, const std::string& needle) {
    StatusOr<InferRequest> q = oip::RequestFromProto(bad, {});
    ASSERT_FALSE(q.ok()) << "accepted a request that should fail with '" << needle << "'";
    EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(q.status().message(), HasSubstr(needle));
  };
  inference::ModelInferRequest b = AffineRequest({1});
  (*b.mutable_parameters())["top_k"].set_string_param("5");
  expect_bad(b, "top_k");
  b = AffineRequest({1});
  (*b.mutable_parameters())["top_k"].set_int64_param(-1);
  expect_bad(b, "-1");
  b = AffineRequest({1});
  (*b.mutable_parameters())["best_effort"].set_int64_param(1);
  expect_bad(b, "best_effort");
  b = AffineRequest({1});
  b.mutable_inputs(0)->set_datatype("FP8");
  expect_bad(b, "FP8");
  b = AffineRequest({1});
  b.clear_model_name();
  expect_bad(b, "model_name");
  b = AffineRequest({1});
  b.clear_inputs();
  expect_bad(b, "no inputs");
  b = AffineRequest({1});
  *b.add_inputs() = b.inputs(0);
  expect_bad(b, "appears twice");
  b = AffineRequest({1});
  b.add_raw_input_contents(std::string(4, '\0'));
  expect_bad(b, "typed contents");  // both forms
  b = AffineRequest({1});
  b.mutable_inputs(0)->clear_contents();
  b.add_raw_input_contents(std::string(4, '\0'));
  b.add_raw_input_contents(std::string(4, '\0'));
  expect_bad(b, "1 inputs but 2 raw_input_contents");
  b = AffineRequest({1});
  b.mutable_inputs(0)->clear_contents();
  b.add_raw_input_contents(std::string(6, '\0'));
  expect_bad(b, "got 6");
  b = AffineRequest({1});
  b.mutable_inputs(0)->set_datatype("BYTES");
  b.mutable_inputs(0)->clear_contents();
  b.add_raw_input_contents(std::string("\x09\0\0\0ab", 6));
  expect_bad(b, "declares 9 bytes");
  b = AffineRequest({1});
  b.add_outputs()->set_name("y");
  b.add_outputs()->set_name("y");
  expect_bad(b, "requested twice");
}

TEST(GrpcConvert, ResponseBothFormsRoundTrip) {
  InferResponse r;
  r.model = "echo";
  r.version = "v1";
  r.id = "abc";
  r.latency_ms = 3.5;
  r.outputs = EveryDatatype();
  for (bool raw : {true, false}) {
    StatusOr<inference::ModelInferResponse> wire = oip::ResponseToProto(r, raw);
    ASSERT_TRUE(wire.ok()) << wire.status().ToString();
    EXPECT_EQ(wire->raw_output_contents_size(), raw ? static_cast<int>(r.outputs.size()) : 0);
    StatusOr<InferResponse> back = oip::ResponseFromProto(*wire, {});
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->id, "abc");
    EXPECT_DOUBLE_EQ(back->latency_ms, 3.5);
    ASSERT_EQ(back->outputs.size(), r.outputs.size());
    for (size_t i = 0; i < r.outputs.size(); ++i) ExpectSameTensor(r.outputs[i], back->outputs[i]);
  }
  // FP16 has no typed field: the whole response goes raw.
  r.outputs.push_back(HostTensor::Zeros("h", DataType::kFp16, {2}));
  StatusOr<inference::ModelInferResponse> wire = oip::ResponseToProto(r, false);
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(wire->raw_output_contents_size(), static_cast<int>(r.outputs.size()));
  // A backend's invalid output is the server's fault.
  r.outputs.push_back(HostTensor{"bad", DataType::kFp32, {2}, "abc"});
  EXPECT_EQ(oip::ResponseToProto(r, true).status().code(), StatusCode::kInternal);
}

// ---- server and client on 127.0.0.1 ---------------------------------------------------------

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start("127.0.0.1", 0).ok());
    ASSERT_GT(server_.port(), 0);
    client_ = std::make_unique<GrpcInferenceClient>(server_.address(), GrpcClientOptions{5.0});
    stub_ = inference::GRPCInferenceService::NewStub(
        grpc::CreateChannel(server_.address(), grpc::InsecureChannelCredentials()));
  }

  grpc::Status RawInfer(const inference::ModelInferRequest& req, inference::ModelInferResponse* out,
                        grpc::ClientContext* ctx = nullptr) {
    grpc::ClientContext local;
    if (ctx == nullptr) ctx = &local;
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return stub_->ModelInfer(ctx, req, out);
  }

  testing::TestBackend backend_;
  GrpcServer server_{&backend_};
  std::unique_ptr<GrpcInferenceClient> client_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

TEST_F(GrpcServerTest, HealthAndMetadata) {
  EXPECT_EQ(server_.address(), "127.0.0.1:" + std::to_string(server_.port()));
  StatusOr<bool> live = client_->Live();
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_TRUE(*live);
  StatusOr<bool> ready = client_->Ready();
  ASSERT_TRUE(ready.ok());
  EXPECT_TRUE(*ready);
  StatusOr<ServerMetadata> meta = client_->Metadata();
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->name, "ecomap-test");
  EXPECT_EQ(meta->version, "0.1.0");
  EXPECT_EQ(meta->extensions, std::vector<std::string>{"binary_tensor_data"});

  StatusOr<bool> mr = client_->ModelReady("affine");
  ASSERT_TRUE(mr.ok());
  EXPECT_TRUE(*mr);
  mr = client_->ModelReady("busy");
  ASSERT_TRUE(mr.ok());
  EXPECT_FALSE(*mr);
  mr = client_->ModelReady("nope");
  EXPECT_EQ(mr.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(mr.status().message(), HasSubstr("unknown model 'nope'"));
  EXPECT_EQ(client_->ModelReady("").status().code(), StatusCode::kInvalidArgument);

  StatusOr<ModelMetadata> m = client_->ModelMetadataOf("affine");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->name, "affine");
  EXPECT_EQ(m->versions, std::vector<std::string>{"v1"});
  EXPECT_EQ(m->platform, "ecomap-test");
  ASSERT_EQ(m->inputs.size(), 1u);
  EXPECT_EQ(m->inputs[0].name, "x");
  EXPECT_EQ(m->inputs[0].datatype, DataType::kFp32);
  EXPECT_EQ(m->inputs[0].shape, std::vector<int64_t>{-1});
  ASSERT_EQ(m->outputs.size(), 2u);
  EXPECT_EQ(m->outputs[1].datatype, DataType::kInt64);
  StatusOr<ModelMetadata> unknown = client_->ModelMetadataOf("nope");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("ModelMetadata"));
}

TEST_F(GrpcServerTest, InferAffineComputesAndPassesParameters) {
  InferRequest req;
  req.model = "affine";
  req.id = "r1";
  req.top_k = 2;
  req.inputs.push_back(HostTensor::FromValues<float>("x", DataType::kFp32, {2, 2}, {1, -1, 4, 0.5}));
  StatusOr<InferResponse> r = client_->Infer(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model, "affine");
  EXPECT_EQ(r->version, "v1");
  EXPECT_EQ(r->id, "r1");
  EXPECT_DOUBLE_EQ(r->latency_ms, 0.25);
  ASSERT_EQ(r->outputs.size(), 2u);
  EXPECT_EQ(r->outputs[0].name, "y");
  EXPECT_EQ(r->outputs[0].shape, (std::vector<int64_t>{2, 2}));
  std::span<const float> y = r->outputs[0].Span<float>();
  EXPECT_THAT(std::vector<float>(y.begin(), y.end()), ::testing::ElementsAre(3, -1, 9, 2));
  std::span<const int64_t> k = r->outputs[1].Span<int64_t>();
  EXPECT_THAT(std::vector<int64_t>(k.begin(), k.end()), ::testing::ElementsAre(2, 0));
  EXPECT_EQ(backend_.last().top_k, 2);
  EXPECT_FALSE(backend_.last().best_effort);

  // Requested outputs reach the backend.
  req.outputs = {"top_k"};
  r = client_->Infer(req);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(r->outputs[0].name, "top_k");
  req.outputs = {"z"};
  r = client_->Infer(req);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("no output 'z'"));

  // best_effort reaches the backend.
  InferRequest h;
  h.model = "hopeless";
  h.inputs.push_back(HostTensor{"in", DataType::kBytes, {1}, BytesData({"hi"})});
  StatusOr<InferResponse> hr = client_->Infer(h);
  EXPECT_EQ(hr.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(hr.status().message(), HasSubstr("best_effort"));
  h.best_effort = true;
  hr = client_->Infer(h);
  ASSERT_TRUE(hr.ok()) << hr.status().ToString();
  EXPECT_TRUE(backend_.last().best_effort);
}

TEST_F(GrpcServerTest, EchoEveryDatatypeRawAndTyped) {
  InferRequest req;
  req.model = "echo";
  req.inputs = EveryDatatype();
  req.inputs.push_back(HostTensor::FromValues<uint16_t>("h", DataType::kFp16, {2}, {0x3c00, 0xc000}));
  StatusOr<InferResponse> r = client_->Infer(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->outputs.size(), req.inputs.size());
  for (size_t i = 0; i < req.inputs.size(); ++i) ExpectSameTensor(req.inputs[i], r->outputs[i]);
  ASSERT_EQ(backend_.last().inputs.size(), req.inputs.size());
  for (size_t i = 0; i < req.inputs.size(); ++i) {
    ExpectSameTensor(req.inputs[i], backend_.last().inputs[i]);
  }

  // The same tensors as typed contents in, and typed contents out on request.
  inference::ModelInferRequest wire;
  wire.set_model_name("echo");
  for (const HostTensor& t : EveryDatatype()) {
    auto* in = wire.add_inputs();
    in->set_name(t.name);
    in->set_datatype(engine::DataTypeName(t.datatype));
    for (int64_t d : t.shape) in->add_shape(d);
    ASSERT_TRUE(oip::TensorToContents(t, in->mutable_contents()).ok());
  }
  (*wire.mutable_parameters())["binary_data_output"].set_bool_param(false);
  inference::ModelInferResponse out;
  grpc::Status s = RawInfer(wire, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.raw_output_contents_size(), 0);
  ASSERT_EQ(out.outputs_size(), static_cast<int>(EveryDatatype().size()));
  EXPECT_EQ(out.outputs(9).datatype(), "FP32");
  EXPECT_THAT(out.outputs(9).contents().fp32_contents(), ::testing::ElementsAre(1.5f, -2.f, 0.f, 1e30f));
  EXPECT_THAT(out.outputs(11).contents().bytes_contents(),
              ::testing::ElementsAre("hello", "", std::string("a\0b", 3)));
  // By default the outputs come raw, as Triton sends them.
  wire.mutable_parameters()->clear();
  s = RawInfer(wire, &out);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(out.raw_output_contents_size(), out.outputs_size());
  EXPECT_FALSE(oip::HasContents(out.outputs(0).contents()));
}

TEST_F(GrpcServerTest, ErrorsMapToGrpcCodes) {
  InferRequest req;
  req.model = "busy";
  req.inputs.push_back(HostTensor{"in", DataType::kBytes, {1}, BytesData({"x"})});
  double retry = 0;
  StatusOr<InferResponse> r = client_->Infer(req, &retry);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_DOUBLE_EQ(retry, 2.5);
  EXPECT_THAT(r.status().message(), HasSubstr("retry after 2.5 s"));

  inference::ModelInferRequest wire = AffineRequest({1});
  wire.set_model_name("busy");
  inference::ModelInferResponse out;
  grpc::ClientContext ctx;
  grpc::Status s = RawInfer(wire, &out, &ctx);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  auto trailer = ctx.GetServerTrailingMetadata().find("retry-after-s");
  ASSERT_NE(trailer, ctx.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(trailer->second.data(), trailer->second.size()), "2.5");

  wire.set_model_name("nope");
  EXPECT_EQ(RawInfer(wire, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  req.model = "nope";
  EXPECT_EQ(client_->Infer(req).status().code(), StatusCode::kNotFound);
  wire.set_model_name("hopeless");
  wire.mutable_inputs(0)->set_name("in");
  EXPECT_EQ(RawInfer(wire, &out).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // The backend's own InvalidArgument (affine takes FP32 'x').
  wire = AffineRequest({1});
  wire.mutable_inputs(0)->set_name("w");
  s = RawInfer(wire, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("'x'"));
}

TEST_F(GrpcServerTest, MalformedRequestsAreInvalidArgument) {
  struct Case {
    std::string what;
    std::function<void(inference::ModelInferRequest*)> spoil;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {"unknown datatype", [](auto* r) { r->mutable_inputs(0)->set_datatype("FLOAT"); }, "'FLOAT'"},
      {"shape/contents mismatch", [](auto* r) { r->mutable_inputs(0)->set_shape(0, 3); },
       "[3] implies 3 FP32 elements"},
      {"raw size",
       [](auto* r) {
         r->mutable_inputs(0)->clear_contents();
         r->add_raw_input_contents(std::string(7, '\0'));
       },
       "need 8 bytes of data, got 7"},
      {"wrong field",
       [](auto* r) {
         r->mutable_inputs(0)->clear_contents();
         r->mutable_inputs(0)->mutable_contents()->add_fp64_contents(1);
         r->mutable_inputs(0)->mutable_contents()->add_fp64_contents(2);
       },
       "fp64_contents"},
      {"no data", [](auto* r) { r->mutable_inputs(0)->clear_contents(); }, "holds 0"},
      {"negative dim", [](auto* r) { r->mutable_inputs(0)->set_shape(0, -2); }, "negative dimension"},
      {"bad top_k", [](auto* r) { (*r->mutable_parameters())["top_k"].set_bool_param(true); }, "top_k"},
      {"bad binary_data_output",
       [](auto* r) { (*r->mutable_parameters())["binary_data_output"].set_int64_param(0); },
       "binary_data_output"},
  };
  for (const Case& c : cases) {
    inference::ModelInferRequest wire = AffineRequest({1, 2});
    c.spoil(&wire);
    inference::ModelInferResponse out;
    grpc::Status s = RawInfer(wire, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.what;
    EXPECT_THAT(s.error_message(), HasSubstr(c.needle)) << c.what;
    EXPECT_THAT(s.error_message(), HasSubstr("affine")) << c.what;
  }
  // Our client refuses an invalid tensor before sending it.
  InferRequest req;
  req.model = "affine";
  req.inputs.push_back(HostTensor{"x", DataType::kFp32, {2}, "abc"});
  StatusOr<InferResponse> r = client_->Infer(req);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("got 3"));
}

TEST_F(GrpcServerTest, DeadlineExceeded) {
  GrpcInferenceClient hurried(server_.address(), GrpcClientOptions{0.3});
  InferRequest req;
  req.model = "slow";
  req.inputs.push_back(HostTensor{"in", DataType::kBytes, {1}, BytesData({"x"})});
  const auto t0 = std::chrono::steady_clock::now();
  StatusOr<InferResponse> r = hurried.Infer(req);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("deadline 0.3 s"));
  EXPECT_LT(s, 1.2);
}

TEST_F(GrpcServerTest, ConcurrentClients) {
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        InferRequest req;
        req.model = "affine";
        const float x = static_cast<float>(t * 100 + i);
        req.inputs.push_back(HostTensor::FromValues<float>("x", DataType::kFp32, {1}, {x}));
        StatusOr<InferResponse> r = client_->Infer(req);
        if (r.ok() && r->outputs.size() == 1 && r->outputs[0].Span<float>()[0] == 2 * x + 1) ++good;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(good.load(), 6 * 15);
}

TEST(GrpcServer, MessageSizeIsBounded) {
  testing::TestBackend backend;
  GrpcServer server(&backend, GrpcServerOptions{.max_message_bytes = 1 << 20});
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  GrpcInferenceClient client(server.address(), GrpcClientOptions{5.0});
  InferRequest req;
  req.model = "echo";
  req.inputs.push_back(HostTensor::Zeros("x", DataType::kFp32, {512 * 1024}));  // 2 MiB
  StatusOr<InferResponse> r = client.Infer(req);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("larger than max"));
  req.inputs[0] = HostTensor::Zeros("x", DataType::kFp32, {1024});
  EXPECT_TRUE(client.Infer(req).ok());
}

TEST(GrpcServer, StartErrorsAndStop) {
  testing::TestBackend backend;
  GrpcServer a(&backend);
  ASSERT_TRUE(a.Start("127.0.0.1", 0).ok());
  EXPECT_EQ(a.Start("127.0.0.1", 0).code(), StatusCode::kFailedPrecondition);
  GrpcServer b(&backend);
  Status s = b.Start("127.0.0.1", a.port());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("127.0.0.1:" + std::to_string(a.port())));
  EXPECT_EQ(b.Start("127.0.0.1", 70000).code(), StatusCode::kInvalidArgument);
  const int port = a.port();
  a.Stop();
  a.Stop();  // idempotent
  // Nothing listens any more: the client says Unavailable, within its deadline.
  GrpcInferenceClient client("127.0.0.1:" + std::to_string(port), GrpcClientOptions{1.0});
  StatusOr<bool> live = client.Live();
  EXPECT_FALSE(live.ok());
  EXPECT_TRUE(live.status().code() == StatusCode::kUnavailable ||
              live.status().code() == StatusCode::kDeadlineExceeded)
      << live.status().ToString();
}

}  // namespace
}  // namespace ecomap::service
