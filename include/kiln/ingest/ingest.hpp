// `kiln ingest`: the pieces the CLI wires into the task manager. Planning is pure; a unit is
// run by ingest_unit on a worker and becomes one committed shard.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiln/extract/magic_probe.hpp"
#include "kiln/index/fields.hpp"
#include "kiln/ingest/walk.hpp"
#include "kiln/store/catalog.hpp"
#include "kiln/store/layout.hpp"

namespace kiln::ingest {

/// Options that decide what ends up in the shards (all part of the plan digest).
struct IngestOptions {
    std::string source = "kiln";                               // mdf.source_name
    std::uint64_t shard_bytes = std::uint64_t{256} << 20;      // bytes per shard (planned)
    std::uint64_t shard_files = 4096;                          // files per shard
    bool pack = true;                                          // store file bytes in /blob
    bool expand_archives = true;                               // tar/zip members -> records
    double archive_max_ratio = 200;                            // expanded / archive bytes
    std::uint64_t archive_max_bytes = std::uint64_t{8} << 30;  // expanded bytes per archive
    std::uint64_t archive_max_members = 1000000;
    bool follow_links = false;
    extract::MagicMode magic = extract::MagicMode::kFast;  // libmagic depth (see MagicMode)
    bool extract = true;    // run the format's extractor (material, crystal_structure, ...)
    double symprec = 0.01;  // spglib tolerance for space groups, Angstrom
    // Files that make one more record together (extract/grouping.hpp): "vasp" (the files of
    // one VASP run, MDF Connect's rule), "dir" (every directory), "none". A group's files are
    // planned into one shard; its record follows theirs.
    std::string group = "vasp";
    // Execution only (not in the digest): same output whatever their value.
    int threads = 1;    // OpenMP threads per rank reading and identifying files
    bool fsync = true;  // fsync shard files and directories at commit
    bool index = true;  // write each shard's index segment (DATA/index/) beside it
    index::IndexPolicy index_policy;

    [[nodiscard]] nlohmann::json to_json() const;
};

/// One work unit: the files of one shard, in record order.
struct UnitSpec {
    std::uint64_t shard_id = 0;
    std::vector<InputFile> files;
};

struct IngestPlan {
    std::vector<UnitSpec> units;
    std::string digest;  // xxh3-128 of inputs and options; a resume must match it
    std::uint64_t total_files = 0;
    std::uint64_t total_bytes = 0;
};

/// Plans shards from walked files: contiguous runs of files (record-path order, so a
/// directory stays together) balanced by bytes and count (tasks::plan_balanced). The files of
/// one group (IngestOptions::group) are moved next to its first file and never split across
/// shards. Shard ids are 0..n-1. Independent of the number of ranks.
[[nodiscard]] IngestPlan plan_ingest(std::vector<InputFile> files, const IngestOptions& options,
                                     const std::vector<std::string>& input_roots);

/// Unit payload as sent from the manager to a worker (binary, so raw path bytes survive).
[[nodiscard]] std::string encode_unit(const UnitSpec& unit);
[[nodiscard]] UnitSpec decode_unit(std::string_view bytes);

/// Reads, identifies and packs every file of `unit` into DATA/shards/shard-N.h5 and commits
/// it. Per-file problems become per-record errors; only I/O failures on the output throw.
/// Returns the unit's result: {"shard", "file", "records", "bytes", "packed_bytes", "errors",
/// "checksum", "formats": {name: count}, "mime_types": {type: count}, "error_samples": [...]}.
[[nodiscard]] nlohmann::json ingest_unit(const UnitSpec& unit, const store::Layout& layout,
                                         const IngestOptions& options);

/// Dataset description in DataCite form, as MDF Connect's create_dc_block builds it.
struct DatasetMetadata {
    std::string title;
    std::vector<std::string> authors;       // "Family, Given"
    std::vector<std::string> affiliations;  // one for all authors, or one per author
    std::string description;
    std::vector<std::string> tags;
    std::string doi;
    std::string publisher = "kiln";
    std::string publication_year;  // defaults to the current year
};
/// Throws UsageError for an author not written "Family, Given".
[[nodiscard]] nlohmann::json datacite_block(const DatasetMetadata& metadata);

/// The catalog of a finished ingest from the journal's unit results (in shard order).
[[nodiscard]] store::Catalog build_catalog(const IngestPlan& plan,
                                           const std::map<std::uint64_t, nlohmann::json>& units,
                                           const nlohmann::json& dc, const IngestOptions& options);

}  // namespace kiln::ingest
