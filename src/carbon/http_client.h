// carbon/http_client.h: a small HTTP GET client over libcurl, with timeouts and bounded retries.
//
// Used by the live carbon-intensity clients (Electricity Maps, WattTime, UK Carbon Intensity).
// A request is retried, with exponential backoff and jitter, only when retrying can help: a
// timeout, a connection failure, HTTP 5xx, or HTTP 429 (whose Retry-After header is honoured,
// up to a bound). Other 4xx answers fail at once. HTTP failures map to Status codes:
//
//   401 -> Unauthenticated   403 -> PermissionDenied   404 -> NotFound   429 -> ResourceExhausted
//   other 4xx -> InvalidArgument   5xx / connection failure -> Unavailable
//   timeout (connect or total) -> DeadlineExceeded
//
// The wait between attempts goes through an injectable sleep function, so tests do not wait.
//
//   HttpOptions opts;
//   opts.total_timeout = Duration(5000);
//   HttpClient http(opts);
//   StatusOr<HttpResponse> r = http.Get({.url = "https://api.example.org/v3/x",
//                                        .headers = {{"auth-token", token}}});
//
// Thread-safety: an HttpClient may be used from one thread at a time; distinct clients may be
// used from different threads (libcurl is initialised once, thread-safely).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace ecomap::carbon {

struct BasicAuth {
  std::string username;
  std::string password;
};

struct HttpRequest {
  std::string url;                                           // full URL, query included
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::optional<BasicAuth> basic_auth;                       // HTTP Basic (WattTime login)
};

struct HttpResponse {
  long status = 0;  // HTTP status code
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased; last value wins
  int attempts = 0;                            // how many attempts it took (1 = no retry)
};

struct RetryPolicy {
  int max_attempts = 3;             // total attempts, first one included (>= 1)
  Duration initial_backoff{500};    // wait before the 2nd attempt
  double backoff_multiplier = 2.0;  // each further wait is this much longer
  Duration max_backoff{8000};       // cap on one computed wait
  double jitter = 0.2;              // each wait is scaled by a uniform factor in [1-j, 1+j]
  Duration max_retry_after{30000};  // a longer Retry-After is not waited for: fail instead
};

struct HttpOptions {
  Duration connect_timeout{3000};  // TCP/TLS connect
  Duration total_timeout{10000};   // whole transfer of one attempt
  RetryPolicy retry;
  // How to wait between attempts; default: std::this_thread::sleep_for.
  std::function<void(Duration)> sleep;
  uint64_t jitter_seed = 0;  // seed of the backoff jitter (deterministic for a seed)
  std::string user_agent = "ecomap/0.1";
  size_t max_body_bytes = 16 << 20;  // larger bodies fail with ResourceExhausted
};

// Maps a non-2xx HTTP status to a Status whose message names `what` (e.g. "Electricity Maps"),
// the status, and an excerpt of the body. REQUIRES: status outside [200, 300).
Status HttpStatusToStatus(long status, const std::string& body, const std::string& what);

// The wait before attempt `attempt + 1` (attempt counts from 1), before jitter, without any
// Retry-After: initial_backoff * multiplier^(attempt-1), capped at max_backoff.
Duration BackoffBefore(const RetryPolicy& policy, int attempt);

// Parses a Retry-After header value: delay-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT", relative to `now`). nullopt when unparsable.
std::optional<Duration> ParseRetryAfter(const std::string& value, TimePoint now);

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options = {});

  // Performs the GET, retrying as described above. Returns the response only for a 2xx
  // status; every other outcome is a non-ok Status whose message names the URL (without its
  // query string) and the last failure. Never takes longer than
  // max_attempts * total_timeout + the waits between attempts.
  StatusOr<HttpResponse> Get(const HttpRequest& request);

  // Number of attempts made by the last Get (for logs and tests).
  int last_attempts() const { return last_attempts_; }
  const HttpOptions& options() const { return options_; }

 private:
  struct Attempt {
    Status transport;  // ok when an HTTP answer came back
    HttpResponse response;
  };
  Attempt Once(const HttpRequest& request);
  void Sleep(Duration d);

  HttpOptions options_;
  std::mt19937_64 rng_;
  int last_attempts_ = 0;
};

// "https://host/path?query" -> "https://host/path" (for messages: queries may carry keys).
std::string UrlForMessages(const std::string& url);
// Percent-encodes a query parameter value.
std::string UrlEncode(const std::string& value);

}  // namespace ecomap::carbon
