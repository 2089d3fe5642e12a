// The task manager's decisions as a pure state machine: which unit goes to which worker,
// retries of failed units on another worker, and when the job is finished. The transport
// (run_units) feeds it events; tests feed it directly without MPI.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace kiln::tasks {

/// A unit handed to a worker.
struct Grant {
    int worker = 0;
    std::uint64_t unit = 0;
    int attempt = 1;  // 1 for the first try
    friend bool operator==(const Grant&, const Grant&) = default;
};

/// Pull-based scheduling. Workers gain credits by asking (`add_credit`) and by returning
/// results (`on_result` adds one); each credit is one unit the worker may hold. Failed units
/// are retried up to `max_attempts` in total, preferring a worker that has not failed them;
/// after that they are failed for good. Single-threaded.
class Scheduler {
public:
    Scheduler(std::vector<std::uint64_t> units, std::vector<int> workers, int max_attempts);

    void add_credit(int worker, int count);
    /// A worker reports `unit` done (ok) or failed with `message`. Adds one credit.
    void on_result(int worker, std::uint64_t unit, bool ok, const std::string& message = {});
    /// Stops handing out units; in-flight units still report.
    void stop();
    /// Assigns pending units to workers with credits, in unit order, round-robin over workers.
    [[nodiscard]] std::vector<Grant> take_grants();

    /// True when no unit is pending or in flight (all done or failed, or stopped and drained).
    [[nodiscard]] bool finished() const noexcept;
    [[nodiscard]] bool stopped() const noexcept { return stopped_; }
    [[nodiscard]] std::uint64_t done_count() const noexcept { return done_; }
    [[nodiscard]] std::uint64_t in_flight_count() const noexcept { return in_flight_.size(); }
    [[nodiscard]] std::uint64_t pending_count() const noexcept { return pending_.size(); }
    /// Units failed for good, with the last failure message.
    [[nodiscard]] const std::map<std::uint64_t, std::string>& failed() const noexcept {
        return failed_;
    }
    [[nodiscard]] std::uint64_t retries() const noexcept { return retries_; }

private:
    struct Flight {
        int worker = 0;
        int attempt = 1;
    };
    std::deque<std::uint64_t> pending_;
    std::map<std::uint64_t, int> attempts_;             // attempts started so far
    std::map<std::uint64_t, std::set<int>> failed_on_;  // workers that failed the unit
    std::map<std::uint64_t, Flight> in_flight_;
    std::map<int, int> credits_;
    std::vector<int> workers_;
    std::map<std::uint64_t, std::string> failed_;
    std::size_t next_worker_ = 0;
    int max_attempts_;
    std::uint64_t done_ = 0;
    std::uint64_t retries_ = 0;
    bool stopped_ = false;
};

}  // namespace kiln::tasks
