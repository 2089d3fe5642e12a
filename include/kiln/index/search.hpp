// Running queries over a dataset's index: a query opens only the segments of shards that the
// dictionary says can match, evaluates it per shard to a set of record rows (Roaring), and
// merges the per-shard results (count, count-by, stats, the page of hits) in a stable order:
// by the sort key when one is asked for, then by record id. The per-shard step and the merge
// are separate so that threads or MPI ranks can each take some shards.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiln/index/dictionary.hpp"
#include "kiln/index/query.hpp"
#include "kiln/index/segment.hpp"
#include "kiln/store/catalog.hpp"
#include "kiln/store/shard.hpp"

namespace kiln::index {

struct SortSpec {
    std::string field;
    bool descending = false;
};

struct SearchRequest {
    std::string query;  // empty: every record
    std::uint64_t offset = 0;
    std::uint64_t limit = 20;  // 0: every hit
    std::optional<SortSpec> sort;
    std::string count_by;  // field to aggregate by value (Forge's aggregate)
    std::string stats;     // number field: min, max, mean, count
    int threads = 1;
};

/// A record's sort value: missing sorts last; numbers before text.
struct SortKey {
    bool missing = true;
    bool is_number = false;
    double number = 0;
    std::string text;
};

struct Hit {
    std::uint64_t shard_id = 0;
    std::uint32_t row = 0;
    SortKey key;
    [[nodiscard]] std::uint64_t id() const { return (shard_id << 32) | row; }
};

struct NumberStats {
    std::uint64_t count = 0;  // values (a record may hold several)
    double min = 0, max = 0, sum = 0;
    void add(double v);
    void merge(const NumberStats& o);
};

/// --stats of field f over the hits `rows` of a segment: summed per shard in the order of the
/// field's number column (by value), then shard after shard, so that a merged segment gives
/// the very sums (to the last bit) that its shards' segments give. Few hits are looked up one
/// by one (once SegmentReader::number_of_row is built), many by one pass over the column:
/// the same sums either way.
[[nodiscard]] NumberStats number_stats(const SegmentReader& seg, const SegmentField& f,
                                       const Roaring& rows);

/// What one shard contributes to a search.
struct ShardResult {
    std::uint64_t shard_id = 0;
    std::uint64_t matches = 0;
    std::vector<Hit> hits;  // the shard's first offset+limit hits in result order
    std::map<std::string, std::uint64_t> counts;
    NumberStats stats;
};
[[nodiscard]] nlohmann::json to_json(const ShardResult& r);
[[nodiscard]] ShardResult shard_result_from_json(const nlohmann::json& j);

struct SearchResult {
    std::uint64_t total = 0;
    std::vector<Hit> page;
    std::vector<std::pair<std::string, std::uint64_t>> count_by;  // by count desc, value asc
    NumberStats stats;
    std::uint64_t shards_searched = 0;
    std::uint64_t shards_total = 0;
};

/// A request whose query is parsed and checked against the dataset's fields.
struct PreparedQuery {
    SearchRequest request;
    QueryNode root;
};

class Searcher {
public:
    /// Opens DATA's catalog and index dictionary (see Dictionary::open for the errors); when
    /// DATA/index/merged.h5 was merged from the dictionary's segments, two attributes of the
    /// dictionary and the merged segment's own field table instead (Dictionary::for_merged).
    explicit Searcher(const std::string& data_dir);

    /// Parses the query and resolves every field: an unknown field is a UsageError naming
    /// the closest known ones; a range on a text field, a non-number value for a number
    /// field, or a term on a field that is not keyword-indexed is a UsageError too.
    [[nodiscard]] PreparedQuery prepare(const SearchRequest& request) const;
    /// The dataset's name of a field as a query would resolve it (exact, or a unique last
    /// part); UsageError with the closest names otherwise.
    [[nodiscard]] std::string resolve_field(const std::string& name) const;
    /// Indexes (into dictionary().shard_ids) of the shards that can hold a match.
    [[nodiscard]] std::vector<std::size_t> candidate_shards(const PreparedQuery& q) const;
    [[nodiscard]] ShardResult search_shard(const PreparedQuery& q, std::size_t shard_index) const;
    [[nodiscard]] SearchResult merge(const PreparedQuery& q, std::vector<ShardResult> parts,
                                     std::uint64_t shards_searched) const;
    /// prepare, candidate_shards, search_shard on request.threads threads, merge.
    [[nodiscard]] SearchResult search(const SearchRequest& request) const;

