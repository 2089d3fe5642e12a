// The parts of `kiln train` that need no model runtime: the fixed-seed split and the two
// baselines the trained network is reported against (predicting the mean, and a linear model
// on the same features). Pure functions, tested without LibTorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kiln/infer/backend.hpp"

namespace kiln::infer {

struct Split {
    std::vector<std::size_t> train, validation, test;  // row indices, each sorted
};

/// Shuffles 0..n-1 with std::mt19937_64(seed) and cuts it into test (round(n * test_fraction)),
/// validation (round(n * validation_fraction)) and train (the rest). Same seed, same split.
[[nodiscard]] Split split_rows(std::size_t n, double validation_fraction, double test_fraction,
                               std::uint64_t seed);

/// The rows `rows` of `x` and `y`.
[[nodiscard]] TrainSet select_rows(const Matrix& x, const std::vector<float>& y,
                                   const std::vector<std::size_t>& rows);

/// Mean absolute error of `predictions` against `y`.
[[nodiscard]] double mean_absolute_error(const std::vector<double>& predictions,
                                         const std::vector<float>& y);

/// Ridge regression on standardised features (closed form, Cholesky): the linear baseline.
class LinearModel {
public:
    /// Fits y ~ w.x + b with penalty `lambda` * |w|^2 on the standardised x.
    static LinearModel fit(const TrainSet& data, double lambda = 1e-3);
    [[nodiscard]] std::vector<double> predict(const Matrix& x) const;

private:
    std::vector<double> mean_, scale_, weights_;
    double intercept_ = 0;
};

}  // namespace kiln::infer
