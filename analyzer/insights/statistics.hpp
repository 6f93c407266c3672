// Correlation statistics for the insights: Pearson and Spearman coefficients with a confidence
// figure (two-sided p-value and 95 % interval from Fisher's z). A coefficient that cannot be
// computed (too few pairs, a constant series) is an empty optional, never 0.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace memscope::analyzer::insights {

// Below this many aligned pairs no coefficient is reported: Fisher's z needs n > 3, and with
// 4 points almost any r is "significant" by accident.
inline constexpr size_t kMinCorrelationSamples = 5;

struct Coefficient {
  double r = 0;         // Pearson r or Spearman rho, -1..1
  double p_value = 1;   // two-sided, H0: no correlation (Fisher z, normal approximation)
  double ci95_low = 0;  // 95 % confidence interval of r (Fisher z back-transformed)
  double ci95_high = 0;
};

std::optional<double> pearson_r(const std::vector<double>& x, const std::vector<double>& y);
// Average ranks (1-based); tied values share the mean of the ranks they span.
std::vector<double> average_ranks(const std::vector<double>& v);
std::optional<double> spearman_rho(const std::vector<double>& x, const std::vector<double>& y);

// r with its confidence figures; `spearman` widens the standard error by sqrt(1.06) (Fieller,
// Hartley and Pearson 1957), as is usual for rank correlations.
std::optional<Coefficient> pearson(const std::vector<double>& x, const std::vector<double>& y);
std::optional<Coefficient> spearman(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace memscope::analyzer::insights
