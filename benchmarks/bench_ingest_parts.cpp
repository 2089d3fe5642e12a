// Micro-benchmarks of the per-file costs of ingest: hashing, libmagic, format detection,
// and shard planning. Run: build/release/bin/bench_ingest_parts
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "kiln/core/hash.hpp"
#include "kiln/extract/format.hpp"
#include "kiln/extract/magic_probe.hpp"
#include "kiln/tasks/plan.hpp"

namespace {

std::string poscar_text() {
    std::string s = "Fe2 O3\n1.0\n5.03 0 0\n0 5.03 0\n0 0 13.7\nFe O\n12 18\nDirect\n";
    for (int i = 0; i < 30; ++i) s += "0.1250000 0.2500000 0.3750000\n";
    return s;
}

void BM_Xxh3_128(benchmark::State& state) {
    const std::string data(static_cast<std::size_t>(state.range(0)), 'x');
    for (auto _ : state) benchmark::DoNotOptimize(kiln::xxh3_128(data));
    state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Xxh3_128)->Arg(1 << 10)->Arg(1 << 20);

void BM_MagicProbe(benchmark::State& state) {
    const auto mode =
        state.range(0) == 0 ? kiln::extract::MagicMode::kFast : kiln::extract::MagicMode::kFull;
    kiln::extract::MagicProbe probe(mode);
    const std::string text = poscar_text();
    for (auto _ : state) benchmark::DoNotOptimize(probe.probe(text.data(), text.size()));
    state.SetLabel(state.range(0) == 0 ? "fast, POSCAR text" : "full, POSCAR text");
}
BENCHMARK(BM_MagicProbe)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_DetectFormat(benchmark::State& state) {
    const std::string head = poscar_text();
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            kiln::extract::detect_format("runs/Fe2O3/vasprun.xml.gz", "application/gzip", head));
    }
}
BENCHMARK(BM_DetectFormat);

void BM_PlanBalanced(benchmark::State& state) {
    std::mt19937_64 rng(1);
    std::vector<std::uint64_t> sizes(static_cast<std::size_t>(state.range(0)));
    for (auto& s : sizes) s = rng() % 100000;
    for (auto _ : state) {
        benchmark::DoNotOptimize(kiln::tasks::plan_balanced(sizes, 256ULL << 20, 4096));
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_PlanBalanced)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
