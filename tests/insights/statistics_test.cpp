// Unit tests of the correlation statistics on data whose answers are worked out by hand:
// Pearson, Spearman with tied ranks, Fisher-z confidence, and null for constant or short series.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "analyzer/insights/statistics.hpp"

using namespace memscope::analyzer::insights;

TEST_CASE("a perfect linear relation gives r = rho = 1 and p near 0") {
  std::vector<double> x, y;
  for (int i = 1; i <= 10; ++i) x.push_back(i), y.push_back(2 * i + 1);
  auto p = pearson(x, y);
  auto s = spearman(x, y);
  REQUIRE(p);
  REQUIRE(s);
  CHECK(p->r == doctest::Approx(1.0));
  CHECK(s->r == doctest::Approx(1.0));
  CHECK(p->p_value < 1e-6);
}

TEST_CASE("Pearson and Spearman on known data with ties") {
  // Worked by hand: sxy = 6, sxx = 10, syy = 6 -> r = 6 / sqrt(60).
  std::vector<double> x = {1, 2, 3, 4, 5}, y = {2, 4, 5, 4, 5};
  CHECK(*pearson_r(x, y) == doctest::Approx(0.7745966692));
  // Ranks of y with ties averaged: 1, 2.5, 4.5, 2.5, 4.5 -> rho = 7 / sqrt(90).
  CHECK(*spearman_rho(x, y) == doctest::Approx(0.7378647873));
  CHECK(average_ranks({10, 20, 20, 30}) == std::vector<double>{1, 2.5, 2.5, 4});
}

TEST_CASE("Spearman is unchanged by a monotone transform, Pearson is not") {
  std::vector<double> x = {1, 2, 3, 4, 5, 6}, y = {1, 8, 27, 64, 125, 216};
  CHECK(*spearman_rho(x, y) == doctest::Approx(1.0));
  CHECK(*pearson_r(x, y) < 0.99);
}

TEST_CASE("constant or short series have no coefficient") {
  CHECK_FALSE(pearson({1, 2, 3, 4, 5}, {3, 3, 3, 3, 3}));
  CHECK_FALSE(spearman({1, 2, 3, 4, 5}, {3, 3, 3, 3, 3}));
  CHECK_FALSE(pearson({1, 2, 3, 4}, {1, 2, 3, 5}));  // n < kMinCorrelationSamples
  CHECK(pearson({1, 2, 3, 4, 5}, {1, 2, 3, 5, 4}));
}

TEST_CASE("Fisher z confidence figures") {
  // n = 28, r = 0.5: z = atanh(0.5) = 0.5493, se = 1/5 -> z/se = 2.7465, p = 0.00602.
  std::vector<double> x, y;
  // Build 28 pairs with r exactly 0.5: y = 0.5 * x + sqrt(0.75) * e, e orthogonal to x.
  for (int i = 0; i < 28; ++i) x.push_back(i % 2 ? 1 : -1);
  for (int i = 0; i < 28; ++i) y.push_back(0.5 * x[i] + std::sqrt(0.75) * ((i / 2) % 2 ? 1 : -1));
  auto p = pearson(x, y);
  REQUIRE(p);
  CHECK(p->r == doctest::Approx(0.5));
  CHECK(p->p_value == doctest::Approx(0.00602).epsilon(0.01));
  CHECK(p->ci95_low < 0.5);
  CHECK(p->ci95_high > 0.5);
  CHECK(p->ci95_low == doctest::Approx(std::tanh(std::atanh(0.5) - 1.959963985 / 5)));
}
