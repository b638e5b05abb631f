// The KServe v2 REST codec without a server: well-formed requests in both encodings, responses,
// and malformed input on purpose (each must be refused with a message naming what is wrong).
#include "service/kserve_rest.h"
#include "service/topk.h"

#include <gtest/gtest.h>

#include <string>

namespace ecomap::service::kserve {
namespace {

using engine::DataType;
using engine::HostTensor;

StatusOr<ParsedInfer> Parse(const std::string& body, std::optional<size_t> len = std::nullopt) {
  return ParseInferRequest("cam", "", body, len);
}

TEST(KserveRest, ParsesJsonTensorsFlatAndNested) {
  auto p = Parse(R"({"id": "r1", "parameters": {"top_k": 3, "best_effort": true},
      "inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 2], "data": [[1, 2], [3, 4.5]]},
                 {"name": "ids", "datatype": "INT64", "shape": [3], "data": [1, -2, 9007199254740993]},
                 {"name": "s", "datatype": "BYTES", "shape": [2], "data": ["ab", ""]}],
      "outputs": [{"name": "output", "parameters": {"binary_data": true}}]})");
  ASSERT_TRUE(p.ok()) << p.status().message();
  const InferRequest& r = p->request;
  EXPECT_EQ(r.model, "cam");
  EXPECT_EQ(r.id, "r1");
  EXPECT_EQ(r.top_k, 3);
  EXPECT_TRUE(r.best_effort);
  ASSERT_EQ(r.inputs.size(), 3u);
  auto f = r.inputs[0].Span<float>();
  ASSERT_EQ(f.size(), 4u);
  EXPECT_FLOAT_EQ(f[3], 4.5f);
  EXPECT_EQ(r.inputs[1].Span<int64_t>()[2], 9007199254740993LL);
  EXPECT_TRUE(r.inputs[2].Validate().ok());
  EXPECT_EQ(r.inputs[2].data, std::string("\x02\x00\x00\x00" "ab" "\x00\x00\x00\x00", 10));
  EXPECT_EQ(r.outputs, std::vector<std::string>{"output"});
  EXPECT_TRUE(p->BinaryOutput("output"));
  EXPECT_FALSE(p->BinaryOutput("other"));
}

TEST(KserveRest, BinaryRequestRoundTripsThroughTheClientEncoder) {
  InferRequest req;
  req.model = "cam";
  req.id = "7";
  req.top_k = 2;
  req.inputs.push_back(HostTensor::FromValues<float>("input", DataType::kFp32, {1, 3}, {0.5f, -1.f, 3.25f}));
  req.inputs.push_back(HostTensor::FromValues<int64_t>("ids", DataType::kInt64, {2}, {4, 5}));
  for (bool binary : {true, false}) {
    HttpBody b = EncodeInferRequest(req, binary, binary);
    EXPECT_EQ(b.json_length.has_value(), binary);
    auto p = Parse(b.body, b.json_length);
    ASSERT_TRUE(p.ok()) << p.status().message();
    ASSERT_EQ(p->request.inputs.size(), 2u);
    EXPECT_EQ(p->request.inputs[0].data, req.inputs[0].data);
    EXPECT_EQ(p->request.inputs[1].data, req.inputs[1].data);
    EXPECT_EQ(p->request.top_k, 2);
    EXPECT_EQ(p->binary_output_default, binary);
  }
}

// The server reads a body straight into its JSON and binary parts: the same requests parse the
// same, a single input takes the binary part whole, and wrong sizes are still refused.
TEST(KserveRest, SplitBodyParsesLikeTheWholeOne) {
  InferRequest req;
  req.model = "cam";
  req.inputs.push_back(HostTensor::FromValues<float>("input", DataType::kFp32, {1, 3}, {0.5f, -1.f, 3.25f}));
  HttpBody one = EncodeInferRequest(req, true, true);
  ASSERT_TRUE(one.json_length.has_value());
  EXPECT_EQ(one.body.size(), *one.json_length + 12);
  EXPECT_EQ(one.content_type, "application/octet-stream");
  auto p = ParseInferRequest("cam", "", std::string_view(one.body).substr(0, *one.json_length),
                             one.body.substr(*one.json_length));
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->request.inputs.size(), 1u);
  EXPECT_EQ(p->request.inputs[0].data, req.inputs[0].data);
  EXPECT_TRUE(p->binary_output_default);

  req.inputs.push_back(HostTensor::FromValues<int64_t>("ids", DataType::kInt64, {2}, {4, 5}));
  HttpBody two = EncodeInferRequest(req, true, false);
  auto q = ParseInferRequest("cam", "", std::string_view(two.body).substr(0, *two.json_length),
                             two.body.substr(*two.json_length));
  ASSERT_TRUE(q.ok()) << q.status().message();
  ASSERT_EQ(q->request.inputs.size(), 2u);
  EXPECT_EQ(q->request.inputs[0].data, req.inputs[0].data);
  EXPECT_EQ(q->request.inputs[1].data, req.inputs[1].data);

  // A byte short, a byte extra, JSON only.
  const std::string text = two.body.substr(0, *two.json_length), bin = two.body.substr(*two.json_length);
  EXPECT_EQ(ParseInferRequest("cam", "", text, bin.substr(1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseInferRequest("cam", "", text, bin + "x").status().code(), StatusCode::kInvalidArgument);
  HttpBody js = EncodeInferRequest(req, false, false);
  auto r = ParseInferRequest("cam", "", js.body, std::string());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->request.inputs[1].data, req.inputs[1].data);
}

