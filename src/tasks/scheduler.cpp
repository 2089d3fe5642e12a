#include "kiln/tasks/scheduler.hpp"

#include <algorithm>
#include <utility>

#include "kiln/core/error.hpp"

namespace kiln::tasks {

Scheduler::Scheduler(std::vector<std::uint64_t> units, std::vector<int> workers, int max_attempts)
    : pending_(units.begin(), units.end()),
      workers_(std::move(workers)),
      max_attempts_(std::max(1, max_attempts)) {
    KILN_ASSERT(!workers_.empty(), "a scheduler needs at least one worker");
    for (const int w : workers_) credits_[w] = 0;
}

void Scheduler::add_credit(int worker, int count) {
    KILN_ASSERT(credits_.count(worker) == 1, "credit from unknown worker");
    credits_[worker] += count;
}

void Scheduler::on_result(int worker, std::uint64_t unit, bool ok, const std::string& message) {
    const auto it = in_flight_.find(unit);
    KILN_ASSERT(it != in_flight_.end() && it->second.worker == worker,
                "result for unit " + std::to_string(unit) + " that worker " +
                    std::to_string(worker) + " does not hold");
    in_flight_.erase(it);
    credits_[worker] += 1;
    if (ok) {
        ++done_;
        return;
    }
    failed_on_[unit].insert(worker);
    if (attempts_[unit] < max_attempts_ && !stopped_) {
        ++retries_;
        pending_.push_front(unit);
    } else {
        failed_[unit] = message;
    }
}

void Scheduler::stop() { stopped_ = true; }

std::vector<Grant> Scheduler::take_grants() {
    std::vector<Grant> grants;
    if (stopped_) return grants;
    const std::size_t nw = workers_.size();
    bool progress = true;
    while (!pending_.empty() && progress) {
        progress = false;
        for (std::size_t k = 0; k < nw && !pending_.empty(); ++k) {
            const int w = workers_[(next_worker_ + k) % nw];
            if (credits_[w] <= 0) continue;
            // First pending unit this worker has not failed; if every worker with credit
            // has failed it, any worker may take it (a one-worker job still retries).
            auto pick = pending_.end();
            for (auto it = pending_.begin(); it != pending_.end(); ++it) {
                const auto f = failed_on_.find(*it);
                const bool failed_here = f != failed_on_.end() && f->second.count(w) == 1;
                const bool others_left =
                    f != failed_on_.end() && f->second.size() < workers_.size();
                if (!failed_here || !others_left) {
                    pick = it;
                    break;
                }
            }
            if (pick == pending_.end()) continue;
            const std::uint64_t unit = *pick;
            pending_.erase(pick);
            const int attempt = ++attempts_[unit];
            in_flight_[unit] = Flight{w, attempt};
            credits_[w] -= 1;
            grants.push_back(Grant{w, unit, attempt});
            next_worker_ = (next_worker_ + k + 1) % nw;
            progress = true;
            break;
        }
    }
    return grants;
}

bool Scheduler::finished() const noexcept {
    return in_flight_.empty() && (pending_.empty() || stopped_);
}

}  // namespace kiln::tasks
