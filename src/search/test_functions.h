// search/test_functions.h: the standard black-box benchmark functions (minimisation problems).
//
// Bounds as in LA-MCTS's experiments: Ackley [-5, 10]^d, Levy [-10, 10]^d, Rosenbrock [-5, 10]^d,
// Rastrigin [-5.12, 5.12]^d. Every optimum value is 0 (Ackley and Rastrigin at 0, Levy and
// Rosenbrock at 1). The optimizers maximise, so a Problem built by MakeMinimizationProblem hands
// them -f.
//
//   StatusOr<TestFunction> fn = FindTestFunction("ackley");
//   Problem p = MakeMinimizationProblem(*fn, /*dims=*/20);
//   double v = fn->eval(std::vector<double>(20, 0.0));   // 0
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "search/optimizer.h"

namespace ecomap::search {

double Ackley(const std::vector<double>& x);
double Levy(const std::vector<double>& x);
double Rosenbrock(const std::vector<double>& x);
double Rastrigin(const std::vector<double>& x);

struct TestFunction {
  std::string name;
  double lb = 0.0;
  double ub = 0.0;
  double (*eval)(const std::vector<double>&) = nullptr;
};

// The four functions above, in this order.
const std::vector<TestFunction>& TestFunctions();
// NotFound naming the valid names for an unknown one.
StatusOr<TestFunction> FindTestFunction(const std::string& name);
// The box [lb, ub]^dims with the objective -f (batch). REQUIRES dims >= 1.
Problem MakeMinimizationProblem(const TestFunction& fn, int dims);

}  // namespace ecomap::search
