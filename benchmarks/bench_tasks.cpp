// The task manager's grant rate: rank 0 hands out UNITS units with an empty payload to the
// other ranks, which "run" them at once (an empty model) and report back; prints units per
// second through rank 0. Usage: mpiexec -n 3 bench_tasks [UNITS] [IN_FLIGHT]
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <numeric>

#include "kiln/mpi/comm.hpp"
#include "kiln/tasks/runner.hpp"

int main(int argc, char** argv) {
    const kiln::mpi::Environment env(&argc, &argv, kiln::mpi::launched_by_mpi());
    const kiln::mpi::Comm comm = kiln::mpi::Comm::world();
    const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
    std::vector<std::uint64_t> units(n);
    std::iota(units.begin(), units.end(), std::uint64_t{0});
    kiln::tasks::RunOptions options;
    if (argc > 2) options.units_in_flight = std::atoi(argv[2]);
    std::uint64_t committed = 0;
    comm.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    const auto report = kiln::tasks::run_units(
        comm, units, [](std::uint64_t) { return std::string(); },
        [](std::uint64_t, int, const std::string&) { return std::string("{}"); },
        [&](std::uint64_t, const std::string&) { ++committed; }, [] {}, [] { return false; },
        options);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (comm.rank() == 0) {
        std::cout << "bench_tasks: " << committed << " units, " << report.workers << " workers, "
                  << options.units_in_flight << " in flight per worker: " << s << " s, "
                  << static_cast<double>(committed) / s << " units/s\n";
    }
    return committed == n || comm.rank() != 0 ? 0 : 1;
}
