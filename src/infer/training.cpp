#include "kiln/infer/training.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "kiln/core/error.hpp"

namespace kiln::infer {

Split split_rows(std::size_t n, double validation_fraction, double test_fraction,
                 std::uint64_t seed) {
    if (!(validation_fraction >= 0) || !(test_fraction >= 0) ||
        !(validation_fraction + test_fraction < 1))
        throw ConfigError("validation and test fractions must be >= 0 and sum to less than 1");
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
    const auto n_test =
        static_cast<std::size_t>(std::llround(static_cast<double>(n) * test_fraction));
    const auto n_val =
        static_cast<std::size_t>(std::llround(static_cast<double>(n) * validation_fraction));
    Split s;
    s.test.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_test));
    s.validation.assign(order.begin() + static_cast<std::ptrdiff_t>(n_test),
                        order.begin() + static_cast<std::ptrdiff_t>(n_test + n_val));
    s.train.assign(order.begin() + static_cast<std::ptrdiff_t>(n_test + n_val), order.end());
    for (auto* v : {&s.train, &s.validation, &s.test}) std::sort(v->begin(), v->end());
    return s;
}

TrainSet select_rows(const Matrix& x, const std::vector<float>& y,
                     const std::vector<std::size_t>& rows) {
    TrainSet out;
    out.x.rows = static_cast<std::int64_t>(rows.size());
    out.x.cols = x.cols;
    out.x.values.reserve(rows.size() * static_cast<std::size_t>(x.cols));
    for (const std::size_t r : rows) {
        const auto begin =
            x.values.begin() + static_cast<std::ptrdiff_t>(r * static_cast<std::size_t>(x.cols));
        out.x.values.insert(out.x.values.end(), begin, begin + x.cols);
        out.y.push_back(y[r]);
    }
    return out;
}

double mean_absolute_error(const std::vector<double>& predictions, const std::vector<float>& y) {
    if (y.empty()) return 0;
    double sum = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
        sum += std::abs(predictions[i] - static_cast<double>(y[i]));
    return sum / static_cast<double>(y.size());
}

LinearModel LinearModel::fit(const TrainSet& data, double lambda) {
    const auto n = static_cast<std::size_t>(data.x.rows);
    const auto d = static_cast<std::size_t>(data.x.cols);
    if (n == 0) throw DataError("linear baseline: no training rows");
    LinearModel m;
    m.mean_.assign(d, 0);
    m.scale_.assign(d, 1);
    const auto at = [&](std::size_t r, std::size_t c) {
        return static_cast<double>(data.x.values[r * d + c]);
    };
    for (std::size_t c = 0; c < d; ++c) {
        double s = 0;
        for (std::size_t r = 0; r < n; ++r) s += at(r, c);
        m.mean_[c] = s / static_cast<double>(n);
        double v = 0;
        for (std::size_t r = 0; r < n; ++r) v += (at(r, c) - m.mean_[c]) * (at(r, c) - m.mean_[c]);
        const double sd = std::sqrt(v / static_cast<double>(n));
        m.scale_[c] = sd > 1e-12 ? sd : 1.0;
    }
    const double y_mean =
        std::accumulate(data.y.begin(), data.y.end(), 0.0) / static_cast<double>(n);
    // Normal equations A w = b with A = Z'Z + lambda n I on standardised Z.
    std::vector<double> a(d * d, 0), b(d, 0), z(d);
    for (std::size_t r = 0; r < n; ++r) {
        for (std::size_t c = 0; c < d; ++c) z[c] = (at(r, c) - m.mean_[c]) / m.scale_[c];
        const double t = static_cast<double>(data.y[r]) - y_mean;
        for (std::size_t i = 0; i < d; ++i) {
            b[i] += z[i] * t;
            for (std::size_t j = 0; j <= i; ++j) a[i * d + j] += z[i] * z[j];
        }
    }
    for (std::size_t i = 0; i < d; ++i) a[i * d + i] += lambda * static_cast<double>(n);
    // Cholesky: A = L L' (lower triangle in place).
    for (std::size_t j = 0; j < d; ++j) {
        double s = a[j * d + j];
        for (std::size_t k = 0; k < j; ++k) s -= a[j * d + k] * a[j * d + k];
        if (s <= 0)
            throw DataError("linear baseline: the normal equations are not positive definite");
        a[j * d + j] = std::sqrt(s);
        for (std::size_t i = j + 1; i < d; ++i) {
            double t = a[i * d + j];
            for (std::size_t k = 0; k < j; ++k) t -= a[i * d + k] * a[j * d + k];
            a[i * d + j] = t / a[j * d + j];
        }
    }
    std::vector<double> w(d);
    for (std::size_t i = 0; i < d; ++i) {  // L u = b
        double t = b[i];
        for (std::size_t k = 0; k < i; ++k) t -= a[i * d + k] * w[k];
        w[i] = t / a[i * d + i];
    }
    for (std::size_t i = d; i-- > 0;) {  // L' w = u
        double t = w[i];
        for (std::size_t k = i + 1; k < d; ++k) t -= a[k * d + i] * w[k];
        w[i] = t / a[i * d + i];
    }
    m.weights_ = std::move(w);
    m.intercept_ = y_mean;
    return m;
}

std::vector<double> LinearModel::predict(const Matrix& x) const {
    const auto d = static_cast<std::size_t>(x.cols);
    std::vector<double> out(static_cast<std::size_t>(x.rows), intercept_);
    for (std::size_t r = 0; r < out.size(); ++r) {
        for (std::size_t c = 0; c < d; ++c)
            out[r] +=
                weights_[c] * (static_cast<double>(x.values[r * d + c]) - mean_[c]) / scale_[c];
    }
    return out;
}

}  // namespace kiln::infer