TEST(KserveRest, ResponseRoundTripsJsonAndBinary) {
  InferResponse resp;
  resp.model = "cam";
  resp.version = "resnet18";
  resp.id = "9";
  resp.latency_ms = 12.5;
  resp.outputs.push_back(HostTensor::FromValues<float>("output", DataType::kFp32, {1, 4}, {1, 2, 3, 4}));
  resp.outputs.push_back(HostTensor::FromValues<int64_t>("topk_classes", DataType::kInt64, {1, 2}, {3, 2}));
  ParsedInfer how;
  how.binary_by_output["output"] = true;
  HttpBody b = EncodeInferResponse(resp, how);
  ASSERT_TRUE(b.json_length.has_value());
  EXPECT_EQ(b.body.size(), *b.json_length + 16);
  EXPECT_EQ(b.content_type, "application/octet-stream");
  auto r = ParseInferResponse(b.body, b.json_length);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->version, "resnet18");
  EXPECT_EQ(r->id, "9");
  EXPECT_DOUBLE_EQ(r->latency_ms, 12.5);
  ASSERT_EQ(r->outputs.size(), 2u);
  EXPECT_EQ(r->outputs[0].data, resp.outputs[0].data);
  EXPECT_EQ(r->outputs[1].data, resp.outputs[1].data);
  // All JSON: no header length, data inline.
  HttpBody j = EncodeInferResponse(resp, ParsedInfer{});
  EXPECT_FALSE(j.json_length.has_value());
  EXPECT_NE(j.body.find("\"data\":[1.0,2.0,3.0,4.0]"), std::string::npos) << j.body;
}

TEST(KserveRest, MalformedRequestsAreRefusedWithTheReason) {
  struct Case {
    const char* body;
    const char* says;  // a piece of the expected message
  };
  const Case cases[] = {
      {"{not json", "not valid JSON"},
      {"[1,2]", "must be a JSON object"},
      {R"({})", "\"inputs\""},
      {R"({"inputs": []})", "non-empty"},
      {R"({"inputs": [{"datatype": "FP32", "shape": [1], "data": [1]}]})", "\"name\""},
      {R"({"inputs": [{"name": "x", "datatype": "FP33", "shape": [1], "data": [1]}]})", "FP33"},
      {R"({"inputs": [{"name": "x", "shape": [1], "data": [1]}]})", "\"datatype\""},
      {R"({"inputs": [{"name": "x", "datatype": "FP32", "data": [1]}]})", "\"shape\""},
      {R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [-1], "data": [1]}]})", "dimension -1"},
      {R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [3], "data": [1, 2]}]})", "has 2 elements"},
      {R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": ["a"]}]})", "not a number"},
      {R"({"inputs": [{"name": "x", "datatype": "INT8", "shape": [1], "data": [300]}]})", "range"},
      {R"({"inputs": [{"name": "x", "datatype": "UINT8", "shape": [1], "data": [-1]}]})", "range"},
      {R"({"inputs": [{"name": "x", "datatype": "INT64", "shape": [1], "data": [1.5]}]})", "integer"},
      {R"({"inputs": [{"name": "x", "datatype": "FP16", "shape": [1], "data": [1]}]})", "binary"},
      {R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1]}]})", "binary_data_size"},
      {R"({"parameters": {"top_k": -2}, "inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}]})",
       "top_k"},
      {R"({"parameters": {"best_effort": "yes"}, "inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}]})",
       "best_effort"},
      {R"({"parameters": 3, "inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}]})", "object"},
      {R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}], "outputs": [{}]})", "\"name\""},
  };
  for (const Case& c : cases) {
    auto p = Parse(c.body);
    ASSERT_FALSE(p.ok()) << c.body;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_NE(p.status().message().find(c.says), std::string::npos) << c.body << " -> " << p.status().message();
  }
}

