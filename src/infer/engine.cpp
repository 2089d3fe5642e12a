#include "kiln/infer/engine.hpp"

#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "kiln/core/error.hpp"

namespace kiln::infer {
namespace {

using Clock = std::chrono::steady_clock;

double micros(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
}

// A batch the device has no memory for (LibTorch's "CUDA out of memory", or bad_alloc).
bool out_of_memory(const std::exception& e) {
    return dynamic_cast<const std::bad_alloc*>(&e) != nullptr ||
           std::string_view(e.what()).find("out of memory") != std::string_view::npos;
}

Matrix rows_of(const Matrix& x, std::int64_t begin, std::int64_t end) {
    const auto c = static_cast<std::size_t>(x.cols);
    const auto first =
        x.values.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(begin) * c);
    const auto last =
        x.values.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(end) * c);
    return {std::vector<float>(first, last), end - begin, x.cols};
}

// Runs `x` on `model`; a batch that runs out of memory is halved and each half retried, down
// to one row, which then fails with the model's message. Counts executions and halvings.
Matrix run_halving(Model& model, const Matrix& x, std::uint64_t& executions,
                   std::uint64_t& halvings) {
    try {
        ++executions;
        return model.run(x);
    } catch (const std::exception& e) {
        if (!out_of_memory(e) || x.rows <= 1) throw;
        ++halvings;
    }
    const std::int64_t half = x.rows / 2;
    Matrix a = run_halving(model, rows_of(x, 0, half), executions, halvings);
    const Matrix b = run_halving(model, rows_of(x, half, x.rows), executions, halvings);
    a.values.insert(a.values.end(), b.values.begin(), b.values.end());
    a.rows += b.rows;
    return a;
}

}  // namespace

namespace {

// Applies `op` to every counter of `a` with the same counter of `b`: the one list of fields
// that add and since share.
template <typename Op>
void each_counter(Metrics& a, const Metrics& b, Op op) {
    op(a.request_success, b.request_success);
    op(a.request_failure, b.request_failure);
    op(a.inference_count, b.inference_count);
    op(a.exec_count, b.exec_count);
    op(a.unique_rows, b.unique_rows);
    op(a.cache_hits, b.cache_hits);
    op(a.cache_misses, b.cache_misses);
    op(a.cache_evictions, b.cache_evictions);
    op(a.batch_halvings, b.batch_halvings);
    op(a.queue_us, b.queue_us);
    op(a.compute_input_us, b.compute_input_us);
    op(a.compute_infer_us, b.compute_infer_us);
    op(a.compute_output_us, b.compute_output_us);
}

}  // namespace

void Metrics::add(const Metrics& o) {
    each_counter(*this, o, [](auto& x, const auto& y) { x += y; });
}

Metrics Metrics::since(const Metrics& before) const {
    Metrics d = *this;
    each_counter(d, before, [](auto& x, const auto& y) { x -= y; });
    return d;
}

nlohmann::json Metrics::to_json() const {
    return {{"nv_inference_request_success", request_success},
            {"nv_inference_request_failure", request_failure},
            {"nv_inference_count", inference_count},
            {"nv_inference_exec_count", exec_count},
            {"nv_inference_queue_duration_us", queue_us},
            {"nv_inference_compute_input_duration_us", compute_input_us},
            {"nv_inference_compute_infer_duration_us", compute_infer_us},
            {"nv_inference_compute_output_duration_us", compute_output_us},
            {"nv_cache_num_hits_per_model", cache_hits},
            {"nv_cache_num_misses_per_model", cache_misses},
            {"kiln_cache_evictions", cache_evictions},
            {"kiln_batch_halvings", batch_halvings},
            {"kiln_unique_rows", unique_rows}};
}

Metrics Metrics::from_json(const nlohmann::json& j) {
    Metrics m;
    m.request_success = j.value("nv_inference_request_success", std::uint64_t{0});
    m.request_failure = j.value("nv_inference_request_failure", std::uint64_t{0});
    m.inference_count = j.value("nv_inference_count", std::uint64_t{0});
    m.exec_count = j.value("nv_inference_exec_count", std::uint64_t{0});
    m.queue_us = j.value("nv_inference_queue_duration_us", 0.0);
    m.compute_input_us = j.value("nv_inference_compute_input_duration_us", 0.0);
    m.compute_infer_us = j.value("nv_inference_compute_infer_duration_us", 0.0);
    m.compute_output_us = j.value("nv_inference_compute_output_duration_us", 0.0);
    m.cache_hits = j.value("nv_cache_num_hits_per_model", std::uint64_t{0});
    m.cache_misses = j.value("nv_cache_num_misses_per_model", std::uint64_t{0});
    m.cache_evictions = j.value("kiln_cache_evictions", std::uint64_t{0});
    m.batch_halvings = j.value("kiln_batch_halvings", std::uint64_t{0});
    m.unique_rows = j.value("kiln_unique_rows", std::uint64_t{0});
    return m;
}

Engine::Engine(ReplicaLoader load_replica, const std::string& model_sha256,
               const std::string& featurizer, std::int64_t input_columns,
               std::int64_t output_columns, const EngineOptions& options)
    : load_replica_(std::move(load_replica)),
      keys_(model_sha256, featurizer),
      input_columns_(input_columns),
      output_columns_(output_columns),
      options_(options) {
    if (options.replicas < 1) throw ConfigError("--replicas must be >= 1");
    if (options.batch_max < 1) throw ConfigError("--batch-max must be >= 1");
    if (options.cache)
        cache_ = std::make_unique<ResultCache>(options.cache_bytes,
                                               static_cast<std::size_t>(output_columns));
}

