#include "kiln/tasks/runner.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <exception>
#include <optional>
#include <set>

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
        // Worker: ask for `units_in_flight` units, run them in order, report each result
        // (which is also the request for the next one) until the manager says done.
        std::string req;
        wire::put_u64(req, static_cast<std::uint64_t>(options.units_in_flight));
        comm.send(0, kRequest, req);
        struct Held {
            std::uint64_t unit;
            int attempt;
            std::string payload;
        };
        std::deque<Held> held;
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
        while (!done || !held.empty()) {
            if (held.empty()) {
                absorb(*comm.recv(0));
                continue;
            }
            while (auto m = comm.try_recv(0)) absorb(*m);
            Held h = std::move(held.front());
            held.pop_front();
            comm.send(0, kResult, encode_result(run_one(work, h.unit, h.attempt, h.payload)));
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
        scheduler.add_credit(0, 1);
        while (!scheduler.finished()) {
            loop.maybe_tick(false);
            for (const Grant& g : scheduler.take_grants()) {
                loop.apply(0, run_one(work, g.unit, g.attempt, payload(g.unit)));
            }
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
        for (const int w : workers) comm.send(w, kDone, {});
        while (asked.size() < workers.size()) {
            asked.insert(comm.recv(mpi::Comm::kAnySource, kRequest)->source);
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
