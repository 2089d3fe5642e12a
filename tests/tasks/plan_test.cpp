#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "kiln/tasks/plan.hpp"

namespace kiln::tasks {
namespace {

// Every item in exactly one unit, in order, within the limits.
void expect_valid(const std::vector<std::uint64_t>& sizes, const std::vector<ItemRange>& units,
                  std::uint64_t max_bytes, std::uint64_t max_items) {
    std::uint64_t next = 0;
    for (const auto& u : units) {
        ASSERT_EQ(u.begin, next);
        ASSERT_GT(u.count(), 0U);
        ASSERT_LE(u.count(), max_items);
        std::uint64_t bytes = 0;
        for (auto i = u.begin; i < u.end; ++i) bytes += sizes[i];
        if (u.count() > 1) {
            ASSERT_LE(bytes, max_bytes);
        }
        next = u.end;
    }
    ASSERT_EQ(next, sizes.size());
}

TEST(PlanBalanced, EmptyInputHasNoUnits) { EXPECT_TRUE(plan_balanced({}, 10, 10).empty()); }

TEST(PlanBalanced, OversizedItemStandsAlone) {
    const std::vector<std::uint64_t> sizes{1, 1, 100, 1, 1};
    const auto units = plan_balanced(sizes, 10, 100);
    expect_valid(sizes, units, 10, 100);
    bool alone = false;
    for (const auto& u : units) alone = alone || (u.begin == 2 && u.end == 3);
    EXPECT_TRUE(alone);
}

TEST(PlanBalanced, BalancesBytes) {
    // 10 items of 10 bytes under a 40-byte cap: 3 units are needed, and balanced they hold
    // 3-4 items each instead of 4, 4, 2.
    const std::vector<std::uint64_t> sizes(10, 10);
    const auto units = plan_balanced(sizes, 40, 100);
    expect_valid(sizes, units, 40, 100);
    ASSERT_EQ(units.size(), 3U);
    for (const auto& u : units) EXPECT_GE(u.count(), 3U);
}

TEST(PlanBalanced, RespectsItemCap) {
    const std::vector<std::uint64_t> sizes(1000, 0);
    const auto units = plan_balanced(sizes, 1, 64);
    expect_valid(sizes, units, 1, 64);
    EXPECT_EQ(units.size(), 16U);
}

TEST(PlanBalanced, RandomInputsAlwaysValidAndDeterministic) {
    std::mt19937_64 rng(7);
    for (int trial = 0; trial < 200; ++trial) {
        std::vector<std::uint64_t> sizes(rng() % 500);
        for (auto& s : sizes) s = rng() % 3 == 0 ? rng() % 5000 : rng() % 50;
        const std::uint64_t max_bytes = 1 + rng() % 4000;
        const std::uint64_t max_items = 1 + rng() % 64;
        const auto units = plan_balanced(sizes, max_bytes, max_items);
        expect_valid(sizes, units, max_bytes, max_items);
        EXPECT_EQ(units, plan_balanced(sizes, max_bytes, max_items));
    }
}

}  // namespace
}  // namespace kiln::tasks
