#include "kiln/mpi/comm.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <thread>

#include "kiln/core/error.hpp"

namespace kiln::mpi {
namespace {

bool g_mpi_active = false;

bool env_set(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0';
}

}  // namespace

bool launched_by_mpi() {
    // Open MPI's mpirun, PMIx launchers (srun --mpi=pmix, prrte), PMI-1/2 (MPICH, Hydra).
    return env_set("OMPI_COMM_WORLD_SIZE") || env_set("PMIX_RANK") || env_set("PMI_RANK") ||
           env_set("PMI_SIZE");
}

std::string library_version() {
    char buf[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    if (MPI_Get_library_version(buf, &len) != MPI_SUCCESS) return "unknown MPI";
    std::string s(buf, static_cast<std::size_t>(len));
    if (const auto nl = s.find_first_of("\n,"); nl != std::string::npos) s.resize(nl);
    return s;
}

Environment::Environment(int* argc, char*** argv, bool use_mpi) {
    if (!use_mpi) return;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        throw Error("MPI_Init_thread failed", ExitCode::kInternal);
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    active_ = true;
    g_mpi_active = true;
}

Environment::~Environment() {
    if (active_) {
        MPI_Finalize();
        g_mpi_active = false;
    }
}

bool Environment::mpi_active() noexcept { return g_mpi_active; }

struct Comm::Impl {
    MPI_Comm comm = MPI_COMM_NULL;  // MPI_COMM_NULL: single-process stand-in
    int rank = 0;
    int size = 1;
    mutable std::deque<Message> local;  // stand-in's messages to self

    void check(int rc, const char* call) const {
        if (rc == MPI_SUCCESS) return;
        char text[MPI_MAX_ERROR_STRING];
        int len = 0;
        MPI_Error_string(rc, text, &len);
        throw Error(std::string(call) + " failed on rank " + std::to_string(rank) + ": " +
                        std::string(text, static_cast<std::size_t>(len)),
                    ExitCode::kInternal);
    }
};

Comm::Comm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Comm::Comm(Comm&&) noexcept = default;
Comm& Comm::operator=(Comm&&) noexcept = default;
Comm::~Comm() = default;

Comm Comm::world() {
    if (!g_mpi_active) return single();
    auto impl = std::make_unique<Impl>();
    impl->comm = MPI_COMM_WORLD;
    impl->check(MPI_Comm_rank(MPI_COMM_WORLD, &impl->rank), "MPI_Comm_rank");
    impl->check(MPI_Comm_size(MPI_COMM_WORLD, &impl->size), "MPI_Comm_size");
    return Comm(std::move(impl));
}

Comm Comm::single() { return Comm(std::make_unique<Impl>()); }

int Comm::rank() const noexcept { return impl_->rank; }
int Comm::size() const noexcept { return impl_->size; }
bool Comm::is_mpi() const noexcept { return impl_->comm != MPI_COMM_NULL; }

void Comm::barrier() const {
    if (!is_mpi()) return;
    impl_->check(MPI_Barrier(impl_->comm), "MPI_Barrier");
}

#define KILN_REDUCE(TYPE, NAME, MPITYPE, OP)                                                     \
    TYPE Comm::NAME(TYPE value) const {                                                          \
        if (!is_mpi()) return value;                                                             \
        TYPE out{};                                                                              \
        impl_->check(MPI_Allreduce(&value, &out, 1, MPITYPE, OP, impl_->comm), "MPI_Allreduce"); \
        return out;                                                                              \
    }
KILN_REDUCE(std::int64_t, all_reduce_sum, MPI_INT64_T, MPI_SUM)
KILN_REDUCE(std::int64_t, all_reduce_max, MPI_INT64_T, MPI_MAX)
KILN_REDUCE(std::int64_t, all_reduce_min, MPI_INT64_T, MPI_MIN)
KILN_REDUCE(double, all_reduce_sum, MPI_DOUBLE, MPI_SUM)
KILN_REDUCE(double, all_reduce_max, MPI_DOUBLE, MPI_MAX)
#undef KILN_REDUCE

std::vector<std::int64_t> Comm::all_reduce_sum(std::vector<std::int64_t> values) const {
    if (!is_mpi() || values.empty()) return values;
    std::vector<std::int64_t> out(values.size());
    impl_->check(MPI_Allreduce(values.data(), out.data(), static_cast<int>(values.size()),
                               MPI_INT64_T, MPI_SUM, impl_->comm),
                 "MPI_Allreduce");
    return out;
}

void Comm::broadcast(std::string& bytes, int root) const {
    if (!is_mpi()) return;
    auto len = static_cast<std::uint64_t>(bytes.size());
    impl_->check(MPI_Bcast(&len, 1, MPI_UINT64_T, root, impl_->comm), "MPI_Bcast");
    bytes.resize(len);
    if (len > 0) {
        impl_->check(MPI_Bcast(bytes.data(), static_cast<int>(len), MPI_BYTE, root, impl_->comm),
                     "MPI_Bcast");
    }
}

std::vector<std::string> Comm::gather(std::string_view bytes, int root) const {
    if (!is_mpi()) return {std::string(bytes)};
    const int n = size();
    int len = static_cast<int>(bytes.size());
    std::vector<int> lens(rank() == root ? static_cast<std::size_t>(n) : 0);
    impl_->check(MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, root, impl_->comm),
                 "MPI_Gather");
    std::vector<int> displs;
    std::string all;
    if (rank() == root) {
        displs.resize(static_cast<std::size_t>(n));
        int total = 0;
        for (std::size_t i = 0; i < lens.size(); ++i) {
            displs[i] = total;
            total += lens[i];
        }
        all.resize(static_cast<std::size_t>(total));
    }
    impl_->check(MPI_Gatherv(bytes.data(), len, MPI_BYTE, all.data(), lens.data(), displs.data(),
                             MPI_BYTE, root, impl_->comm),
                 "MPI_Gatherv");
    std::vector<std::string> out;
    if (rank() == root) {
        for (std::size_t i = 0; i < lens.size(); ++i) {
            out.push_back(
                all.substr(static_cast<std::size_t>(displs[i]), static_cast<std::size_t>(lens[i])));
        }
    }
    return out;
}

void Comm::send(int dest, int tag, std::string_view bytes) const {
    KILN_ASSERT(tag >= 0, "message tags must be >= 0");
    if (!is_mpi()) {
        KILN_ASSERT(dest == 0, "single-process Comm can only send to rank 0");
        impl_->local.push_back(Message{0, tag, std::string(bytes)});
        return;
    }
    impl_->check(
        MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, dest, tag, impl_->comm),
        "MPI_Send");
}

