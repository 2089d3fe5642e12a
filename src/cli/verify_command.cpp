#include <algorithm>
#include <exception>
#include <filesystem>
#include <iostream>
#include <mutex>

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/core/hash.hpp"
#include "kiln/core/log.hpp"
#include "kiln/core/units.hpp"
#include "kiln/index/dictionary.hpp"
#include "kiln/index/search.hpp"
#include "kiln/index/segment.hpp"
#include "kiln/store/catalog.hpp"
#include "kiln/store/layout.hpp"
#include "kiln/store/predictions.hpp"
#include "kiln/store/shard.hpp"

namespace kiln::cli {
namespace {

struct ShardCheck {
    std::vector<std::string> problems;
    std::uint64_t records = 0;
    std::uint64_t bytes = 0;
};

ShardCheck check_shard(const store::Layout& layout, const store::ShardEntry& e) {
    ShardCheck r;
    const std::string path = layout.root() + "/" + e.file;
    const auto problem = [&](const std::string& what) { r.problems.push_back(path + ": " + what); };
    if (!fs::is_file(path)) {
        problem("missing (the catalog lists it)");
        return r;
    }
    try {
        const Hash128 sum = xxh3_128_file(path);
        if (sum != e.checksum) {
            problem("file checksum " + sum.hex() + " differs from the catalog's " +
                    e.checksum.hex() + " (the file changed after commit)");
        }
        const store::ShardReader reader(path);
        if (reader.shard_id() != e.id) {
            problem("shard_id " + std::to_string(reader.shard_id()) + ", catalog says " +
                    std::to_string(e.id));
        }
        const auto rows = reader.records();
        r.records = rows.size();
        if (rows.size() != e.records) {
            problem(std::to_string(rows.size()) + " records, catalog says " +
                    std::to_string(e.records));
        }
        const std::uint64_t blob = reader.blob_size();
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const auto& row = rows[i];
            if (row.id != store::record_id(e.id, i)) {
                problem("record " + std::to_string(i) + " has id " + std::to_string(row.id));
            }
            r.bytes += row.size;
            if (!row.packed) continue;
            if (row.offset + row.size > blob) {
                problem("record '" + row.path + "' points past the end of /blob");
                continue;
            }
            const Hash128 got = xxh3_128(reader.read_bytes(row));
            if (got != row.checksum) {
                problem("record '" + row.path + "': bytes have xxh3 " + got.hex() +
                        ", the record says " + row.checksum.hex());
            }
        }
        if (r.bytes != e.bytes) {
            problem(std::to_string(r.bytes) + " bytes of records, catalog says " +
                    std::to_string(e.bytes));
        }
    } catch (const std::exception& ex) {
        problem(std::string("unreadable: ") + ex.what());
    }
    return r;
}

// Predictions and persisted result caches: every file reads back whole (their numbers carry
// HDF5's Fletcher32, so a changed byte fails the read). Returns how many files were checked.
std::size_t check_model_outputs(const store::Layout& layout, std::vector<std::string>& problems) {
    namespace sfs = std::filesystem;
    const auto h5_files = [](const std::string& dir) {
        std::vector<std::string> files;
        std::error_code ec;
        for (sfs::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
             it.increment(ec)) {
            if (it->is_regular_file() && it->path().extension() == ".h5") {
                files.push_back(it->path().string());
            }
        }
        std::sort(files.begin(), files.end());
        return files;
    };
    const auto check = [&](const std::vector<std::string>& files, auto read, const char* mend) {
        for (const std::string& f : files) {
            try {
                (void)read(f);
            } catch (const Error& e) {
                problems.push_back(f + ": damaged: " + e.what() + mend);
            }
        }
        return files.size();
    };
    return check(h5_files(layout.root() + "/predictions"), store::read_predictions,
                 " (rerun kiln infer: it recomputes this unit only)") +
           check(h5_files(layout.root() + "/cache"), store::read_cache_file,
                 " (kiln infer ignores it and rebuilds it)");
}

}  // namespace

