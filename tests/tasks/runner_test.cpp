#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

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

// worker_threads = 3: three units run at once (each waits until three have started, which
// would never happen one at a time), every unit runs once, results come back to the calling
// thread, which alone commits.
TEST(RunUnitsSingle, WorkerThreadsRunUnitsAtOnce) {
    const auto comm = mpi::Comm::single();
    std::vector<std::uint64_t> units;
    for (std::uint64_t u = 0; u < 30; ++u) units.push_back(u);
    std::mutex mutex;
    std::condition_variable cv;
    int started = 0;
    bool all_three_met = true;
    std::set<std::uint64_t> committed;
    const auto caller = std::this_thread::get_id();
    RunOptions options;
    options.worker_threads = 3;
    const auto report = run_units(
        comm, units, [](std::uint64_t) { return std::string(); },
        [&](std::uint64_t u, int, const std::string&) {
            if (u < 3) {  // the first three meet
                std::unique_lock lock(mutex);
                ++started;
                cv.notify_all();
                if (!cv.wait_for(lock, std::chrono::seconds(20), [&] { return started >= 3; }))
                    all_three_met = false;
            }
            return std::to_string(u * 2);
        },
        [&](std::uint64_t u, const std::string& r) {
            EXPECT_EQ(std::this_thread::get_id(), caller);
            EXPECT_EQ(r, std::to_string(u * 2));
            EXPECT_TRUE(committed.insert(u).second) << "unit " << u << " twice";
        },
        nullptr, nullptr, options);
    EXPECT_TRUE(all_three_met);
    EXPECT_EQ(report.done, 30U);
    EXPECT_EQ(committed.size(), 30U);
}

}  // namespace
}  // namespace kiln::tasks
