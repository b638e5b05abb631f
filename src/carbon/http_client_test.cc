#include "carbon/http_client.h"

#include <gtest/gtest.h>

#include "carbon/live_test_server.h"

namespace ecomap::carbon {
namespace {

using std::chrono::milliseconds;
using testing::RecordedServer;
using testing::Reply;

// Options for tests: short timeouts, and a sleep that records instead of waiting.
struct Fixture {
  std::vector<Duration> waits;
  HttpOptions Options(int attempts = 3) {
    HttpOptions o;
    o.connect_timeout = milliseconds(1000);
    o.total_timeout = milliseconds(2000);
    o.retry.max_attempts = attempts;
    o.sleep = [this](Duration d) { waits.push_back(d); };
    o.jitter_seed = 7;
    return o;
  }
};

TEST(HttpStatusToStatusTest, MapsCodes) {
  struct Case {
    long http;
    StatusCode code;
  } cases[] = {
      {401, StatusCode::kUnauthenticated}, {403, StatusCode::kPermissionDenied},
      {404, StatusCode::kNotFound},        {429, StatusCode::kResourceExhausted},
      {400, StatusCode::kInvalidArgument}, {500, StatusCode::kUnavailable},
      {502, StatusCode::kUnavailable},     {503, StatusCode::kUnavailable},
  };
  for (const auto& c : cases) {
    Status s = HttpStatusToStatus(c.http, R"({"error":"boom"})", "GET x");
    EXPECT_EQ(s.code(), c.code) << c.http;
    EXPECT_NE(s.message().find(std::to_string(c.http)), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("boom"), std::string::npos) << s.message();
  }
}

TEST(BackoffTest, ExponentialAndCapped) {
  RetryPolicy p;
  p.initial_backoff = milliseconds(100);
  p.backoff_multiplier = 2;
  p.max_backoff = milliseconds(500);
  EXPECT_EQ(BackoffBefore(p, 1), milliseconds(100));
  EXPECT_EQ(BackoffBefore(p, 2), milliseconds(200));
  EXPECT_EQ(BackoffBefore(p, 3), milliseconds(400));
  EXPECT_EQ(BackoffBefore(p, 4), milliseconds(500));
  EXPECT_EQ(BackoffBefore(p, 20), milliseconds(500));
}

TEST(RetryAfterTest, SecondsAndHttpDate) {
  TimePoint now = *ParseTimestamp("2015-10-21T07:27:00Z");
  EXPECT_EQ(ParseRetryAfter("120", now), Duration(120000));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), Duration(0));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now), Duration(60000));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now), Duration(0));  // in the past
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
}

TEST(UrlTest, EncodeAndStripQuery) {
  EXPECT_EQ(UrlEncode("US-CAL-CISO"), "US-CAL-CISO");
  EXPECT_EQ(UrlEncode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(UrlForMessages("http://h/p?token=secret"), "http://h/p");
}

TEST(HttpClientTest, GetSendsHeadersAndReturnsBody) {
  RecordedServer server;
  server.Script("/ok", {{200, R"({"a":1})", {{"X-Extra", "yes"}}}});
  Fixture f;
  HttpClient http(f.Options());
  StatusOr<HttpResponse> r =
      http.Get({server.base_url() + "/ok?zone=ES", {{"auth-token", "t0k"}}, std::nullopt});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"a":1})");
  EXPECT_EQ(r->headers["x-extra"], "yes");
  EXPECT_EQ(r->attempts, 1);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers["auth-token"], "t0k");
  EXPECT_EQ(reqs[0].params.find("zone")->second, "ES");
  EXPECT_TRUE(f.waits.empty());
}

TEST(HttpClientTest, BasicAuth) {
  RecordedServer server;
  server.Script("/login", {{200, "{}"}});
  Fixture f;
  HttpClient http(f.Options());
  ASSERT_TRUE(http.Get({server.base_url() + "/login", {}, BasicAuth{"user", "pa:ss"}}).ok());
  // base64("user:pa:ss") = dXNlcjpwYTpzcw==
  EXPECT_EQ(server.requests()[0].headers["Authorization"], "Basic dXNlcjpwYTpzcw==");
}

