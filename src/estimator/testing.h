// estimator/testing.h: simulated samples for the estimator's tests and benchmarks.
//
//   std::vector<profiler::Sample> s = SimulatedSamples(500, /*seed=*/3);
//
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <vector>

#include "platform/sim/xavier_sim.h"
#include "profiler/dataset.h"
#include "profiler/sampler.h"
#include "zoo/model.h"

namespace ecomap::estimator::testing {

// `n` random configurations (profiler::Sampler with `options`) and their noise-free xavier-sim
// performance, as dataset samples.
inline std::vector<profiler::Sample> SimulatedSamples(int n, uint64_t seed, profiler::SamplerOptions options = {}) {
  platform::XavierSim sim;
  auto sampler = profiler::Sampler::Create(sim.info(), options, zoo::Models());
  std::vector<profiler::Sample> out;
  if (!sampler.ok()) return out;
  std::mt19937_64 rng(seed);
  for (int i = 0; i < n; ++i) {
    profiler::Sample s;
    s.platform = "xavier-sim";
    s.index = i;
    s.seed = seed;
    s.config = sampler->Next(rng);
    auto p = sim.Predict(s.config);
    if (!p.ok()) continue;
    s.result = std::move(*p);
    out.push_back(std::move(s));
  }
  return out;
}

inline std::vector<const profiler::Sample*> Pointers(const std::vector<profiler::Sample>& v) {
  std::vector<const profiler::Sample*> out;
  for (const profiler::Sample& s : v) out.push_back(&s);
  return out;
}

}  // namespace ecomap::estimator::testing
