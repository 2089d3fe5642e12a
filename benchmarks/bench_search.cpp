// Query latency of kiln's index, in process: opens a dataset once (as SQLite opens its
// database once) and runs each query shape REPS times, printing one CSV line per shape:
//   shape,matches,median_ms,p99_ms,reps
// Each run does what `kiln search` does for the shape: the count, plus the first 20 record
// ids, or the --count-by / --stats aggregation. Warm: the dataset is opened once and every
// run reuses what the index has read (as SQLite reuses its page cache). With --cold, every run
// first drops the dataset's files from the page cache (posix_fadvise DONTNEED) and opens the
// dataset afresh, so the time includes opening it and reading the index from the disk. With
// --fresh, every run opens the dataset afresh from a warm page cache (what a new `kiln search`
// process pays besides its start: the cold time less the disk's).
//
//   bench_search DATA SHAPES.tsv REPS [--cold | --fresh]
// SHAPES.tsv lines: name<TAB>query<TAB>count_by<TAB>stats (empty columns allowed).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "kiln/core/error.hpp"
#include "kiln/index/search.hpp"

namespace {

void drop_cache(const std::string& dir) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ::fdatasync(fd);
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        ::close(fd);
    }
}

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    std::istringstream in(line);
    while (std::getline(in, cur, '\t')) out.push_back(cur);
    while (out.size() < 4) out.emplace_back();
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: bench_search DATA SHAPES.tsv REPS [--cold | --fresh]\n";
        return 64;
    }
    const std::string data = argv[1];
    const int reps = std::max(1, std::atoi(argv[3]));
    const std::string mode = argc > 4 ? argv[4] : "";
    if (!mode.empty() && mode != "--cold" && mode != "--fresh") {
        std::cerr << "bench_search: unknown option '" << mode << "' (expected --cold or --fresh)\n";
        return 64;
    }
    const bool drop = mode == "--cold";
    const bool reopen = !mode.empty();
    try {
        // Warm: one Searcher for every run, as a long-lived process keeps its index open.
        // Cold and fresh: the dataset opened afresh before every run (cold: the page cache
        // dropped first).
        std::optional<kiln::index::Searcher> warm;
        if (!reopen) warm.emplace(data);
        std::ifstream shapes(argv[2]);
        std::string line;
        std::cout << "shape,matches,median_ms,p99_ms,reps\n";
        while (std::getline(shapes, line)) {
            if (line.empty() || line[0] == '#') continue;
            const auto f = split_tabs(line);
            kiln::index::SearchRequest req;
            req.query = f[1];
            req.count_by = f[2];
            req.stats = f[3];
            req.limit = 20;
            req.threads = 1;
            std::vector<double> ms;
            std::uint64_t matches = 0;
            for (int r = 0; r < reps; ++r) {
                if (drop) drop_cache(data);
                const auto t0 = std::chrono::steady_clock::now();
                std::optional<kiln::index::Searcher> fresh;
                if (reopen) fresh.emplace(data);
                const auto result = (reopen ? *fresh : *warm).search(req);
                const auto t1 = std::chrono::steady_clock::now();
                matches = result.total;
                ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
            }
            std::sort(ms.begin(), ms.end());
            const double median = ms[ms.size() / 2];
            const double p99 = ms[std::min(ms.size() - 1, (ms.size() * 99) / 100)];
            std::printf("%s,%llu,%.4f,%.4f,%d\n", f[0].c_str(),
                        static_cast<unsigned long long>(matches), median, p99, reps);
        }
    } catch (const std::exception& e) {
        std::cerr << "bench_search: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
