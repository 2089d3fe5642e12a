// Per-row costs of kiln infer's pieces besides the model (Google Benchmark): the cache key of
// a featurized row, a cache lookup that misses followed by the insert (what a 0 %-hit cache
// adds per row), a hit, and the featurizers. Compare with the model's time per row in
// benchmarks/infer.sh (about 200 us for the ElemNet network on this machine).
#include <benchmark/benchmark.h>

#include <random>

#include "kiln/infer/cache.hpp"
#include "kiln/infer/featurizer.hpp"

namespace {

std::vector<std::vector<float>> random_rows(std::size_t n, std::size_t width) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(0, 1);
    std::vector<std::vector<float>> rows(n, std::vector<float>(width));
    for (auto& r : rows)
        for (auto& v : r) v = u(rng);
    return rows;
}

void BM_CacheKey(benchmark::State& state) {
    const kiln::infer::CacheKeyMaker keys("0123abcd", "elemnet86");
    const auto rows = random_rows(1024, 86);
    std::size_t i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(keys.key(rows[i++ % rows.size()]));
}
BENCHMARK(BM_CacheKey);

// Every lookup misses and is followed by an insert; the cache is full, so inserts evict.
void BM_CacheMissThenInsert(benchmark::State& state) {
    kiln::infer::ResultCache cache(std::size_t{64} << 20, 1);
    std::uint64_t k = 0;
    float v = 1, out = 0;
    for (auto _ : state) {
        const kiln::Hash128 key{k * 0x9E3779B97F4A7C15ULL, ++k};
        benchmark::DoNotOptimize(cache.lookup(key, {&out, 1}));
        cache.insert(key, {&v, 1});
    }
    state.counters["evictions"] = static_cast<double>(cache.counters().evictions);
}
BENCHMARK(BM_CacheMissThenInsert);

void BM_CacheHit(benchmark::State& state) {
    kiln::infer::ResultCache cache(std::size_t{64} << 20, 1);
    float v = 1, out = 0;
    for (std::uint64_t k = 0; k < 100000; ++k) cache.insert({k, k}, {&v, 1});
    std::uint64_t k = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(cache.lookup({k % 100000, k % 100000}, {&out, 1}));
        ++k;
    }
}
BENCHMARK(BM_CacheHit);

void BM_Featurize(benchmark::State& state, const char* name) {
    const auto& f = kiln::infer::featurizer(name);
    std::vector<float> out(f.width());
    const kiln::infer::CompositionRow row = {{3, 1}, {26, 1}, {15, 1}, {8, 4}};  // LiFePO4
    for (auto _ : state) {
        f.featurize(row, out);
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK_CAPTURE(BM_Featurize, elemnet86, "elemnet86");
BENCHMARK_CAPTURE(BM_Featurize, magpie, "magpie");

}  // namespace

BENCHMARK_MAIN();
