#include "carbon/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <mutex>
#include <thread>

namespace ecomap::carbon {
namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// A short, single-line excerpt of a response body for error messages.
std::string Excerpt(const std::string& body) {
  std::string out;
  for (char c : body) {
    if (out.size() >= 200) {
      out += "...";
      break;
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  return Trim(out);
}

struct WriteState {
  std::string* body;
  size_t limit;
  bool overflow = false;
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* st = static_cast<WriteState*>(user);
  size_t n = size * nmemb;
  if (st->body->size() + n > st->limit) {
    st->overflow = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  st->body->append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  size_t n = size * nmemb;
  std::string line(data, n);
  if (line.rfind("HTTP/", 0) == 0) headers->clear();  // a new response (redirect): start over
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    (*headers)[Lower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  }
  return n;
}

bool RetryableStatus(long status) { return status == 429 || (status >= 500 && status <= 599); }

}  // namespace

std::string UrlForMessages(const std::string& url) {
  size_t q = url.find('?');
  return q == std::string::npos ? url : url.substr(0, q);
}

std::string UrlEncode(const std::string& value) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Status HttpStatusToStatus(long status, const std::string& body, const std::string& what) {
  std::string msg = what + " answered HTTP " + std::to_string(status);
  std::string ex = Excerpt(body);
  if (!ex.empty()) msg += " (" + ex + ")";
  if (status == 401) {
    return Unauthenticated(msg + "; the credentials were missing or rejected: check the API key/login");
  }
  if (status == 403) {
    return PermissionDenied(msg +
                            "; the credentials are valid but not allowed this request "
                            "(plan, zone or region not covered by the key)");
  }
  if (status == 404) return NotFound(msg + "; check the zone/region and the base URL");
  if (status == 429) return ResourceExhausted(msg + "; rate limited, retry later");
  if (status >= 500) return Unavailable(msg + "; the provider has a problem, retry later");
  return InvalidArgument(msg);
}

Duration BackoffBefore(const RetryPolicy& policy, int attempt) {
  double ms = static_cast<double>(policy.initial_backoff.count()) *
              std::pow(policy.backoff_multiplier, std::max(0, attempt - 1));
  ms = std::min(ms, static_cast<double>(policy.max_backoff.count()));
  return Duration(static_cast<long long>(std::max(0.0, ms)));
}

std::optional<Duration> ParseRetryAfter(const std::string& value, TimePoint now) {
  std::string v = Trim(value);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (v.size() > 9) return std::nullopt;
    return Duration(std::stoll(v) * 1000);
  }
  time_t t = curl_getdate(v.c_str(), nullptr);
  if (t == -1) return std::nullopt;
  auto at = TimePoint(Duration(static_cast<long long>(t) * 1000));
  return at > now ? std::chrono::duration_cast<Duration>(at - now) : Duration(0);
}

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)), rng_(options_.jitter_seed) {
  GlobalInitOnce();
  if (options_.retry.max_attempts < 1) options_.retry.max_attempts = 1;
}

void HttpClient::Sleep(Duration d) {
  if (d.count() <= 0) return;
  if (options_.sleep) {
    options_.sleep(d);
  } else {
    std::this_thread::sleep_for(d);
  }
}

HttpClient::Attempt HttpClient::Once(const HttpRequest& request) {
  Attempt a;
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    a.transport = Internal("libcurl could not create a handle");
    return a;
  }
  CURL* h = curl.get();
  WriteState ws{&a.response.body, options_.max_body_bytes};
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &ws);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &a.response.headers);
  if (request.basic_auth) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(h, CURLOPT_USERNAME, request.basic_auth->username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, request.basic_auth->password.c_str());
  }
  curl_slist* raw_headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    raw_headers = curl_slist_append(raw_headers, (name + ": " + value).c_str());
  }
  raw_headers = curl_slist_append(raw_headers, "Accept: application/json");
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers_guard(raw_headers, curl_slist_free_all);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, raw_headers);

  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(h);
  const std::string where = "GET " + UrlForMessages(request.url);
  if (rc != CURLE_OK) {
    std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT:
        a.transport = DeadlineExceeded(where + " timed out (connect timeout " +
                                       std::to_string(options_.connect_timeout.count()) + " ms, total " +
                                       std::to_string(options_.total_timeout.count()) + " ms): " + detail);
        break;
      case CURLE_WRITE_ERROR:
        a.transport = ws.overflow ? ResourceExhausted(where + ": response larger than " +
                                                      std::to_string(options_.max_body_bytes) + " bytes")
                                  : Unavailable(where + ": " + detail);
        break;
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        a.transport = InvalidArgument(where + ": bad URL '" + UrlForMessages(request.url) + "' (" + detail +
                                      "); use http://host[:port] or https://host");
        break;
      default:
        a.transport = Unavailable(where + " failed: " + detail);
    }
    return a;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.response.status);
  return a;
}

StatusOr<HttpResponse> HttpClient::Get(const HttpRequest& request) {
  const RetryPolicy& rp = options_.retry;
  Status last;
  last_attempts_ = 0;
  for (int attempt = 1; attempt <= rp.max_attempts; ++attempt) {
    last_attempts_ = attempt;
    Attempt a = Once(request);
    bool retryable = false;
    std::optional<Duration> retry_after;
    if (!a.transport.ok()) {
      last = a.transport;
      retryable = last.code() == StatusCode::kDeadlineExceeded || last.code() == StatusCode::kUnavailable;
    } else if (a.response.status >= 200 && a.response.status < 300) {
      a.response.attempts = attempt;
      return std::move(a.response);
    } else {
      last = HttpStatusToStatus(a.response.status, a.response.body, "GET " + UrlForMessages(request.url));
      retryable = RetryableStatus(a.response.status);
      auto it = a.response.headers.find("retry-after");
      if (it != a.response.headers.end())
        retry_after = ParseRetryAfter(it->second, SystemClock::Instance().Now());
    }
    if (!retryable) break;
    if (attempt == rp.max_attempts) {
      last =
          Status(last.code(), last.message() + " (gave up after " + std::to_string(attempt) + " attempts)");
      break;
    }
    if (retry_after && *retry_after > rp.max_retry_after) {
      last = Status(last.code(), last.message() + " (Retry-After " +
                                     std::to_string(retry_after->count() / 1000) + " s is longer than the " +
                                     std::to_string(rp.max_retry_after.count() / 1000) +
                                     " s this client waits)");
      break;
    }
    Duration wait = BackoffBefore(rp, attempt);
    if (rp.jitter > 0) {
      std::uniform_real_distribution<double> u(1.0 - rp.jitter, 1.0 + rp.jitter);
      wait = Duration(static_cast<long long>(static_cast<double>(wait.count()) * u(rng_)));
    }
    if (retry_after) wait = std::max(wait, *retry_after);
    Sleep(wait);
  }
  return last;
}

}  // namespace ecomap::carbon
