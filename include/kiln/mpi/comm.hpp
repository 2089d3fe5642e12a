// kiln::mpi::Comm: the only way kiln code talks MPI.
//
// Move-only, typed collectives, every MPI return code checked and turned into a kiln::Error
// naming the rank and the call. Without a launcher (or in tests) a single-process
// implementation stands in: rank 0 of 1, collectives are identities, and messages sent to
// rank 0 queue locally. Only src/mpi/ includes <mpi.h>.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::mpi {

/// True when an MPI launcher (mpirun, mpiexec, srun --mpi=pmix) started this process; read
/// from the environment, so it costs nothing and does not initialise MPI.
[[nodiscard]] bool launched_by_mpi();

/// "Open MPI v4.1.4, ..." (MPI_Get_library_version, first line); callable without init.
[[nodiscard]] std::string library_version();

/// RAII MPI_Init_thread(FUNNELED) / MPI_Finalize. With `use_mpi` false it does nothing and
/// Comm::world() is the single-process stand-in. One per process, in main.
class Environment {
public:
    Environment(int* argc, char*** argv, bool use_mpi);
    ~Environment();
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;

    [[nodiscard]] bool active() const noexcept { return active_; }
    /// Whether an Environment with MPI is alive in this process.
    [[nodiscard]] static bool mpi_active() noexcept;

private:
    bool active_ = false;
};

/// A received point-to-point message.
struct Message {
    int source = 0;
    int tag = 0;
    std::string bytes;
};

/// A communicator. Move-only; rank() and size() never change. Methods documented
/// "Collective" must be called by every rank of the communicator in the same order.
/// Not thread-safe: call from one thread (the one that initialised MPI).
class Comm {
public:
    static constexpr int kAnySource = -1;
    static constexpr int kAnyTag = -1;

    /// MPI_COMM_WORLD when an Environment with MPI is active, else the single-process stand-in.
    static Comm world();
    /// The single-process stand-in (rank 0 of 1), whatever the environment.
    static Comm single();

    Comm(Comm&&) noexcept;
    Comm& operator=(Comm&&) noexcept;
    Comm(const Comm&) = delete;
    Comm& operator=(const Comm&) = delete;
    ~Comm();

    [[nodiscard]] int rank() const noexcept;
    [[nodiscard]] int size() const noexcept;
    /// Whether this communicator is backed by MPI (false for the stand-in).
    [[nodiscard]] bool is_mpi() const noexcept;

    /// Collective: waits until every rank arrives.
    void barrier() const;
    /// Collective: element-wise sum / max / min over ranks; every rank gets the result.
    [[nodiscard]] std::int64_t all_reduce_sum(std::int64_t value) const;
    [[nodiscard]] std::int64_t all_reduce_max(std::int64_t value) const;
    [[nodiscard]] std::int64_t all_reduce_min(std::int64_t value) const;
    [[nodiscard]] double all_reduce_sum(double value) const;
    [[nodiscard]] double all_reduce_max(double value) const;
    [[nodiscard]] std::vector<std::int64_t> all_reduce_sum(std::vector<std::int64_t> values) const;
    /// Collective: `bytes` of rank `root` replaces `bytes` on every other rank.
    void broadcast(std::string& bytes, int root) const;
    /// Collective: rank `root` gets every rank's bytes in rank order; other ranks get {}.
    [[nodiscard]] std::vector<std::string> gather(std::string_view bytes, int root) const;

    /// Sends `bytes` to rank `dest` with `tag` (>= 0). Returns when the buffer may be reused.
    void send(int dest, int tag, std::string_view bytes) const;
    /// Receives one message if one is waiting (from `source` with `tag`, or any), else nullopt.
    [[nodiscard]] std::optional<Message> try_recv(int source = kAnySource, int tag = kAnyTag) const;
    /// Blocks until a message arrives or `timeout_s` passes (negative: no timeout). Polls with
    /// backoff so an idle rank does not hold a core on oversubscribed nodes.
    [[nodiscard]] std::optional<Message> recv(int source = kAnySource, int tag = kAnyTag,
                                              double timeout_s = -1) const;

    /// Ends every rank of the job with `exit_code` (MPI_Abort), or the process when single.
    [[noreturn]] void abort(int exit_code) const;

private:
    struct Impl;
    explicit Comm(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::mpi
