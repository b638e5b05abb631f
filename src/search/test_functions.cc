#include "search/test_functions.h"

#include <cmath>

namespace ecomap::search {

double Ackley(const std::vector<double>& x) {
  const double n = static_cast<double>(x.size());
  double s1 = 0.0, s2 = 0.0;
  for (double v : x) {
    s1 += v * v;
    s2 += std::cos(2.0 * M_PI * v);
  }
  return -20.0 * std::exp(-0.2 * std::sqrt(s1 / n)) - std::exp(s2 / n) + 20.0 + M_E;
}

double Levy(const std::vector<double>& x) {
  const size_t n = x.size();
  auto w = [&](size_t i) { return 1.0 + (x[i] - 1.0) / 4.0; };
  const double w0 = w(0);
  double s = std::pow(std::sin(M_PI * w0), 2);
  for (size_t i = 0; i + 1 < n; ++i) {
    const double wi = w(i);
    s += (wi - 1.0) * (wi - 1.0) * (1.0 + 10.0 * std::pow(std::sin(M_PI * wi + 1.0), 2));
  }
  const double wn = w(n - 1);
  s += (wn - 1.0) * (wn - 1.0) * (1.0 + std::pow(std::sin(2.0 * M_PI * wn), 2));
  return s;
}

double Rosenbrock(const std::vector<double>& x) {
  double s = 0.0;
  for (size_t i = 0; i + 1 < x.size(); ++i) {
    s += 100.0 * std::pow(x[i + 1] - x[i] * x[i], 2) + std::pow(1.0 - x[i], 2);
  }
  return s;
}

double Rastrigin(const std::vector<double>& x) {
  double s = 10.0 * static_cast<double>(x.size());
  for (double v : x) s += v * v - 10.0 * std::cos(2.0 * M_PI * v);
  return s;
}

const std::vector<TestFunction>& TestFunctions() {
  static const std::vector<TestFunction> kFunctions = {
      {"ackley", -5.0, 10.0, &Ackley},
      {"levy", -10.0, 10.0, &Levy},
      {"rosenbrock", -5.0, 10.0, &Rosenbrock},
      {"rastrigin", -5.12, 5.12, &Rastrigin},
  };
  return kFunctions;
}

StatusOr<TestFunction> FindTestFunction(const std::string& name) {
  for (const auto& fn : TestFunctions()) {
    if (fn.name == name) return fn;
  }
  return NotFound("unknown function '" + name + "'; use ackley, levy, rosenbrock or rastrigin");
}

Problem MakeMinimizationProblem(const TestFunction& fn, int dims) {
  Problem p;
  p.box = Box::Uniform(dims, fn.lb, fn.ub);
  auto eval = fn.eval;
  p.objective = [eval](const std::vector<std::vector<double>>& xs, std::vector<double>* values) {
    values->reserve(xs.size());
    for (const auto& x : xs) values->push_back(-eval(x));
    return Status::Ok();
  };
  return p;
}

}  // namespace ecomap::search
