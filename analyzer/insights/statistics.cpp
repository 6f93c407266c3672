// See statistics.hpp.
#include "analyzer/insights/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace memscope::analyzer::insights {
namespace {

double mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Fisher's z: atanh(r) is about normal with standard error 1/sqrt(n-3) (times `inflate`).
Coefficient with_confidence(double r, size_t n, double inflate) {
  Coefficient c;
  c.r = r;
  double se = inflate / std::sqrt(static_cast<double>(n) - 3.0);
  // |r| = 1 makes atanh infinite: the interval collapses onto r and p is 0.
  double rc = std::clamp(r, -0.999999999, 0.999999999);
  double z = std::atanh(rc);
  c.p_value = std::erfc(std::fabs(z / se) / std::sqrt(2.0));
  c.ci95_low = std::tanh(z - 1.959963985 * se);
  c.ci95_high = std::tanh(z + 1.959963985 * se);
  return c;
}

}  // namespace

std::optional<double> pearson_r(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2) return std::nullopt;
  double mx = mean(x), my = mean(y);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  // A constant series has no variance: r is undefined, not 0.
  if (sxx <= 0 || syy <= 0) return std::nullopt;
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

std::optional<double> spearman_rho(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) return std::nullopt;
  // Pearson on average ranks is exact with ties, unlike the 1 - 6 sum d^2 shortcut.
  return pearson_r(average_ranks(x), average_ranks(y));
}

std::optional<Coefficient> pearson(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() < kMinCorrelationSamples) return std::nullopt;
  auto r = pearson_r(x, y);
  if (!r) return std::nullopt;
  return with_confidence(*r, x.size(), 1.0);
}

std::optional<Coefficient> spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() < kMinCorrelationSamples) return std::nullopt;
  auto r = spearman_rho(x, y);
  if (!r) return std::nullopt;
  return with_confidence(*r, x.size(), std::sqrt(1.06));
}

}  // namespace memscope::analyzer::insights
