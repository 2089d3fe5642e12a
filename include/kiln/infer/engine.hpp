// The inference engine of one rank: R replicas of a model (each its own loaded module, run on
// its own thread), the rank's result cache, and the batching between them. `predict` takes a
// unit's featurized rows, drops duplicate rows, answers what the cache knows, cuts the misses
// into batches of at most batch_max rows, runs the batches on the replicas concurrently, and
// returns every row's output in input order. A batch that runs out of device memory is
// halved and retried, down to one row, before it fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiln/infer/backend.hpp"
#include "kiln/infer/cache.hpp"

namespace kiln::infer {

struct EngineOptions {
    int replicas = 1;
    std::int64_t batch_max = 65536;  // rows per model execution
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
    double queue_us = 0, compute_input_us = 0, compute_infer_us = 0, compute_output_us = 0;

    void add(const Metrics& other);
    /// These counters minus `before` (what happened since it was taken).
    [[nodiscard]] Metrics since(const Metrics& before) const;
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

    /// Outputs (rows × output_columns) of `rows` (rows × input_columns), in input order.
    /// Throws std::exception with the model's message when a batch fails.
    [[nodiscard]] Matrix predict(const Matrix& rows);

    [[nodiscard]] const Metrics& metrics() const noexcept { return metrics_; }
    /// The result cache, or nullptr with options.cache off.
    [[nodiscard]] ResultCache* cache() noexcept { return cache_.get(); }

private:
    ReplicaLoader load_replica_;
    std::vector<std::unique_ptr<Model>> replicas_;
    CacheKeyMaker keys_;
    std::unique_ptr<ResultCache> cache_;
    std::int64_t input_columns_, output_columns_;
    EngineOptions options_;
    Metrics metrics_;
};

}  // namespace kiln::infer
