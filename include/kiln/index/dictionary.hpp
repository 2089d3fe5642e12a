// The dataset-wide index dictionary: DATA/index/dictionary.h5, built from the segments
// after an ingest or by `kiln index`. It says which shards hold each field (with record
// counts and numeric min/max) and, for fields with few distinct values, which shards hold
// each term and how often, so a query opens only shards that can match. Layout:
//
//   /                      attrs kiln_schema_version, kind="index", shards_digest, policy,
//                          records, segments_digest (see segments_digest(): a search of a
//                          merged index reads these two attributes and no more of the file)
//   /shards/id             u64[S]   shards in catalog order
//   /shards/records        u64[S]
//   /shards/segment_checksum str[S] xxh3-128 of each segment file
//   /fields/name, type     str[F]   sorted by name
//   /fields/records        u64[F]   records with the field, whole dataset
//   /fields/shard_offsets  u64[F+1] slices of the four arrays below
//   /fields/shard          u64[X]   index into /shards
//   /fields/shard_records  u64[X]
//   /fields/shard_min/max  f64[X]   numeric range of the field in that shard (NaN if none)
//   /fields/term_offsets   u64[F+1] the field's terms (empty when it has more than
//                                   kMaxListedTerms distinct values)
//   /terms/value           str[T]   sorted within each field
//   /terms/shard_offsets   u64[T+1] slices of /terms/shard and /terms/count
//   /terms/shard           u64[Y]   index into /shards
//   /terms/count           u64[Y]
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/index/fields.hpp"
#include "kiln/index/segment.hpp"
#include "kiln/store/catalog.hpp"

namespace kiln::index {

/// Fields with more distinct values than this list no terms in the dictionary.
inline constexpr std::uint64_t kMaxListedTerms = 4096;

/// Digest of a catalog's shard table (ids and checksums): the dictionary and every segment
/// record the one they were built from, so an index older than its shards is detected.
[[nodiscard]] std::string shards_digest(const store::Catalog& catalog);
/// Digest of the segments an index was built from: each shard's id, records and segment file
/// checksum, in id order (row_base is not part of it). The dictionary records it; a merged
/// segment's /shards table gives it.
[[nodiscard]] std::string segments_digest(std::vector<MergedShard> shards);

struct DictionaryField {
    std::string name;
    FieldType type = FieldType::kKeyword;
    std::uint64_t records = 0;
    std::vector<std::uint64_t> shards;         // indexes into Dictionary::shard_ids
    std::vector<std::uint64_t> shard_records;  // empty from Dictionary::for_merged
    std::vector<double> shard_min, shard_max;
    std::uint64_t term_begin = 0, term_end = 0;  // listed terms (may be none)
};

class Dictionary {
public:
    /// Opens DATA/index/dictionary.h5 and checks it against the catalog: NoInputError when the
    /// index is missing, DataError when it was built from other shards; both say how to
    /// rebuild it.
    static Dictionary open(const std::string& path, const store::Catalog& catalog);
    /// The index policy (keyword fields) the dictionary at `path` was built with, read from
    /// its attribute alone: known even when the index is older than the shards or a column
    /// of it is damaged. NoInputError when there is no dictionary, DataError when the
    /// attribute cannot be read.
    static IndexPolicy stored_policy(const std::string& path);
    /// The dictionary a search needs, from a merged segment, when the dictionary at `path`
    /// was built from `catalog`'s shards and from the very segments `merged` was merged from
    /// (two attributes of its root say so; nothing else of it is read). Fields, types, record
    /// counts and policy come from `merged`; every shard is a candidate for every field (the
    /// merged segment answers for all of them at once), a field's numeric range is its range
    /// over the dataset, no terms are listed, and extras_digest is empty. nullopt when that
    /// is not so, or the dictionary cannot tell (missing, unreadable, or written before it
    /// recorded segments_digest): Dictionary::open then says what is wrong.
    static std::optional<Dictionary> for_merged(const std::string& path,
                                                const store::Catalog& catalog,
                                                const SegmentReader& merged);

    std::string path;
    std::uint64_t records = 0;
    IndexPolicy policy;
    std::string extras_digest;    // of the predictions indexed as predicted.* ("" for none)
    std::string segments_digest;  // "" when written before kiln recorded it
    std::vector<std::uint64_t> shard_ids;
    std::vector<std::uint64_t> shard_records;
    std::vector<std::string> segment_checksums;
    std::vector<DictionaryField> fields;

    [[nodiscard]] const DictionaryField* field(std::string_view name) const;
    /// The listed terms of `f` (value, shard indexes, counts); reads them on demand.
    struct Term {
        std::string value;
        std::vector<std::uint64_t> shards;
        std::vector<std::uint64_t> counts;
    };
    /// nullptr when the field lists no terms. Read once, then kept.
    [[nodiscard]] const std::vector<Term>* listed_terms(const DictionaryField& f) const;

private:
    std::shared_ptr<std::mutex> cache_mutex_ = std::make_shared<std::mutex>();
    std::shared_ptr<std::map<std::string, std::vector<Term>>> listed_ =
        std::make_shared<std::map<std::string, std::vector<Term>>>();
};

/// Builds DATA/index/dictionary.h5 from the segments of every shard in the catalog.
/// `extras_digest` (when not empty) names the predictions the segments were built with.
void write_dictionary(const std::string& data_dir, const store::Catalog& catalog,
                      const IndexPolicy& policy, bool durable,
                      const std::string& extras_digest = {});

}  // namespace kiln::index