    /// The stored records of `hits`, in the order given.
    [[nodiscard]] std::vector<store::RecordRow> records(const std::vector<Hit>& hits) const;
    /// The numbers the index holds for `field` in the record of `hit` (empty when none): how
    /// fields that live beside the records (predicted.*) are shown.
    [[nodiscard]] std::vector<double> indexed_numbers(const Hit& hit,
                                                      const std::string& field) const;
    /// A packed file's bytes, checked against its xxh3-128.
    [[nodiscard]] std::string read_bytes(std::uint64_t shard_id, const store::RecordRow& r) const;

    /// Whether queries read DATA/index/merged.h5 (present and merged from the current
    /// segments) rather than one segment per shard.
    [[nodiscard]] bool uses_merged_index() const { return merged_ != nullptr; }
    [[nodiscard]] const Dictionary& dictionary() const { return dictionary_; }
    [[nodiscard]] const store::Catalog& catalog() const { return catalog_; }

private:
    /// The query over one segment (a shard's or the merged one): its matches, their first
    /// offset+limit hits, count-by and stats.
    [[nodiscard]] ShardResult evaluate(const PreparedQuery& q, const SegmentReader& seg) const;
    /// The segment of a shard, opened on first use and kept (with what it has read).
    [[nodiscard]] const SegmentReader& segment(std::size_t shard_index) const;
    /// A shard, opened on first use and kept (kiln get reads many files of one shard).
    [[nodiscard]] const store::ShardReader& shard(std::uint64_t shard_id) const;

    std::string data_dir_;
    store::Catalog catalog_;
    Dictionary dictionary_;
    mutable std::mutex segments_mutex_;
    mutable std::vector<std::unique_ptr<SegmentReader>> segments_;
    std::unique_ptr<SegmentReader> merged_;  // null: none, or not current
    mutable std::mutex shards_mutex_;
    mutable std::map<std::uint64_t, std::unique_ptr<store::ShardReader>> shards_;
};

struct IndexUpdate {
    std::uint64_t segments_built = 0;
    std::uint64_t segments_kept = 0;
    std::uint64_t records = 0;
    bool dictionary_written = false;
    bool merged_written = false;
};

/// Whether a merged segment was merged from exactly the segments the dictionary lists (same
/// shards, records and segment file checksums).
[[nodiscard]] bool merged_segment_is_current(const SegmentReader& merged, const Dictionary& d);

/// kiln infer's predictions as index fields: `predicted.NAME` from the newest version of each
/// model under DATA/predictions/ (one number per record, several for several outputs): per
/// shard id, its predictions files and a digest of them (the files are hashed, not parsed).
[[nodiscard]] std::map<std::uint64_t, SegmentExtras> prediction_extras(const std::string& data_dir);

/// Brings DATA's index up to date with its catalog and predictions: builds every segment
/// that is missing, was built from another version of its shard, with another policy or
/// other predictions (all of them when `rebuild_all`), then the dictionary; then, when `merge`
/// is asked or DATA/index/merged.h5 exists, merges the segments into it unless it is current.
/// Does nothing (writes no byte) when the index is current. Segments are built on `threads`
/// threads.
IndexUpdate update_index(const std::string& data_dir, const IndexPolicy& policy, int threads,
                         bool durable, bool rebuild_all, bool merge = false);

/// Number as text for count-by keys and tables: integers without a fraction, others in the
/// shortest form that reads back to the same double.
[[nodiscard]] std::string format_number(double v);

}  // namespace kiln::index
