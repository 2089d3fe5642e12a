// The catalog: DATA/catalog.h5, written by rank 0 at the end of a job with the commit
// protocol. Layout (h5py-readable):
//
//   /                  attrs kiln_schema_version, kind="catalog", kiln_version, created
//   /dc                JSON: the dataset's DataCite block (MDF Connect's create_dc_block)
//   /summary           JSON: totals, per-format and per-MIME counts, ingest options
//   /shards/id         uint64[s]
//   /shards/file       str[s]     relative to DATA, e.g. "shards/shard-000003.h5"
//   /shards/records    uint64[s]  records in the shard
//   /shards/bytes      uint64[s]  original bytes of its records
//   /shards/errors     uint64[s]  records with a per-record error
//   /shards/checksum   str[s]     xxh3-128 of the shard file, 32 hex digits
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiln/core/hash.hpp"

namespace kiln::store {

struct ShardEntry {
    std::uint64_t id = 0;
    std::string file;
    std::uint64_t records = 0;
    std::uint64_t bytes = 0;
    std::uint64_t errors = 0;
    Hash128 checksum;
};

struct Catalog {
    std::int64_t schema_version = 0;
    std::string kiln_version;
    std::string created;  // ISO 8601 UTC
    nlohmann::json dc = nlohmann::json::object();
    nlohmann::json summary = nlohmann::json::object();
    std::vector<ShardEntry> shards;
};

/// Writes `catalog` to `path` atomically (path.tmp, fsync, rename, fsync dir). Fault point:
/// catalog.mid_write (after the shard table, before /summary).
void write_catalog(const std::string& path, const Catalog& catalog);
/// Reads a catalog; throws NoInputError when it does not exist, DataError when it is not one.
[[nodiscard]] Catalog read_catalog(const std::string& path);

/// "1.10.8" and whether HDF5 is the parallel build (for `kiln --version`).
[[nodiscard]] std::string hdf5_version();
[[nodiscard]] bool hdf5_is_parallel();

}  // namespace kiln::store
