#include <gtest/gtest.h>

#include <set>

#include "kiln/mpi/comm.hpp"
#include "kiln/tasks/runner.hpp"

namespace kiln::tasks {
namespace {

// With one rank, rank 0 runs every unit itself through the same scheduler.
TEST(RunUnitsSingle, RunsEveryUnitOnceAndRetriesFailures) {
    const auto comm = mpi::Comm::single();
    std::vector<std::uint64_t> units{5, 6, 7, 8};
    std::multiset<std::uint64_t> ran;
    std::map<std::uint64_t, std::string> committed;
    int flaky_calls = 0;
    const auto report = run_units(
        comm, units, [](std::uint64_t u) { return "payload-" + std::to_string(u); },
        [&](std::uint64_t u, int attempt, const std::string& payload) -> std::string {
            EXPECT_EQ(payload, "payload-" + std::to_string(u));
            ran.insert(u);
            if (u == 6 && attempt == 1) {
                ++flaky_calls;
                throw DataError("transient");
            }
            if (u == 8) throw IoError("always broken");
            return "result-" + std::to_string(u);
        },
        [&](std::uint64_t u, const std::string& r) { committed[u] = r; }, nullptr, nullptr,
        RunOptions{});
    EXPECT_EQ(report.done, 3U);
    EXPECT_EQ(report.retries, 2U);
    ASSERT_EQ(report.failed.size(), 1U);
    EXPECT_EQ(report.failed.at(8), "always broken");
    EXPECT_EQ(flaky_calls, 1);
    EXPECT_EQ(committed.size(), 3U);
    EXPECT_EQ(committed.at(6), "result-6");
    EXPECT_EQ(ran.count(8), 2U);  // max_attempts = 2
    EXPECT_EQ(ran.count(5), 1U);
}

TEST(RunUnitsSingle, StopFunctionEndsEarly) {
    const auto comm = mpi::Comm::single();
    int calls = 0;
    const auto report = run_units(
        comm, {1, 2, 3, 4}, [](std::uint64_t) { return std::string(); },
        [&](std::uint64_t, int, const std::string&) {
            ++calls;
            return std::string();
        },
        [](std::uint64_t, const std::string&) {}, nullptr, [&] { return calls >= 2; },
        RunOptions{});
    EXPECT_TRUE(report.stopped);
    EXPECT_EQ(report.done, 2U);
}

}  // namespace
}  // namespace kiln::tasks