int run_verify(const Args& args) {
    po::options_description o("Options");
    o.add_options()("data", po::value<std::string>(), "dataset directory (positional)")(
        "threads", po::value<int>(), "shards checked in parallel (default: all cores)");
    po::positional_options_description pos;
    pos.add("data", 1);
    const CommandLine cl = parse_command_line("verify", args, o, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help("verify", "DATA",
                   "Re-reads every shard: file checksum, record count, bytes and the xxh3-128 of "
                   "every packed record, against the catalog; the search index's segments "
                   "against its dictionary; every predictions and result-cache file. Exit 0 "
                   "when all agree, 65 naming each problem otherwise.",
                   o);
        return 0;
    }
    if (cl.vm.count("data") == 0U) throw UsageError("kiln verify: DATA is required");
    const store::Layout layout(cl.vm["data"].as<std::string>());
    store::Catalog c;
    try {
        c = store::read_catalog(layout.catalog());
    } catch (const IoError& e) {
        throw DataError(std::string("catalog unreadable: ") + e.what());
    }
    const int threads = threads_option(cl.vm);
    std::vector<ShardCheck> checks(c.shards.size());
    const auto n = static_cast<std::int64_t>(c.shards.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::int64_t i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(i);
        checks[k] = check_shard(layout, c.shards[k]);  // check_shard catches everything
    }
    std::uint64_t records = 0;
    std::uint64_t bytes = 0;
    std::vector<std::string> problems;
    for (const auto& ch : checks) {
        records += ch.records;
        bytes += ch.bytes;
        problems.insert(problems.end(), ch.problems.begin(), ch.problems.end());
    }
    // The search index, when there is one: current, and every segment as it was written.
    std::string index_note = "no search index";
    try {
        const auto d = index::Dictionary::open(layout.dictionary(), c);
        std::vector<std::string> bad(d.shard_ids.size());
        const auto m = static_cast<std::int64_t>(d.shard_ids.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (std::int64_t i = 0; i < m; ++i) {
            const auto k = static_cast<std::size_t>(i);
            const std::string seg = layout.segment(d.shard_ids[k]);
            try {
                if (xxh3_128_file(seg).hex() != d.segment_checksums.at(k)) {
                    bad[k] = seg +
                             ": checksum differs from the index dictionary's (the file "
                             "changed after it was written; `kiln index DATA --rebuild`)";
                }
            } catch (const std::exception& ex) {
                bad[k] = seg + ": unreadable: " + ex.what();
            }
        }
        for (auto& b : bad) {
            if (!b.empty()) problems.push_back(std::move(b));
        }
        index_note = "index of " + std::to_string(d.fields.size()) + " fields";
        if (fs::is_file(layout.merged_segment())) {
            try {
                const index::SegmentReader merged(layout.merged_segment());
                merged.check_every_chunk();
                if (index::merged_segment_is_current(merged, d)) {
                    index_note += ", merged";
                } else {
                    log::warn("'" + layout.merged_segment() +
                              "' was merged from older segments and is not used by searches "
                              "(`kiln index DATA` merges them again)");
                }
            } catch (const std::exception& ex) {
                problems.push_back(layout.merged_segment() + ": " + ex.what());
            }
        }
    } catch (const NoInputError&) {
        // a dataset without an index is valid
    } catch (const Error& e) {
        problems.push_back(std::string("search index: ") + e.what());
    }
    const std::size_t model_files = check_model_outputs(layout, problems);
    const auto expected = c.summary.value("records", std::uint64_t{0});
    if (problems.empty() && records != expected) {
        problems.push_back(layout.catalog() + ": summary says " + std::to_string(expected) +
                           " records, shards hold " + std::to_string(records));
    }
    if (!problems.empty()) {
        for (const auto& p : problems) log::error(p);
        throw DataError("verify: " + std::to_string(problems.size()) + " problem(s) in '" +
                        layout.root() + "'");
    }
    std::cout << "verified " << c.shards.size() << " shards, " << records << " records, "
              << format_bytes(static_cast<double>(bytes)) << ", " << index_note << ", "
              << model_files << " predictions and cache files: OK\n";
    return 0;
}

}  // namespace kiln::cli