Matrix Engine::predict(const Matrix& rows) {
    const auto t_begin = Clock::now();
    const auto in_cols = static_cast<std::size_t>(input_columns_);
    const auto out_cols = static_cast<std::size_t>(output_columns_);
    const auto n = static_cast<std::size_t>(rows.rows);
    Matrix out{std::vector<float>(n * out_cols), rows.rows, output_columns_};
    metrics_.inference_count += n;

    // Unique rows by key; each remembers the first input row that has it.
    std::vector<std::size_t> unique_of(n);
    std::vector<std::size_t> unique_first;
    std::vector<Hash128> unique_key;
    {
        std::unordered_map<Hash128, std::size_t, CacheKeyHash> seen;
        seen.reserve(n);
        for (std::size_t r = 0; r < n; ++r) {
            const Hash128 k = keys_.key({rows.values.data() + r * in_cols, in_cols});
            const auto [it, fresh] = seen.emplace(k, unique_first.size());
            if (fresh) {
                unique_first.push_back(r);
                unique_key.push_back(k);
            }
            unique_of[r] = it->second;
        }
    }
    const std::size_t u = unique_first.size();
    metrics_.unique_rows += u;

    // The cache answers what it knows; the rest are misses, gathered into one matrix.
    std::vector<float> unique_out(u * out_cols);
    std::vector<std::size_t> misses;
    for (std::size_t i = 0; i < u; ++i) {
        if (cache_ && cache_->lookup(unique_key[i], {unique_out.data() + i * out_cols, out_cols}))
            continue;
        misses.push_back(i);
    }
    if (cache_) {
        metrics_.cache_hits = cache_->counters().hits;
        metrics_.cache_misses = cache_->counters().misses;
    }
    const auto t_gathered = Clock::now();

    // Batches of the misses over the replicas: each replica thread takes the next batch.
    const auto batch = static_cast<std::size_t>(options_.batch_max);
    const std::size_t batches = (misses.size() + batch - 1) / batch;
    if (batches > 0 && replicas_.empty()) {
        for (int r = 0; r < options_.replicas; ++r) replicas_.push_back(load_replica_());
    }
    std::atomic<std::size_t> next{0};
    std::mutex mutex;
    std::exception_ptr failure;
    double queue_us = 0, input_us = 0, infer_us = 0;
    auto replica_loop = [&](std::size_t r) {
        for (std::size_t b; (b = next.fetch_add(1)) < batches;) {
            const auto t0 = Clock::now();
            const std::size_t begin = b * batch;
            const std::size_t end = std::min(misses.size(), begin + batch);
            Matrix x{std::vector<float>((end - begin) * in_cols),
                     static_cast<std::int64_t>(end - begin), input_columns_};
            for (std::size_t i = begin; i < end; ++i)
                std::memcpy(x.values.data() + (i - begin) * in_cols,
                            rows.values.data() + unique_first[misses[i]] * in_cols,
                            in_cols * sizeof(float));
            const auto t1 = Clock::now();
            Matrix y;
            std::uint64_t executions = 0, halvings = 0;
            try {
                y = run_halving(*replicas_[r], x, executions, halvings);
                if (y.rows != x.rows || y.cols != output_columns_)
                    throw DataError("the model gave (" + std::to_string(y.rows) + ", " +
                                    std::to_string(y.cols) + ") for a batch of " +
                                    std::to_string(x.rows) + " rows, expected (" +
                                    std::to_string(x.rows) + ", " +
                                    std::to_string(output_columns_) + ")");
            } catch (...) {
                const std::lock_guard lock(mutex);
                if (!failure) failure = std::current_exception();
                next = batches;  // stop handing out batches
                return;
            }
            const auto t2 = Clock::now();
            for (std::size_t i = begin; i < end; ++i)
                std::memcpy(unique_out.data() + misses[i] * out_cols,
                            y.values.data() + (i - begin) * out_cols, out_cols * sizeof(float));
            const std::lock_guard lock(mutex);
            queue_us += micros(t_gathered, t0);
            input_us += micros(t0, t1);
            infer_us += micros(t1, t2);
            metrics_.exec_count += executions;
            metrics_.batch_halvings += halvings;
        }
    };
    const std::size_t threads = std::min<std::size_t>(replicas_.size(), batches);
    if (threads <= 1) {
        if (batches > 0) replica_loop(0);
    } else {
        std::vector<std::thread> pool;
        for (std::size_t r = 0; r < threads; ++r) pool.emplace_back(replica_loop, r);
        for (auto& t : pool) t.join();
    }
    metrics_.queue_us += queue_us;
    metrics_.compute_input_us += input_us + micros(t_begin, t_gathered);
    metrics_.compute_infer_us += infer_us;
    if (failure) {
        ++metrics_.request_failure;
        std::rethrow_exception(failure);
    }

    // Remember the new results; scatter to every input row.
    const auto t_out = Clock::now();
    if (cache_) {
        for (const std::size_t i : misses)
            cache_->insert(unique_key[i], {unique_out.data() + i * out_cols, out_cols});
        metrics_.cache_evictions = cache_->counters().evictions;
    }
    for (std::size_t r = 0; r < n; ++r)
        std::memcpy(out.values.data() + r * out_cols, unique_out.data() + unique_of[r] * out_cols,
                    out_cols * sizeof(float));
    metrics_.compute_output_us += micros(t_out, Clock::now());
    ++metrics_.request_success;
    return out;
}

}  // namespace kiln::infer
