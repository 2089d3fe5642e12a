#include "kiln/tasks/runner.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "kiln/core/log.hpp"
#include "kiln/core/wire.hpp"
#include "kiln/mpi/comm.hpp"
#include "kiln/tasks/scheduler.hpp"

namespace kiln::tasks {
namespace {

enum Tag : int { kRequest = 11, kResult = 12, kGrant = 13, kDone = 14 };

std::string encode_grant(std::uint64_t unit, int attempt, const std::string& payload) {
    std::string m;
    wire::put_u64(m, unit);
    wire::put_u64(m, static_cast<std::uint64_t>(attempt));
    m += payload;
    return m;
}

struct Result {
    std::uint64_t unit = 0;
    Status status;
    std::string text;
};

std::string encode_result(const Result& r) {
    std::string m;
    wire::put_u64(m, r.unit);
    wire::put_u64(m, static_cast<std::uint64_t>(r.status.code));
    wire::put_bytes(m, r.status.message);
    m += r.text;
    return m;
}

Result decode_result(const std::string& m) {
    wire::Reader in(m);
    Result r;
    r.unit = in.u64();
    r.status.code = static_cast<ExitCode>(in.u64());
    r.status.message = in.bytes();
    r.text = std::string(in.rest());
    return r;
}

Result run_one(const WorkFn& work, std::uint64_t unit, int attempt, const std::string& payload) {
    Result r;
    r.unit = unit;
    try {
        r.text = work(unit, attempt, payload);
    } catch (...) {
        r.status = Status::from_current_exception();
        log::error("unit " + std::to_string(unit) + " failed (attempt " + std::to_string(attempt) +
                   "): " + r.status.message);
    }
    return r;
}

using Clock = std::chrono::steady_clock;

constexpr double kPollSeconds = 0.002;

struct Held {
    std::uint64_t unit = 0;
    int attempt = 1;
    std::string payload;
};

// Runs units on `threads` threads and hands their results back to the calling thread, which
// keeps every MPI call. With one thread a unit runs at once, on the calling thread.
class UnitPool {
public:
    UnitPool(const WorkFn& work, int threads) : work_(work), capacity_(std::max(1, threads)) {
        if (capacity_ > 1) {
            for (int t = 0; t < capacity_; ++t) pool_.emplace_back([this] { serve(); });
        }
    }
    UnitPool(const UnitPool&) = delete;
    UnitPool& operator=(const UnitPool&) = delete;
    ~UnitPool() {
        {
            const std::lock_guard lock(mutex_);
            closing_ = true;
        }
        jobs_ready_.notify_all();
        for (auto& t : pool_) t.join();
    }

    [[nodiscard]] bool has_room() const noexcept { return busy_ < capacity_; }
    [[nodiscard]] bool idle() const noexcept { return busy_ == 0; }

    void start(Held h) {
        ++busy_;
        if (pool_.empty()) {
            results_.push_back(run_one(work_, h.unit, h.attempt, h.payload));
            return;
        }
        {
            const std::lock_guard lock(mutex_);
            jobs_.push_back(std::move(h));
        }
        jobs_ready_.notify_one();
    }

    /// The next finished unit's result, waiting at most `timeout_s` for one.
    std::optional<Result> take(double timeout_s) {
        std::unique_lock lock(mutex_);
        results_ready_.wait_for(lock, std::chrono::duration<double>(timeout_s),
                                [&] { return !results_.empty(); });
        if (results_.empty()) return std::nullopt;
        Result r = std::move(results_.front());
        results_.pop_front();
        --busy_;
        return r;
    }

private:
    void serve() {
        for (;;) {
            Held h;
            {
                std::unique_lock lock(mutex_);
                jobs_ready_.wait(lock, [&] { return closing_ || !jobs_.empty(); });
                if (jobs_.empty()) return;
                h = std::move(jobs_.front());
                jobs_.pop_front();
            }
            Result r = run_one(work_, h.unit, h.attempt, h.payload);
            {
                const std::lock_guard lock(mutex_);
                results_.push_back(std::move(r));
            }
            results_ready_.notify_one();
        }
    }

    const WorkFn& work_;
    const int capacity_;
    int busy_ = 0;  // started and not yet taken; only the calling thread touches it
    std::vector<std::thread> pool_;
    std::mutex mutex_;
    std::condition_variable jobs_ready_, results_ready_;
    std::deque<Held> jobs_;
    std::deque<Result> results_;
    bool closing_ = false;
};

// ENOSPC and EDQUOT, as the system words them in the messages of IoError.
bool out_of_space(const std::string& message) {
    return message.find(std::strerror(ENOSPC)) != std::string::npos ||
           message.find(std::strerror(EDQUOT)) != std::string::npos;
}

struct ManagerLoop {
    const PayloadFn& payload;
    const CommitFn& commit;
    const TickFn& tick;
    const StopFn& stop;
    const RunOptions& options;
    Scheduler& scheduler;
    std::exception_ptr commit_error;
    std::map<std::uint64_t, ExitCode> last_failure;  // unit -> code of its last failure
    std::string space_error;                         // the first out-of-space failure
    Clock::time_point last_tick = Clock::now();

