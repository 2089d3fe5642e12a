// Manager/worker transport: rank 0 hands out units (pull-based, `units_in_flight` per
// worker), the other ranks run them and report a per-unit Status. With one rank, rank 0
// runs the units itself. Knows nothing of ingest or inference: units are numbers with an
// opaque payload, results are opaque text.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kiln/core/error.hpp"

namespace kiln::mpi {
class Comm;
}

namespace kiln::tasks {

struct RunOptions {
    int units_in_flight = 2;  // credits per worker (>= 2 keeps workers busy)
    // Units a worker runs at once, each on its own thread (WorkFn must then be thread-safe);
    // 1 runs them one after the other on the calling thread. MPI stays on the calling thread.
    int worker_threads = 1;
    int max_attempts = 2;  // a failed unit runs at most this often, on another worker
    double tick_interval_s = 0.5;

    /// A worker runs `units` at once, on threads, and holds one more granted unit, so it
    /// never waits for the manager between units.
    void run_at_once(int units) {
        worker_threads = units;
        units_in_flight = units + 1;
    }
};

/// Called on rank 0 to build the payload sent with a unit.
using PayloadFn = std::function<std::string(std::uint64_t unit)>;
/// Called on a worker: runs the unit and returns its result text; throws on failure.
using WorkFn =
    std::function<std::string(std::uint64_t unit, int attempt, const std::string& payload)>;
/// Called on rank 0 when a unit succeeded, with the worker's result text (journal it here).
using CommitFn = std::function<void(std::uint64_t unit, const std::string& result)>;
/// Called on rank 0 about every tick_interval_s, and once at the end.
using TickFn = std::function<void()>;
/// Polled on rank 0; when it returns true no new unit is handed out.
using StopFn = std::function<bool()>;

struct RunReport {
    std::uint64_t done = 0;
    std::uint64_t retries = 0;
    std::map<std::uint64_t, std::string> failed;  // unit -> last error message
    bool stopped = false;                         // stop_fn ended the run early
    // An I/O error ends the job with exit 74: a unit failed for good with one, or the disk
    // was full (then no more units were handed out). The message.
    std::string io_error;
    int workers = 0;

    /// Every unit is in: none failed, none left by a stop or an I/O error.
    [[nodiscard]] bool complete() const noexcept {
        return failed.empty() && !stopped && io_error.empty();
    }
};

/// Collective over comm. Runs `units` (in the given order) and returns, on rank 0, the report
/// (other ranks get a report with only `workers` set). A failing CommitFn on rank 0 is a job
/// error: it is rethrown after the workers have been released.
RunReport run_units(const mpi::Comm& comm, const std::vector<std::uint64_t>& units,
                    const PayloadFn& payload, const WorkFn& work, const CommitFn& commit,
                    const TickFn& tick, const StopFn& stop, const RunOptions& options);

}  // namespace kiln::tasks
