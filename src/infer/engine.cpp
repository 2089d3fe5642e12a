#include "kiln/infer/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "kiln/core/error.hpp"
#include "kiln/core/log.hpp"

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

// Applies `op` to every counter of `a` with the same counter of `b`: the one list of fields.
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
    op(a.warmup_count, b.warmup_count);
    op(a.queue_us, b.queue_us);
    op(a.compute_input_us, b.compute_input_us);
    op(a.compute_infer_us, b.compute_infer_us);
    op(a.compute_output_us, b.compute_output_us);
    op(a.warmup_us, b.warmup_us);
}

}  // namespace

void Metrics::add(const Metrics& o) {
    each_counter(*this, o, [](auto& x, const auto& y) { x += y; });
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
            {"kiln_warmup_count", warmup_count},
            {"kiln_warmup_duration_us", warmup_us},
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
    m.warmup_count = j.value("kiln_warmup_count", std::uint64_t{0});
    m.warmup_us = j.value("kiln_warmup_duration_us", 0.0);
    m.unique_rows = j.value("kiln_unique_rows", std::uint64_t{0});
    return m;
}

struct Engine::Request {
    // Row k of the request is row input_row[k] of `input` (input_columns wide); its output
    // goes to row output_row[k] of `output` (output_columns wide). Read in place, not copied.
    const float* input = nullptr;
    const std::size_t* input_row = nullptr;
    float* output = nullptr;
    const std::size_t* output_row = nullptr;
    std::size_t n = 0, taken = 0, finished = 0;
    std::exception_ptr error;
    Clock::time_point queued;
    Metrics* metrics = nullptr;  // the call's counters
};

// Rows [begin, begin + count) of a request, inside one batch.
struct Engine::Piece {
    Request* request = nullptr;
    std::size_t begin = 0, count = 0;
};

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
    if (options.batch_delay_us < 0) throw ConfigError("--batch-delay-us must be >= 0");
    if (options.warmup_batches < 0) throw ConfigError("--warmup-batches must be >= 0");
    if (options.cache)
        cache_ = std::make_unique<ResultCache>(options.cache_bytes,
                                               static_cast<std::size_t>(output_columns));
}

Engine::~Engine() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_ready_.notify_all();
    for (auto& t : threads_) t.join();
}

Metrics Engine::metrics() const {
    const std::lock_guard lock(mutex_);
    return metrics_;
}

namespace {

// Runs `warmup_batches` batches of zero rows on a freshly loaded replica: batch_max rows on a
// GPU (the caching allocator then holds a block of the largest size), at most 64 on a CPU,
// where the cost of a first call is LibTorch's profiling of the graph, not the batch size.
// A failing warm-up is only a warning: the real batches report the model's error.
void warm_up(Model& model, std::int64_t columns, const EngineOptions& o, Metrics& call) {
    const bool gpu = model.device().starts_with("cuda");
    const std::int64_t rows = gpu ? o.batch_max : std::min<std::int64_t>(o.batch_max, 64);
    const Matrix zeros{std::vector<float>(static_cast<std::size_t>(rows * columns), 0.0F), rows,
                       columns};
    for (int b = 0; b < o.warmup_batches; ++b) {
        const auto t0 = Clock::now();
        try {
            (void)model.run(zeros);
        } catch (const std::exception& e) {
            log::warn(std::string("a warm-up batch failed (real batches will report it): ") +
                      e.what());
            return;
        }
        ++call.warmup_count;
        call.warmup_us += micros(t0, Clock::now());
    }
}

}  // namespace

void Engine::start_replicas(Metrics& call) {
    std::call_once(started_, [&] {
        std::vector<std::unique_ptr<Model>> loaded;
        for (int r = 0; r < options_.replicas; ++r) {
            loaded.push_back(load_replica_());
            warm_up(*loaded.back(), input_columns_, options_, call);
        }
        const std::lock_guard lock(mutex_);
        replicas_ = std::move(loaded);
        for (const auto& m : replicas_)
            threads_.emplace_back([this, model = m.get()] { serve(*model); });
    });
}

// A replica's thread: takes up to batch_max queued rows (waiting up to batch_delay_us for
// that many), runs them, repeats until the engine stops.
void Engine::serve(Model& model) {
    const auto batch = static_cast<std::size_t>(options_.batch_max);
    const std::chrono::microseconds delay(options_.batch_delay_us);
    std::unique_lock lock(mutex_);
    for (;;) {
        work_ready_.wait(lock, [&] { return stopping_ || queued_rows_ > 0; });
        if (queued_rows_ == 0) return;  // stopping, nothing left
        if (queued_rows_ < batch && delay.count() > 0) {
            work_ready_.wait_until(lock, queue_.front()->queued + delay, [&] {
                return stopping_ || queued_rows_ >= batch || queued_rows_ == 0;
            });
            if (queued_rows_ == 0) continue;  // another replica took them
        }
        std::vector<Piece> pieces;
        std::size_t rows = 0;
        while (rows < batch && !queue_.empty()) {
            Request* q = queue_.front();
            const std::size_t k = std::min(batch - rows, q->n - q->taken);
            pieces.push_back({q, q->taken, k});
            q->taken += k;
            rows += k;
            if (q->taken == q->n) queue_.pop_front();
        }
        queued_rows_ -= rows;
        if (queued_rows_ > 0) work_ready_.notify_one();
        const auto taken = Clock::now();
        lock.unlock();
        run_batch(model, pieces, rows, taken);
        lock.lock();
    }
}

