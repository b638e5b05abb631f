// app/service_loadgen_commands.cc: `ecomap loadgen`, a KServe v2 REST client that drives models
// of a running server (service/loadgen.h) and reports latency percentiles, successes, refusals
// and errors per model.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/cli_util.h"
#include "app/commands.h"
#include "service/loadgen.h"

namespace ecomap::app {
namespace {

struct LoadgenFlags {
  std::string url = "http://127.0.0.1:8470";
  std::string grpc;  // HOST:PORT: the gRPC transport
  std::vector<std::string> models;
  double duration_s = 10;
  bool json_tensors = false;
  bool json = false;
  int top_k = 0;
  bool best_effort = false;
  int max_outstanding = 64;
  uint64_t seed = 1;
};

// "http://HOST:PORT" (the scheme optional, no path). Only plain HTTP.
std::pair<std::string, int> ParseUrl(const std::string& url) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  else if (rest.find("://") != std::string::npos) Fail("--url '" + url + "': only http:// is supported");
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || rest.find('/') != std::string::npos) {
    Fail("--url '" + url + "' must be http://HOST:PORT, e.g. http://127.0.0.1:8470");
  }
  char* end = nullptr;
  long port = std::strtol(rest.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 1 || port > 65535) Fail("--url '" + url + "': the port must be 1..65535");
  return {rest.substr(0, colon), static_cast<int>(port)};
}

void RunLoadgen(const LoadgenFlags& f) {
  service::LoadgenOptions o;
  for (const std::string& m : f.models) o.models.push_back(OrFail(service::ParseModelLoad(m)));
  if (o.models.empty()) Fail("give at least one --model NAME:rate=R or NAME:closed=N");
  o.duration_s = f.duration_s;
  o.top_k = f.top_k;
  o.best_effort = f.best_effort;
  o.max_outstanding = f.max_outstanding;
  o.seed = f.seed;
  std::unique_ptr<service::Transport> transport;
  if (!f.grpc.empty()) {
    transport = OrFail(service::MakeGrpcTransport(f.grpc));
  } else {
    auto [host, port] = ParseUrl(f.url);
    transport = service::MakeRestTransport(host, port, !f.json_tensors);
  }
  service::LoadgenReport r = OrFail(service::RunLoad(*transport, o));
  if (f.json) std::cout << service::ToJson(r).dump(2) << std::endl;
  else std::cout << service::FormatReport(r);
}

void AddLoadgenCommands(CLI::App& app) {
  auto f = std::make_shared<LoadgenFlags>();
  CLI::App* lg = app.add_subcommand(
      "loadgen",
      "Drive models of a KServe v2 (Open Inference Protocol) REST server, e.g. `ecomap serve`, with open-loop "
      "Poisson or closed-loop clients for a bounded time; report p50/p95/p99, successes, refusals (503) and "
      "errors per model.");
  lg->add_option("--url", f->url, "The server, http://HOST:PORT")->capture_default_str();
  lg->add_option("--grpc", f->grpc,
                 "Use the gRPC transport at HOST:PORT instead of REST (e.g. 127.0.0.1:8471; `ecomap serve` with "
                 "[serve.grpc] listen)");
  lg->add_option("--model", f->models,
                 "NAME:rate=R (open loop, Poisson, R requests/s) or NAME:closed=N (N outstanding); repeat per model")
      ->required();
  lg->add_option("--duration", f->duration_s, "Seconds of load (arrivals stop then; requests in flight finish)")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  lg->add_flag("--json-tensors", f->json_tensors,
               "Send inputs and ask for outputs as JSON \"data\" (default: the binary tensor extension)");
  lg->add_option("--top-k", f->top_k, "Ask for the top-k classes (parameters.top_k)")->check(CLI::Range(0, 1000));
  lg->add_flag("--best-effort", f->best_effort, "Send parameters.best_effort = true");
  lg->add_option("--max-outstanding", f->max_outstanding, "Open loop: client threads per model")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  lg->add_option("--seed", f->seed, "Seed of the arrivals and the input data")->capture_default_str();
  lg->add_flag("--json", f->json, "Print the report as JSON");
  lg->footer(
      "Example: ecomap loadgen --url http://127.0.0.1:8470 --model camera:rate=20 --model text:closed=2 "
      "--duration 10\nLatencies are measured on the client from the scheduled arrival (open loop) or the send "
      "(closed loop), successes only.");
  lg->callback([f] { RunLoadgen(*f); });
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(96, AddLoadgenCommands);

}  // namespace ecomap::app
