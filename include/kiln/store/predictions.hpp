// Model outputs on disk: one predictions file per inference work unit, and the persistent
// result cache of one model version. Both are written with the commit protocol (.tmp, fsync,
// rename, fsync dir) and read with h5py:
//
//   DATA/predictions/NAME@VERSION/shard-NNNNNN.h5   (a shard in one unit), or
//   DATA/predictions/NAME@VERSION/shard-NNNNNN-rows-BBBBBBBBBB.h5   (row ranges of a big shard)
//     attrs kiln_schema_version, kind="predictions", shard_id, row_begin, row_end, columns,
//           provenance (JSON: model, version, sha256, featurizer, kiln version, options, job)
//     /record_id  u64[n]    ids of the records that got a prediction (shard_id << 32 | row)
//     /value      f64[n*c]  their outputs, row-major, c = columns
//     /skipped    u64[m]    ids of the records in the range without one (no composition, ...)
//
//   DATA/cache/SHA256.h5   attrs kind="result-cache", model_sha256, featurizer, columns
//     /key_high, /key_low u64[e]   128-bit cache keys     /value f64[e*c]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::store {

struct Predictions {
    std::uint64_t shard_id = 0;
    std::uint64_t row_begin = 0, row_end = 0;  // the unit's rows [begin, end)
    std::uint64_t columns = 1;
    std::vector<std::uint64_t> record_ids;
    std::vector<double> values;  // record_ids.size() * columns
    std::vector<std::uint64_t> skipped;
    nlohmann::json provenance = nlohmann::json::object();
};

void write_predictions(const std::string& path, const Predictions& p, bool durable);
/// DataError naming the file when it is not a predictions file or its sizes disagree.
[[nodiscard]] Predictions read_predictions(const std::string& path);

struct CacheContents {
    std::string model_sha256, featurizer;
    std::uint64_t columns = 1;
    std::vector<std::uint64_t> key_high, key_low;
    std::vector<double> values;
};

void write_cache_file(const std::string& path, const CacheContents& c, bool durable);
/// DataError naming the file when it is damaged.
[[nodiscard]] CacheContents read_cache_file(const std::string& path);

}  // namespace kiln::store