void Engine::run_batch(Model& model, const std::vector<Piece>& pieces, std::size_t rows,
                       Clock::time_point taken) {
    const auto in_cols = static_cast<std::size_t>(input_columns_);
    const auto out_cols = static_cast<std::size_t>(output_columns_);
    auto t1 = Clock::now();
    Matrix y;
    std::uint64_t executions = 0, halvings = 0;
    std::optional<Status> error;
    try {  // nothing may escape a replica's thread: every failure goes to the calls
        Matrix x{std::vector<float>(rows * in_cols), static_cast<std::int64_t>(rows),
                 input_columns_};
        std::size_t at = 0;
        for (const Piece& p : pieces) {
            for (std::size_t k = p.begin; k < p.begin + p.count; ++k, ++at)
                std::memcpy(x.values.data() + at * in_cols,
                            p.request->input + p.request->input_row[k] * in_cols,
                            in_cols * sizeof(float));
        }
        t1 = Clock::now();
        y = run_halving(model, x, executions, halvings);
        if (y.rows != x.rows || y.cols != output_columns_)
            throw DataError("the model gave (" + std::to_string(y.rows) + ", " +
                            std::to_string(y.cols) + ") for a batch of " + std::to_string(x.rows) +
                            " rows, expected (" + std::to_string(x.rows) + ", " +
                            std::to_string(output_columns_) + ")");
    } catch (...) {
        error = Status::from_current_exception();
    }
    const auto t2 = Clock::now();
    if (!error) {  // each piece's rows are its request's alone: no lock needed
        std::size_t at = 0;
        for (const Piece& p : pieces) {
            for (std::size_t k = p.begin; k < p.begin + p.count; ++k, ++at)
                std::memcpy(p.request->output + p.request->output_row[k] * out_cols,
                            y.values.data() + at * out_cols, out_cols * sizeof(float));
        }
    }
    const std::lock_guard lock(mutex_);
    Metrics& owner = *pieces.front().request->metrics;
    owner.exec_count += executions;
    owner.batch_halvings += halvings;
    owner.compute_input_us += micros(taken, t1);
    owner.compute_infer_us += micros(t1, t2);
    for (const Piece& p : pieces) {
        p.request->metrics->queue_us += micros(p.request->queued, taken);
        p.request->finished += p.count;
        // Each failed call gets an exception of its own (they are rethrown on their threads).
        if (error && !p.request->error)
            p.request->error = std::make_exception_ptr(Error(error->message, error->code));
    }
    if (error) {  // the failed requests' rows still queued will not run
        std::erase_if(queue_, [&](Request* q) {
            if (!q->error) return false;
            queued_rows_ -= q->n - q->taken;
            q->finished += q->n - q->taken;
            q->taken = q->n;
            return true;
        });
    }
    work_done_.notify_all();
}

Matrix Engine::predict(const Matrix& rows, Metrics* mine) {
    const auto t_begin = Clock::now();
    const auto in_cols = static_cast<std::size_t>(input_columns_);
    const auto out_cols = static_cast<std::size_t>(output_columns_);
    const auto n = static_cast<std::size_t>(rows.rows);
    Matrix out{std::vector<float>(n * out_cols), rows.rows, output_columns_};
    Metrics call;
    call.inference_count = n;

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
    call.unique_rows = u;

    // The cache answers what it knows; the misses go to the replicas by row number.
    std::vector<float> unique_out(u * out_cols);
    std::vector<std::size_t> misses;
    {
        const std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < u; ++i) {
            if (cache_ &&
                cache_->lookup(unique_key[i], {unique_out.data() + i * out_cols, out_cols}))
                continue;
            misses.push_back(i);
        }
    }
    if (cache_) {
        call.cache_misses = misses.size();
        call.cache_hits = u - misses.size();
    }
    std::vector<std::size_t> miss_input_row(misses.size());
    for (std::size_t i = 0; i < misses.size(); ++i) miss_input_row[i] = unique_first[misses[i]];
    call.compute_input_us += micros(t_begin, Clock::now());

    // The misses go to the replicas' queue; this call waits for all of its rows.
    std::exception_ptr failure;
    if (!misses.empty()) {
        try {
            start_replicas(call);
        } catch (...) {
            failure = std::current_exception();
        }
    }
    if (!misses.empty() && !failure) {
        Request q;
        q.input = rows.values.data();
        q.input_row = miss_input_row.data();
        q.output = unique_out.data();  // the replicas write each miss's row in place
        q.output_row = misses.data();
        q.n = misses.size();
        q.metrics = &call;
        std::unique_lock lock(mutex_);
        q.queued = Clock::now();
        queue_.push_back(&q);
        queued_rows_ += q.n;
        work_ready_.notify_all();
        work_done_.wait(lock, [&] { return q.finished == q.n; });
        failure = q.error;
    }

    // Remember the new results; scatter to every input row.
    const auto t_out = Clock::now();
    const std::lock_guard lock(mutex_);
    if (failure) {
        ++call.request_failure;
        metrics_.add(call);
        if (mine != nullptr) mine->add(call);
        std::rethrow_exception(failure);
    }
    if (cache_) {
        const std::uint64_t evictions = cache_->counters().evictions;
        for (std::size_t i = 0; i < misses.size(); ++i)
            cache_->insert(unique_key[misses[i]],
                           {unique_out.data() + misses[i] * out_cols, out_cols});
        call.cache_evictions = cache_->counters().evictions - evictions;
    }
    for (std::size_t r = 0; r < n; ++r)
        std::memcpy(out.values.data() + r * out_cols, unique_out.data() + unique_of[r] * out_cols,
                    out_cols * sizeof(float));
    call.compute_output_us += micros(t_out, Clock::now());
    ++call.request_success;
    metrics_.add(call);
    if (mine != nullptr) mine->add(call);
    return out;
}

}  // namespace kiln::infer
