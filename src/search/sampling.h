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

// Where an integer dimension's values lie in the unit cube: value k (0-based) at first + k * step.
struct DimGrid {
  int count = 0;              // values; 0: a continuous dimension
  double first = 0.0;
  double step = 0.0;
  bool categorical = false;   // unordered choices (Box::categorical)
  double At(int k) const { return first + step * k; }
  // The index of the value nearest to u (clamped to the grid). REQUIRES count >= 1.
  int Nearest(double u) const;
};
// One DimGrid per dimension of the box.
std::vector<DimGrid> UnitGrid(const Box& box);
// A value of a categorical dimension other than the one nearest to u, uniformly (u itself when
// the dimension has one value), as a unit-cube position.
double OtherChoice(const DimGrid& g, double u, Rng& rng);

// Uniform double in [0, 1) from the generator (the same on every platform for a seed).
double Uniform01(Rng& rng);
// Standard normal by Box-Muller (platform independent, unlike std::normal_distribution).
double StandardNormal(Rng& rng);
// Uniform integer in [0, n). REQUIRES n >= 1.
int UniformIndex(int n, Rng& rng);

}  // namespace ecomap::search
