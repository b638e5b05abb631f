// search/sampling.h: space-filling designs and small numeric helpers for the optimizers.
//
//   std::mt19937_64 rng(seed);
//   Eigen::MatrixXd u = LatinHypercube(40, 20, rng);   // 40 x 20, each entry in [0, 1)
//   std::vector<double> x = FromUnit(box, u.row(0));    // scaled into the box
//
// Thread-safety: pure functions; the caller owns the generator.
#pragma once

#include <Eigen/Dense>
#include <random>
#include <vector>

#include "search/optimizer.h"

namespace ecomap::search {

using Rng = std::mt19937_64;

// n points of a Latin hypercube in [0, 1)^d: every dimension's n strata hold exactly one point,
// each jittered uniformly inside its stratum. REQUIRES n >= 1, d >= 1.
Eigen::MatrixXd LatinHypercube(int n, int d, Rng& rng);

// Maps a point of the unit cube into the box (no snapping).
std::vector<double> FromUnit(const Box& box, const Eigen::Ref<const Eigen::RowVectorXd>& u);
// Maps a point of the box into the unit cube.
Eigen::RowVectorXd ToUnit(const Box& box, const std::vector<double>& x);

// Uniform double in [0, 1) from the generator (the same on every platform for a seed).
double Uniform01(Rng& rng);
// Standard normal by Box-Muller (platform independent, unlike std::normal_distribution).
double StandardNormal(Rng& rng);
// Uniform integer in [0, n). REQUIRES n >= 1.
int UniformIndex(int n, Rng& rng);

}  // namespace ecomap::search