TEST(HttpClientTest, RetriesOn429HonouringRetryAfterThenSucceeds) {
  RecordedServer server;
  server.Script("/x", {{429, R"({"message":"rate"})", {{"Retry-After", "2"}}}, {200, "{}"}});
  Fixture f;
  HttpClient http(f.Options());
  StatusOr<HttpResponse> r = http.Get({server.base_url() + "/x", {}, std::nullopt});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->attempts, 2);
  ASSERT_EQ(f.waits.size(), 1u);
  EXPECT_GE(f.waits[0], milliseconds(2000));  // Retry-After: 2 s beats the 0.5 s backoff
}

TEST(HttpClientTest, RetryExhaustedOn429) {
  RecordedServer server;
  server.Script("/x", {{429, R"({"message":"rate"})"}});
  Fixture f;
  HttpClient http(f.Options(3));
  StatusOr<HttpResponse> r = http.Get({server.base_url() + "/x", {}, std::nullopt});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("gave up after 3 attempts"), std::string::npos) << r.status().message();
  EXPECT_EQ(server.hits("/x"), 3);
  ASSERT_EQ(f.waits.size(), 2u);
  // Exponential backoff with +-20% jitter: ~500 ms then ~1000 ms.
  EXPECT_GE(f.waits[0], milliseconds(400));
  EXPECT_LE(f.waits[0], milliseconds(600));
  EXPECT_GE(f.waits[1], milliseconds(800));
  EXPECT_LE(f.waits[1], milliseconds(1200));
}

TEST(HttpClientTest, TooLongRetryAfterFailsAtOnce) {
  RecordedServer server;
  server.Script("/x", {{429, "{}", {{"Retry-After", "3600"}}}});
  Fixture f;
  HttpClient http(f.Options(3));
  StatusOr<HttpResponse> r = http.Get({server.base_url() + "/x", {}, std::nullopt});
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("Retry-After 3600 s"), std::string::npos) << r.status().message();
  EXPECT_EQ(server.hits("/x"), 1);
}

TEST(HttpClientTest, RetriesOn5xxThenSucceeds) {
  RecordedServer server;
  server.Script("/x", {{500, "oops"}, {503, "busy"}, {200, "{}"}});
  Fixture f;
  HttpClient http(f.Options(3));
  StatusOr<HttpResponse> r = http.Get({server.base_url() + "/x", {}, std::nullopt});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->attempts, 3);
}

TEST(HttpClientTest, NoRetryOnOther4xx) {
  for (int code : {400, 401, 403, 404}) {
    RecordedServer server;
    server.Script("/x", {{code, "{}"}, {200, "{}"}});
    Fixture f;
    HttpClient http(f.Options(3));
    StatusOr<HttpResponse> r = http.Get({server.base_url() + "/x", {}, std::nullopt});
    EXPECT_FALSE(r.ok()) << code;
    EXPECT_EQ(server.hits("/x"), 1) << code;
    EXPECT_TRUE(f.waits.empty()) << code;
  }
}

TEST(HttpClientTest, SlowResponsePastTimeoutIsDeadlineExceeded) {
  RecordedServer server;
  server.Script("/slow", {{200, "{}", {}, milliseconds(400)}});
  Fixture f;
  HttpOptions o = f.Options(2);
  o.total_timeout = milliseconds(150);
  HttpClient http(o);
  auto start = std::chrono::steady_clock::now();
  StatusOr<HttpResponse> r = http.Get({server.base_url() + "/slow", {}, std::nullopt});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_EQ(http.last_attempts(), 2);
  EXPECT_LT(took, milliseconds(1500));  // 2 x 150 ms, not 2 x 400 ms and more
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  int port;
  {
    RecordedServer server;
    port = server.port();
  }  // stopped: nothing listens there now
  Fixture f;
  HttpClient http(f.Options(2));
  StatusOr<HttpResponse> r = http.Get({"http://127.0.0.1:" + std::to_string(port) + "/x", {}, std::nullopt});
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(http.last_attempts(), 2);
}

TEST(HttpClientTest, BadUrlIsInvalidArgumentWithoutRetry) {
  Fixture f;
  HttpClient http(f.Options(3));
  StatusOr<HttpResponse> r = http.Get({"ftp://127.0.0.1/x", {}, std::nullopt});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_EQ(http.last_attempts(), 1);
}

TEST(HttpClientTest, OversizedBodyIsResourceExhausted) {
  RecordedServer server;
  server.Script("/big", {{200, std::string(4096, 'x')}});
  Fixture f;
  HttpOptions o = f.Options(1);
  o.max_body_bytes = 1024;
  HttpClient http(o);
  EXPECT_EQ(http.Get({server.base_url() + "/big", {}, std::nullopt}).status().code(),
            StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace ecomap::carbon
