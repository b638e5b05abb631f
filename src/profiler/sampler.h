// profiler/sampler.h: random configurations that cover the decision space evenly.
//
// The estimator learns from (configuration, performance) pairs; the sampler decides which
// configurations those are. Coverage is stratified on purpose so that no region of the space
// is starved:
//   - the number of tenants is uniform in [min_tenants, max_tenants];
//   - the power mode is uniform over the platform's modes;
//   - a tenant's model: first a family uniformly, then a variant of it uniformly (so a family
//     with five variants is not five times as likely as one with two);
//   - the number of stages is uniform in [1, min(max_stages, blocks)], the cut points a uniform
//     random subset of the block boundaries, each stage's unit uniform over the platform's units;
//   - arrivals: closed loop (one request outstanding) with probability `closed_share`, else open
//     loop with a rate log-uniform in [min_rate_rps, max_rate_rps].
// Every configuration it returns passes ValidateConfiguration.
//
//   Sampler s(info, SamplerOptions{}, zoo::Models());
//   std::mt19937_64 rng(seed);
//   platform::Configuration c = s.Next(rng);
//
// Thread-safety: Next() is const; give each thread its own generator.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "core/status.h"
#include "platform/types.h"
#include "zoo/model.h"

namespace ecomap::profiler {

struct SamplerOptions {
  int min_tenants = 1;
  int max_tenants = 6;
  int max_stages = 3;              // stages per tenant
  double closed_share = 0.5;       // share of tenants that run closed loop
  double min_rate_rps = 1.0;       // open-loop rates, log-uniform
  double max_rate_rps = 60.0;
  std::vector<std::string> models; // restrict to these zoo names; empty: every model
  std::vector<int> modes;          // restrict to these mode ids; empty: every mode

  Status Validate() const;
};

class Sampler {
 public:
  // `catalogue` lists the models to draw from (normally zoo::Models()).
  // REQUIRES: options.Validate().ok(); the catalogue and `info` outlive the sampler.
  static StatusOr<Sampler> Create(const platform::PlatformInfo& info, SamplerOptions options,
                                  const std::vector<zoo::ModelInfo>& catalogue);

  platform::Configuration Next(std::mt19937_64& rng) const;

 private:
  Sampler() = default;
  const platform::PlatformInfo* info_ = nullptr;
  SamplerOptions options_;
  std::vector<std::vector<const zoo::ModelInfo*>> families_;  // each non-empty
  std::vector<int> modes_;
};

}  // namespace ecomap::profiler