    // Applies one result; a failing commit (journal write) stops the job.
    void apply(int worker, const Result& r) {
        bool ok = r.status.ok();
        std::string message = r.status.message;
        if (!ok) last_failure[r.unit] = r.status.code;
        // A full disk fails every unit alike: hand out no more, let the ones in flight end.
        if (r.status.code == ExitCode::kIoError && space_error.empty() && out_of_space(message)) {
            space_error = message;
            log::error("out of space: no new units are handed out; the units in flight finish");
            scheduler.stop();
        }
        if (ok && !commit_error) {
            try {
                commit(r.unit, r.text);
            } catch (...) {
                commit_error = std::current_exception();
                scheduler.stop();
            }
        }
        if (commit_error) ok = false;
        scheduler.on_result(worker, r.unit, ok, message);
    }

    void maybe_tick(bool force) {
        if (stop && !scheduler.stopped() && stop()) {
            log::warn("stop requested: finishing the units in flight, then exiting");
            scheduler.stop();
        }
        const auto now = Clock::now();
        if (force ||
            std::chrono::duration<double>(now - last_tick).count() >= options.tick_interval_s) {
            last_tick = now;
            if (tick) tick();
        }
    }
};

}  // namespace

RunReport run_units(const mpi::Comm& comm, const std::vector<std::uint64_t>& units,
                    const PayloadFn& payload, const WorkFn& work, const CommitFn& commit,
                    const TickFn& tick, const StopFn& stop, const RunOptions& options) {
    RunReport report;
    const int size = comm.size();
    report.workers = size == 1 ? 1 : size - 1;

    if (comm.rank() != 0) {
        // Worker: ask for `units_in_flight` units, run them in order (`worker_threads` at a
        // time), report each result (which is also the request for the next one) until the
        // manager says done.
        std::string req;
        wire::put_u64(req, static_cast<std::uint64_t>(options.units_in_flight));
        comm.send(0, kRequest, req);
        std::deque<Held> held;
        UnitPool pool(work, options.worker_threads);
        bool done = false;
        auto absorb = [&](const mpi::Message& m) {
            if (m.tag == kDone) {
                done = true;
                return;
            }
            wire::Reader in(m.bytes);
            Held h;
            h.unit = in.u64();
            h.attempt = static_cast<int>(in.u64());
            h.payload = std::string(in.rest());
            held.push_back(std::move(h));
        };
        while (!done || !held.empty() || !pool.idle()) {
            if (held.empty() && pool.idle()) {
                absorb(*comm.recv(0));
                continue;
            }
            while (auto m = comm.try_recv(0)) absorb(*m);
            while (pool.has_room() && !held.empty()) {
                pool.start(std::move(held.front()));
                held.pop_front();
            }
            // A short wait, so grants arriving meanwhile are taken up without delay.
            if (auto r = pool.take(kPollSeconds)) comm.send(0, kResult, encode_result(*r));
        }
        return report;
    }

    std::vector<int> workers;
    if (size == 1) {
        workers.push_back(0);
    } else {
        for (int w = 1; w < size; ++w) workers.push_back(w);
    }
    Scheduler scheduler(units, workers, options.max_attempts);
    ManagerLoop loop{payload, commit, tick, stop, options, scheduler, nullptr, {}, {}};

    if (size == 1) {
        UnitPool pool(work, options.worker_threads);
        scheduler.add_credit(0, std::max(1, options.worker_threads));
        while (!scheduler.finished()) {
            loop.maybe_tick(false);
            for (const Grant& g : scheduler.take_grants())
                pool.start({g.unit, g.attempt, payload(g.unit)});
            if (auto r = pool.take(options.tick_interval_s)) loop.apply(0, *r);
        }
    } else {
        std::set<int> asked;  // workers whose first request has arrived
        while (!scheduler.finished()) {
            for (const Grant& g : scheduler.take_grants()) {
                comm.send(g.worker, kGrant, encode_grant(g.unit, g.attempt, payload(g.unit)));
            }
            if (scheduler.finished()) break;
            loop.maybe_tick(false);
            const auto m =
                comm.recv(mpi::Comm::kAnySource, mpi::Comm::kAnyTag, options.tick_interval_s);
            if (!m) continue;
            if (m->tag == kRequest) {
                asked.insert(m->source);
                scheduler.add_credit(m->source, static_cast<int>(wire::Reader(m->bytes).u64()));
            } else if (m->tag == kResult) {
                loop.apply(m->source, decode_result(m->bytes));
            }
        }
        // Every granted unit has reported, so workers hold nothing: release them, and read
        // the first request of any worker that never got a unit, so no message is left over.
        // From that worker only: a released worker may already have sent the first request
        // of the next run (MPI keeps each sender's messages in order, so this is its first).
        for (const int w : workers) comm.send(w, kDone, {});
        for (const int w : workers) {
            if (asked.count(w) == 0U) (void)comm.recv(w, kRequest);
        }
    }
    loop.maybe_tick(true);
    if (loop.commit_error) std::rethrow_exception(loop.commit_error);

    report.done = scheduler.done_count();
    report.retries = scheduler.retries();
    report.failed = scheduler.failed();
    for (const auto& [unit, message] : report.failed) {
        if (loop.last_failure[unit] == ExitCode::kIoError) {
            report.io_error = message;
            break;
        }
    }
    if (report.io_error.empty()) report.io_error = loop.space_error;
    report.stopped =
        report.io_error.empty() && scheduler.stopped() && scheduler.pending_count() > 0;
    return report;
}

}  // namespace kiln::tasks