TEST(KserveRest, TruncatedOrMislabelledBinaryIsRefused) {
  InferRequest req;
  req.inputs.push_back(HostTensor::FromValues<float>("input", DataType::kFp32, {4}, {1, 2, 3, 4}));
  HttpBody b = EncodeInferRequest(req, true, false);
  ASSERT_TRUE(b.json_length.has_value());
  // Truncated: the last 3 bytes missing.
  auto t = Parse(b.body.substr(0, b.body.size() - 3), b.json_length);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("runs past the end"), std::string::npos) << t.status().message();
  // Extra bytes nobody claims.
  auto x = Parse(b.body + "zz", b.json_length);
  ASSERT_FALSE(x.ok());
  EXPECT_NE(x.status().message().find("no input claims them"), std::string::npos) << x.status().message();
  // Wrong header length: the JSON is cut.
  auto h = Parse(b.body, *b.json_length - 1);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("not valid JSON"), std::string::npos);
  // binary_data_size that does not match the shape.
  std::string json = R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [2], "parameters": {"binary_data_size": 4}}]})";
  auto m = Parse(json + "abcd", json.size());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("'x'"), std::string::npos) << m.status().message();
  // The header itself.
  EXPECT_FALSE(ParseHeaderLength("12a", 100).ok());
  EXPECT_FALSE(ParseHeaderLength("-1", 100).ok());
  EXPECT_FALSE(ParseHeaderLength("101", 100).ok());
  EXPECT_EQ(*ParseHeaderLength("100", 100).value(), 100u);
  EXPECT_FALSE(ParseHeaderLength("", 100).value().has_value());
}

TEST(KserveRest, StatusCodesAndMetadata) {
  EXPECT_EQ(RestStatusFor(NotFound("x")), 404);
  EXPECT_EQ(RestStatusFor(InvalidArgument("x")), 400);
  EXPECT_EQ(RestStatusFor(Unavailable("x")), 503);
  EXPECT_EQ(RestStatusFor(FailedPrecondition("x")), 409);
  EXPECT_EQ(RestStatusFor(DeadlineExceeded("x")), 504);
  EXPECT_EQ(RestStatusFor(Internal("x")), 500);
  EXPECT_EQ(ErrorBody(NotFound("no model 'q'")), R"({"error":"no model 'q'"})");
  EXPECT_EQ(RetryAfterHeader(0.01), "1");
  EXPECT_EQ(RetryAfterHeader(2.2), "3");
  ModelMetadata m{"cam", {"resnet18", "resnet50"}, "libtorch",
                  {{"input", DataType::kFp32, {1, 3, 224, 224}}}, {{"output", DataType::kFp32, {1, 1000}}}};
  auto back = ParseModelMetadata(ModelMetadataJson(m));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->versions, m.versions);
  EXPECT_EQ(back->inputs[0].shape, m.inputs[0].shape);
  EXPECT_EQ(back->outputs[0].name, "output");
}

TEST(KserveRest, TopKClassesAndScores) {
  HostTensor logits = HostTensor::FromValues<float>("output", DataType::kFp32, {1, 5}, {0.f, 3.f, 1.f, 3.f, -2.f});
  auto t = TopKOutputs(logits, 3);
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto cls = (*t)[0].Span<int64_t>();
  auto sc = (*t)[1].Span<float>();
  EXPECT_EQ(std::vector<int64_t>(cls.begin(), cls.end()), (std::vector<int64_t>{1, 3, 2}));
  EXPECT_NEAR(sc[0], sc[1], 1e-6);
  EXPECT_GT(sc[1], sc[2]);
  EXPECT_LT(sc[0], 0.5f);
  EXPECT_EQ((*t)[0].shape, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(TopKOutputs(logits, 99)->at(1).shape, (std::vector<int64_t>{1, 5}));
  EXPECT_FALSE(TopKOutputs(logits, 0).ok());
  EXPECT_FALSE(TopKOutputs(HostTensor::Zeros("o", DataType::kInt64, {1, 5}), 2).ok());
  EXPECT_FALSE(TopKOutputs(HostTensor::Zeros("o", DataType::kFp32, {2, 5}), 2).ok());
}

}  // namespace
}  // namespace ecomap::service::kserve
