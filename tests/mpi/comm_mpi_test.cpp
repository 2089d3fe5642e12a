// Runs under mpiexec -n 1, 2 and 4: the Comm collectives and the manager/worker transport.
#include <gtest/gtest.h>

#include <atomic>

#include <set>

#include "kiln/core/error.hpp"
#include "kiln/mpi/comm.hpp"
#include "kiln/tasks/runner.hpp"

namespace kiln {
namespace {

TEST(CommMpi, Collectives) {
    const auto comm = mpi::Comm::world();
    const int n = comm.size();
    EXPECT_EQ(comm.all_reduce_sum(std::int64_t{comm.rank() + 1}), std::int64_t{n * (n + 1) / 2});
    EXPECT_EQ(comm.all_reduce_max(std::int64_t{comm.rank()}), n - 1);
    EXPECT_EQ(comm.all_reduce_min(std::int64_t{comm.rank()}), 0);
    EXPECT_DOUBLE_EQ(comm.all_reduce_sum(0.5), 0.5 * n);
    const auto v = comm.all_reduce_sum(std::vector<std::int64_t>{1, comm.rank()});
    EXPECT_EQ(v[0], n);
    std::string text = comm.rank() == 0 ? std::string("from root\0with nul", 18) : "";
    comm.broadcast(text, 0);
    EXPECT_EQ(text, std::string("from root\0with nul", 18));
    const auto all = comm.gather("r" + std::to_string(comm.rank()), 0);
    if (comm.rank() == 0) {
        ASSERT_EQ(static_cast<int>(all.size()), n);
        for (int r = 0; r < n; ++r)
            EXPECT_EQ(all[static_cast<std::size_t>(r)], "r" + std::to_string(r));
    } else {
        EXPECT_TRUE(all.empty());
    }
    comm.barrier();
}

// Units one at a time per worker, and three at a time on each worker's threads.
class ManagerWorker : public ::testing::TestWithParam<int> {};

TEST_P(ManagerWorker, RunsEachUnitOnceAndRetriesElsewhere) {
    const auto comm = mpi::Comm::world();
    std::vector<std::uint64_t> units;
    for (std::uint64_t u = 0; u < 200; ++u) units.push_back(u);
    std::set<std::uint64_t> committed;
    std::atomic<std::int64_t> runs_here = 0;
    tasks::RunOptions options;
    options.worker_threads = GetParam();
    options.units_in_flight = GetParam() + 1;
    const auto report = tasks::run_units(
        comm, units, [](std::uint64_t u) { return std::to_string(u * 3); },
        [&](std::uint64_t u, int attempt, const std::string& payload) -> std::string {
            ++runs_here;
            EXPECT_EQ(payload, std::to_string(u * 3));
            if (u == 17 && attempt == 1) throw DataError("first try of 17 fails");
            if (u == 42) throw DataError("42 always fails");
            return "ok " + std::to_string(u) + " on " + std::to_string(comm.rank());
        },
        [&](std::uint64_t u, const std::string& r) {
            EXPECT_TRUE(committed.insert(u).second) << "unit " << u << " committed twice";
            EXPECT_EQ(r.rfind("ok " + std::to_string(u) + " on ", 0), 0U);
        },
        nullptr, nullptr, options);
    // 200 units, 17 run twice, 42 run max_attempts (2) times.
    EXPECT_EQ(comm.all_reduce_sum(runs_here.load()), 202);
    if (comm.rank() == 0) {
        EXPECT_EQ(report.done, 199U);
        EXPECT_EQ(committed.size(), 199U);
        ASSERT_EQ(report.failed.size(), 1U);
        EXPECT_EQ(report.failed.begin()->first, 42U);
        EXPECT_EQ(report.retries, 2U);
        EXPECT_EQ(report.workers, comm.size() == 1 ? 1 : comm.size() - 1);
    }
    // The transport is reusable: a second run with no units finishes at once.
    const auto empty = tasks::run_units(
        comm, {}, [](std::uint64_t) { return std::string(); },
        [](std::uint64_t, int, const std::string&) { return std::string(); },
        [](std::uint64_t, const std::string&) {}, nullptr, nullptr, tasks::RunOptions{});
    EXPECT_EQ(empty.done, 0U);
}

INSTANTIATE_TEST_SUITE_P(WorkerThreads, ManagerWorker, ::testing::Values(1, 3));

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    const kiln::mpi::Environment env(&argc, &argv, true);
    const int rc = RUN_ALL_TESTS();
    // Every rank must agree, or mpiexec would report a lone failure as success elsewhere.
    const auto comm = kiln::mpi::Comm::world();
    return static_cast<int>(comm.all_reduce_max(std::int64_t{rc}));
}
