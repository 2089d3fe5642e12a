#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "kiln/core/error.hpp"
#include "kiln/infer/training.hpp"

namespace kiln::infer {
namespace {

TEST(Split, DisjointCompleteAndSeeded) {
    const Split a = split_rows(1000, 0.1, 0.2, 7);
    EXPECT_EQ(a.test.size(), 200U);
    EXPECT_EQ(a.validation.size(), 100U);
    EXPECT_EQ(a.train.size(), 700U);
    std::set<std::size_t> all;
    for (const auto* v : {&a.train, &a.validation, &a.test}) all.insert(v->begin(), v->end());
    EXPECT_EQ(all.size(), 1000U);
    const Split b = split_rows(1000, 0.1, 0.2, 7);
    EXPECT_EQ(a.test, b.test);
    const Split c = split_rows(1000, 0.1, 0.2, 8);
    EXPECT_NE(a.test, c.test);
    EXPECT_THROW((void)split_rows(10, 0.5, 0.5, 1), ConfigError);
    EXPECT_THROW((void)split_rows(10, -0.1, 0.2, 1), ConfigError);
    EXPECT_THROW((void)split_rows(10, std::nan(""), 0.2, 1), ConfigError);  // `--validation nan`
    EXPECT_THROW((void)split_rows(10, 0.1, std::nan(""), 1), ConfigError);
}

TEST(LinearModel, RecoversAnExactLinearFunction) {
    // y = 3 x0 - 2 x1 + 1 on a grid; the small ridge penalty costs almost nothing.
    Matrix x{{}, 0, 2};
    std::vector<float> y;
    for (int i = 0; i < 20; ++i) {
        for (int j = 0; j < 20; ++j) {
            x.values.push_back(static_cast<float>(i));
            x.values.push_back(static_cast<float>(j * j % 7));
            y.push_back(static_cast<float>(3 * i - 2 * (j * j % 7) + 1));
            ++x.rows;
        }
    }
    const TrainSet data{x, y};
    const auto pred = LinearModel::fit(data, 1e-9).predict(x);
    EXPECT_LT(mean_absolute_error(pred, y), 1e-4);
}

TEST(LinearModel, ConstantAndCollinearColumnsAreFine) {
    // Fractions that sum to one (collinear) plus a constant column.
    Matrix x{{0.2F, 0.8F, 1, 0.5F, 0.5F, 1, 0.9F, 0.1F, 1, 0.4F, 0.6F, 1}, 4, 3};
    const std::vector<float> y = {1, 2, 3, 4};
    const auto pred = LinearModel::fit({x, y}).predict(x);
    for (const double p : pred) EXPECT_TRUE(std::isfinite(p));
}

}  // namespace
}  // namespace kiln::infer
