// The inference engine of one rank: R replicas of a model (each its own loaded module, run on
// its own thread), the rank's result cache, and a dynamic batcher between them (Triton's
// design). `predict` takes a unit's featurized rows, drops duplicate rows, answers what the
// cache knows and queues the misses; each replica thread takes up to batch_max queued rows
// at a time, from one or several predict calls running at once (units in flight on the
// rank), waiting up to batch_delay_us for a batch to fill. Outputs come back in input order.
// A batch that runs out of device memory is halved and retried, down to one row, before it
// fails; it then fails every predict call that had rows in it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiln/infer/backend.hpp"
#include "kiln/infer/cache.hpp"

namespace kiln::infer {

struct EngineOptions {
    int replicas = 1;
    std::int64_t batch_max = 65536;  // rows per model execution
    // How long a replica with fewer than batch_max rows queued waits for more before it runs
    // them (Triton's max_queue_delay_microseconds); 0 runs what is queued at once.
    std::int64_t batch_delay_us = 0;
    // Batches of zeros each replica runs when it loads, before the first timed batch:
    // LibTorch's profiling executor, CUDA's context, cuBLAS handles and the caching allocator
    // settle there. Their time is kept apart (kiln_warmup_duration_us).
    int warmup_batches = 2;
    std::string device = "cpu";
    int threads = 1;  // LibTorch intra-op threads of the process
    bool cache = true;
    std::size_t cache_bytes = std::size_t{1} << 30;
};

/// Counters with Triton's names (durations in microseconds, summed over batches).
struct Metrics {
    std::uint64_t request_success = 0;  // predict calls that succeeded
    std::uint64_t request_failure = 0;
    std::uint64_t inference_count = 0;  // rows asked for
    std::uint64_t exec_count = 0;       // model executions (batches)
    std::uint64_t unique_rows = 0;      // after dropping duplicates inside a call
    std::uint64_t cache_hits = 0, cache_misses = 0, cache_evictions = 0;
    std::uint64_t batch_halvings = 0;  // batches split in two after running out of memory
    std::uint64_t warmup_count = 0;    // warm-up executions (not in exec_count)
    double queue_us = 0, compute_input_us = 0, compute_infer_us = 0, compute_output_us = 0;
    double warmup_us = 0;

    void add(const Metrics& other);
    /// {"nv_inference_count": ..., ...} with Triton's metric names.
    [[nodiscard]] nlohmann::json to_json() const;
    [[nodiscard]] static Metrics from_json(const nlohmann::json& j);
};

/// Loads one replica (a model copy); called `replicas` times, at the first batch to run, so a
/// run that the cache answers completely never loads the backend or the model.
using ReplicaLoader = std::function<std::unique_ptr<Model>()>;

class Engine {
public:
    Engine(ReplicaLoader load_replica, const std::string& model_sha256,
           const std::string& featurizer, std::int64_t input_columns, std::int64_t output_columns,
           const EngineOptions& options);
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;
    ~Engine();

    /// Outputs (rows × output_columns) of `rows` (rows × input_columns), in input order.
    /// Thread-safe: calls running at once share batches. Adds this call's counters to `mine`
    /// when given (a batch shared by several calls counts for the call of its first row).
    /// Throws std::exception with the model's message when a batch with its rows fails.
    [[nodiscard]] Matrix predict(const Matrix& rows, Metrics* mine = nullptr);

    /// Every call's counters so far.
    [[nodiscard]] Metrics metrics() const;
    /// The result cache, or nullptr with options.cache off. Not while predict runs.
    [[nodiscard]] ResultCache* cache() noexcept { return cache_.get(); }

private:
    struct Request;
    struct Piece;
    void start_replicas(Metrics& call);
    void serve(Model& model);
    void run_batch(Model& model, const std::vector<Piece>& pieces, std::size_t rows,
                   std::chrono::steady_clock::time_point taken);

    ReplicaLoader load_replica_;
    CacheKeyMaker keys_;
    std::int64_t input_columns_, output_columns_;
    EngineOptions options_;

    mutable std::mutex mutex_;  // everything below
    std::unique_ptr<ResultCache> cache_;
    Metrics metrics_;
    std::deque<Request*> queue_;  // requests with rows not yet taken into a batch
    std::size_t queued_rows_ = 0;
    bool stopping_ = false;
    std::condition_variable work_ready_, work_done_;
    std::vector<std::unique_ptr<Model>> replicas_;
    std::vector<std::thread> threads_;
    std::once_flag started_;
};

}  // namespace kiln::infer
