#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <thread>

#include "kiln/core/error.hpp"
#include "kiln/infer/cache.hpp"
#include "kiln/infer/engine.hpp"
#include "kiln/store/predictions.hpp"

namespace kiln::infer {
namespace {

// A model without LibTorch: output = sum of the row; throws on a row whose first value is 99.
class SumModel final : public Model {
public:
    SumModel(std::atomic<int>& batches, std::int64_t memory_rows)
        : batches_(batches), memory_rows_(memory_rows) {}
    Matrix run(const Matrix& in) override {
        ++batches_;
        if (in.rows > memory_rows_) throw std::runtime_error("CUDA out of memory (test)");
        Matrix out{std::vector<float>(static_cast<std::size_t>(in.rows)), in.rows, 1};
        for (std::int64_t r = 0; r < in.rows; ++r) {
            const float* row = in.values.data() + r * in.cols;
            if (row[0] == 99) throw std::runtime_error("row refused");
            out.values[static_cast<std::size_t>(r)] = std::accumulate(row, row + in.cols, 0.0F);
        }
        return out;
    }

private:
    std::atomic<int>& batches_;
    std::int64_t memory_rows_;
};

class SumBackend final : public Backend {
public:
    std::string name() const override { return "sum"; }
    std::string version() const override { return "0"; }
    int cuda_devices() const override { return 0; }
    std::unique_ptr<Model> load(const std::filesystem::path&, const std::string&, int) override {
        ++loads;
        return std::make_unique<SumModel>(batches, memory_rows);
    }
    TrainReport train(const TrainSpec&, const TrainSet&, const TrainSet&, const TrainSet&,
                      const std::filesystem::path&) override {
        throw std::logic_error("not here");
    }
    std::atomic<int> batches{0};
    std::atomic<int> loads{0};  // replicas load on their own threads
    std::int64_t memory_rows = 1 << 30;
};

ReplicaLoader loader(SumBackend& b) {
    return [&b] { return b.load("m.pt", "cpu", 1); };
}

Matrix rows(std::initializer_list<std::initializer_list<float>> r) {
    Matrix m{{}, 0, 2};
    for (const auto& row : r) {
        m.values.insert(m.values.end(), row);
        ++m.rows;
    }
    return m;
}

TEST(Engine, DeduplicatesCachesBatchesAndKeepsOrder) {
    SumBackend b;
    EngineOptions o;
    o.replicas = 2;
    o.batch_max = 2;
    Engine e(loader(b), "sha", "f", 2, 1, o);
    EXPECT_EQ(b.loads.load(), 0);  // replicas load at the first batch
    const auto y = e.predict(rows({{1, 2}, {3, 4}, {1, 2}, {5, 6}, {7, 8}, {3, 4}}));
    EXPECT_EQ(b.loads.load(), 2);
    EXPECT_EQ(y.values, (std::vector<float>{3, 7, 3, 11, 15, 7}));
    EXPECT_EQ(e.metrics().unique_rows, 4U);
    EXPECT_EQ(e.metrics().exec_count, 2U);  // 4 unique misses in batches of 2
    EXPECT_EQ(e.metrics().cache_misses, 4U);
    const auto again = e.predict(rows({{5, 6}, {9, 9}}));
    EXPECT_EQ(again.values, (std::vector<float>{11, 18}));
    EXPECT_EQ(e.metrics().cache_hits, 1U);
    EXPECT_EQ(e.metrics().exec_count, 3U);
    EXPECT_EQ(e.metrics().inference_count, 8U);
}

// Many small batches over 4 replica threads, repeated rows, a third round equal to the first
// (answered by the cache): every output lands at its input's place (run under
// ThreadSanitizer by scripts/test.sh).
TEST(Engine, ManyBatchesOverReplicaThreadsKeepOrder) {
    SumBackend b;
    EngineOptions o;
    o.replicas = 4;
    o.batch_max = 7;
    Engine e(loader(b), "sha", "f", 2, 1, o);
    for (int round = 0; round < 3; ++round) {
        Matrix in{{}, 0, 2};
        std::vector<float> want;
        for (int i = 0; i < 3000; ++i) {
            const auto a = static_cast<float>(100 + (i * 37 + round % 2) % 1000);  // never 99
            const auto c = static_cast<float>(i % 13);
            in.values.insert(in.values.end(), {a, c});
            ++in.rows;
            want.push_back(a + c);
        }
        EXPECT_EQ(e.predict(in).values, want) << "round " << round;
    }
    EXPECT_EQ(b.loads.load(), 4);
    EXPECT_GT(e.metrics().cache_hits, 0U);
}

TEST(Engine, WithoutCacheEveryCallRuns) {
    SumBackend b;
    EngineOptions o;
    o.cache = false;
    Engine e(loader(b), "sha", "f", 2, 1, o);
    (void)e.predict(rows({{1, 2}}));
    (void)e.predict(rows({{1, 2}}));
    EXPECT_EQ(e.metrics().exec_count, 2U);
    EXPECT_EQ(e.cache(), nullptr);
}

TEST(Engine, AFailingBatchThrowsTheModelsMessage) {
    SumBackend b;
    EngineOptions o;
    o.replicas = 2;
    o.batch_max = 1;
    Engine e(loader(b), "sha", "f", 2, 1, o);
    try {
        (void)e.predict(rows({{1, 2}, {99, 0}, {3, 4}}));
        FAIL() << "no exception";
    } catch (const std::runtime_error& err) {
        EXPECT_STREQ(err.what(), "row refused");
    }
    EXPECT_EQ(e.metrics().request_failure, 1U);
}

TEST(Engine, OutOfMemoryHalvesTheBatchThenFailsClearly) {
    SumBackend b;
    b.memory_rows = 2;
    EngineOptions o;
    o.batch_max = 8;
    o.cache = false;
    Engine e(loader(b), "sha", "f", 2, 1, o);
    const auto y = e.predict(rows({{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}, {7, 7}}));
    EXPECT_EQ(y.values, (std::vector<float>{2, 4, 6, 8, 10, 12, 14}));
    EXPECT_EQ(e.metrics().batch_halvings, 3U);  // 7 -> 3 + 4; 3 -> 1 + 2; 4 -> 2 + 2
    SumBackend none;  // no row fits: halving ends at one row, which fails with the message
    none.memory_rows = 0;
    Engine f(loader(none), "sha", "f", 2, 1, o);
    try {
        (void)f.predict(rows({{1, 1}, {2, 3}}));
        FAIL() << "no exception";
    } catch (const std::runtime_error& err) {
        EXPECT_STREQ(err.what(), "CUDA out of memory (test)");
    }
}

// Options for the batcher's tests: no warm-up, so the model sees only the real batches.
EngineOptions batcher(std::int64_t batch_max, std::int64_t delay_us) {
    EngineOptions o;
    o.batch_max = batch_max;
    o.batch_delay_us = delay_us;
    o.warmup_batches = 0;
    return o;
}

// The message a call fails with ("" when it succeeds).
std::string failure_of(Engine& e, const Matrix& in) {
    try {
        (void)e.predict(in);
    } catch (const std::exception& err) {
        return err.what();
    }
    return "";
}

// Concurrent calls (units in flight on a rank) share batches: four calls of 25 rows with
// batch_max 100 and a long batch delay make one execution of 100 rows, each call gets its
// own outputs, and the calls' own counters add up to the engine's.
TEST(Engine, ConcurrentCallsShareABatch) {
    SumBackend b;
    // The delay is never reached: the batch fills first.
    Engine e(loader(b), "sha", "f", 2, 1, batcher(100, 20'000'000));
    std::vector<Metrics> mine(4);
    std::vector<std::vector<float>> got(4), want(4);
    std::vector<std::thread> calls;
    for (int t = 0; t < 4; ++t) {
        calls.emplace_back([&, t] {
            Matrix in{{}, 0, 2};
            for (int i = 0; i < 25; ++i) {
                const auto a = static_cast<float>(1000 * (t + 1) + i);
                in.values.insert(in.values.end(), {a, 1});
                ++in.rows;
                want[static_cast<std::size_t>(t)].push_back(a + 1);
            }
            got[static_cast<std::size_t>(t)] =
                e.predict(in, &mine[static_cast<std::size_t>(t)]).values;
        });
    }
    for (auto& c : calls) c.join();
    EXPECT_EQ(got, want);
    EXPECT_EQ(e.metrics().exec_count, 1U);
    EXPECT_EQ(b.batches.load(), 1);
    Metrics sum;
    for (const auto& m : mine) sum.add(m);
    const Metrics all = e.metrics();
    EXPECT_EQ(sum.exec_count, all.exec_count);
    EXPECT_EQ(sum.inference_count, 100U);
    EXPECT_EQ(sum.unique_rows, 100U);
    EXPECT_EQ(sum.request_success, 4U);
    EXPECT_EQ(sum.cache_misses, 100U);
    EXPECT_EQ(all.cache_misses, 100U);
}

// A lone call of fewer than batch_max rows waits batch_delay_us for company, then runs.
TEST(Engine, ALoneCallRunsAfterTheBatchDelay) {
    SumBackend b;
    Engine e(loader(b), "sha", "f", 2, 1, batcher(100, 50'000));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(e.predict(rows({{1, 2}, {3, 4}})).values, (std::vector<float>{3, 7}));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50));
    EXPECT_EQ(e.metrics().exec_count, 1U);
}

// A failing batch fails every call with rows in it, and only those.
TEST(Engine, AFailingSharedBatchFailsItsCallsOnly) {
    SumBackend b;
    EngineOptions o = batcher(4, 20'000'000);
    o.cache = false;
    Engine e(loader(b), "sha", "f", 2, 1, o);
    std::string first, second;
    std::thread a([&] { first = failure_of(e, rows({{99, 0}, {1, 1}})); });
    std::thread c([&] { second = failure_of(e, rows({{2, 2}, {3, 3}})); });
    a.join();
    c.join();
    EXPECT_EQ(first, "row refused");
    EXPECT_EQ(second, "row refused");  // its rows were in the same batch of 4
    EXPECT_EQ(e.metrics().request_failure, 2U);
    o.batch_delay_us = 0;
    Engine f(loader(b), "sha", "f", 2, 1, o);
    EXPECT_EQ(f.predict(rows({{2, 2}})).values, (std::vector<float>{4}));
}

// Each replica runs warmup_batches batches of zeros when it loads (64 rows at most on a CPU);
// they are counted apart from the real executions.
TEST(Engine, WarmUpBatchesRunBeforeTheFirstBatch) {
    SumBackend b;
    EngineOptions o;
    o.replicas = 2;
    o.warmup_batches = 3;
    Engine e(loader(b), "sha", "f", 2, 1, o);
    Metrics mine;
    EXPECT_EQ(e.predict(rows({{1, 2}}), &mine).values, (std::vector<float>{3}));
    EXPECT_EQ(b.batches.load(), 2 * 3 + 1);
    EXPECT_EQ(mine.warmup_count, 6U);
    EXPECT_EQ(mine.exec_count, 1U);
    EXPECT_GT(mine.warmup_us, 0.0);
    (void)e.predict(rows({{5, 2}}));
    EXPECT_EQ(b.batches.load(), 2 * 3 + 2);  // only once
}

TEST(Metrics, AddAndJsonRoundTrip) {
    Metrics a;
    a.exec_count = 5;
    a.cache_hits = 7;
    a.compute_infer_us = 2.5;
    Metrics b = a;
    b.add(a);
    EXPECT_EQ(b.exec_count, 10U);
    EXPECT_EQ(b.cache_hits, 14U);
    EXPECT_DOUBLE_EQ(b.compute_infer_us, 5.0);
    const Metrics j = Metrics::from_json(b.to_json());
    EXPECT_EQ(j.to_json(), b.to_json());
    EXPECT_EQ(b.to_json()["nv_inference_exec_count"], 10);
}

TEST(Device, ChoiceFollowsTheOptionAndTheNodeLocalRank) {
    EXPECT_EQ(choose_device("cpu", 4, 3), "cpu");
    EXPECT_EQ(choose_device("auto", 0, 3), "cpu");
    EXPECT_EQ(choose_device("auto", 4, 5), "cuda:1");
    EXPECT_EQ(choose_device("cuda", 2, 3), "cuda:1");
    EXPECT_EQ(choose_device("cuda:3", 4, 0), "cuda:3");
    EXPECT_THROW((void)choose_device("cuda", 0, 0), ConfigError);
    EXPECT_THROW((void)choose_device("cuda:4", 4, 0), ConfigError);
    EXPECT_THROW((void)choose_device("gpu", 4, 0), ConfigError);
}

TEST(ResultCache, ClockEvictsUnreferencedFirst) {
    ResultCache c(1, 1);  // room for one entry
    ASSERT_EQ(c.capacity(), 1U);
    const Hash128 a{1, 1}, b{2, 2};
    float v = 5;
    c.insert(a, {&v, 1});
    v = 6;
    c.insert(b, {&v, 1});
    float out = 0;
    EXPECT_FALSE(c.lookup(a, {&out, 1}));
    EXPECT_TRUE(c.lookup(b, {&out, 1}));
    EXPECT_EQ(out, 6);
    EXPECT_EQ(c.counters().evictions, 1U);

    ResultCache big(10000 * 70, 1);
    for (std::uint64_t i = 0; i < 3 * big.capacity(); ++i) {
        v = static_cast<float>(i);
        big.insert({i, i}, {&v, 1});
        if (i == 0 || i % 100 == 0) (void)big.lookup({0, 0}, {&out, 1});  // keep key 0 hot
    }
    EXPECT_EQ(big.size(), big.capacity());
    EXPECT_TRUE(big.lookup({0, 0}, {&out, 1}));
    EXPECT_EQ(out, 0);
}

TEST(ResultCache, ExportImportRoundTrip) {
    ResultCache c(1 << 20, 2);
    const float v[2] = {1.5F, -2};
    c.insert({7, 8}, v);
    store::CacheContents contents;
    contents.columns = 2;
    c.export_to(contents);
    ResultCache d(1 << 20, 2);
    d.import_from(contents);
    float out[2] = {};
    EXPECT_TRUE(d.lookup({7, 8}, out));
    EXPECT_EQ(out[1], -2);
    EXPECT_EQ(d.counters().inserts, 0U);  // counters belong to this run
}

TEST(CacheKeyMaker, DependsOnModelFeaturizerAndBytes) {
    const float row[2] = {0.25F, 0.75F};
    const float other[2] = {0.75F, 0.25F};
    const CacheKeyMaker a("sha-a", "elemnet86"), b("sha-b", "elemnet86"), c("sha-a", "magpie");
    EXPECT_EQ(a.key(row), CacheKeyMaker("sha-a", "elemnet86").key(row));
    EXPECT_NE(a.key(row), b.key(row));
    EXPECT_NE(a.key(row), c.key(row));
    EXPECT_NE(a.key(row), a.key(other));
}

}  // namespace
}  // namespace kiln::infer