std::optional<Message> Comm::try_recv(int source, int tag) const {
    if (!is_mpi()) {
        for (auto it = impl_->local.begin(); it != impl_->local.end(); ++it) {
            if ((tag == kAnyTag || it->tag == tag) && (source == kAnySource || source == 0)) {
                Message m = std::move(*it);
                impl_->local.erase(it);
                return m;
            }
        }
        return std::nullopt;
    }
    const int src = source == kAnySource ? MPI_ANY_SOURCE : source;
    const int tg = tag == kAnyTag ? MPI_ANY_TAG : tag;
    int flag = 0;
    MPI_Status status;
    impl_->check(MPI_Iprobe(src, tg, impl_->comm, &flag, &status), "MPI_Iprobe");
    if (flag == 0) return std::nullopt;
    int count = 0;
    impl_->check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
    Message m;
    m.source = status.MPI_SOURCE;
    m.tag = status.MPI_TAG;
    m.bytes.resize(static_cast<std::size_t>(count));
    impl_->check(MPI_Recv(m.bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG,
                          impl_->comm, MPI_STATUS_IGNORE),
                 "MPI_Recv");
    return m;
}

std::optional<Message> Comm::recv(int source, int tag, double timeout_s) const {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    for (int polls = 0;; ++polls) {
        if (auto m = try_recv(source, tag)) return m;
        if (!is_mpi() && timeout_s < 0) {
            throw Error("single-process Comm::recv would wait forever", ExitCode::kInternal);
        }
        if (timeout_s >= 0 &&
            std::chrono::duration<double>(Clock::now() - start).count() >= timeout_s) {
            return std::nullopt;
        }
        // Spin briefly (fast hand-offs), then back off to sleeping up to 1 ms.
        if (polls < 200) continue;
        if (polls < 400) {
            std::this_thread::yield();
        } else {
            const int us = std::min(1000, 10 * (polls - 399));
            std::this_thread::sleep_for(std::chrono::microseconds(us));
        }
    }
}

void Comm::abort(int exit_code) const {
    if (is_mpi()) MPI_Abort(impl_->comm, exit_code);
    std::_Exit(exit_code);
}

}  // namespace kiln::mpi
