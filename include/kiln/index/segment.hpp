// Index segments: DATA/index/segment-NNNNNN.h5, one per shard, built from the shard's records
// (at ingest, or by `kiln index`). Shards are never modified after commit, so the index lives
// beside them and can be rebuilt from them. Layout (h5py-readable; record rows are the rows
// of the shard's /records table):
//
//   /                       attrs kiln_schema_version, kind="segment", shard_id, records,
//                           shard_checksum (xxh3-128 of the shard file), policy (JSON)
//   /fields/name            str[F]    every field of the shard's records, sorted
//   /fields/type            str[F]    keyword | number | boolean | mixed
//   /fields/records         u64[F]    records that have the field
//   /fields/exists_offsets  u64[F+1]  slices of /fields/exists
//   /fields/exists          u8[]      per field, the rows that have it (portable Roaring)
//   /fields/term_begin      u64[F+1]  the field's terms are [term_begin[f], term_begin[f+1])
//   /fields/number_begin    u64[F+1]  the field's numbers are [number_begin[f], ...[f+1])
//   /fields/number_min/max  f64[F]    NaN for a field without numbers
//   /terms/value_offsets    u64[T+1]  slices of /terms/values (UTF-8), sorted within a field
//   /terms/values           u8[]
//   /terms/posting_offsets  u64[T+1]  slices of /terms/postings
//   /terms/postings         u8[]      per term, the rows that hold it (portable Roaring)
//   /terms/count            u64[T]    rows per term
//   /fields/block_begin     u64[F+1]  the terms index: field f's blocks are [block_begin[f],
//   ...[f+1]) /terms/block_value_offsets u64[B+1], /terms/block_values u8[]: the first term of each
//                                     block of kTermBlock terms, so that one value is found
//                                     by reading the field's block heads and one block, not
//                                     every term of the field (segments before it lack them)
//   /fields/row_begin       u64[F+1]  postings as row lists: field f's rows are [row_begin[f],
//                                     ...[f+1]) of /terms/rows, term t's [row_offsets[t],
//   /terms/row_offsets      u64[T+1]  ...[t+1]) (u32, increasing). A field keeps its postings
//   /terms/rows             u32[]     so when that is smaller than as Roaring bitmaps (many
//                                     terms of few rows: formulas, paths); its terms' Roaring
//                                     postings are then empty (segments before it lack these)
//   /numbers/values         f64[P]    per field, sorted by (value, row)
//   /numbers/rows           u32[P]
//   /fields/number_block_begin u64[F+1] the numbers index: field f's blocks are
//   /numbers/block_values   f64[]     [number_block_begin[f], ...[f+1]) of /numbers/block_values,
//                                     the first value of each block of kNumberBlock numbers, so
//                                     that a range reads the block heads, the two blocks at its
//                                     ends and the rows between, not the field's whole column
//                                     (segments before it lack them)
//
// A merged segment (DATA/index/merged.h5, `kiln index DATA --merge`) has the same layout over
// the rows of every shard one after the other, plus where each shard's rows start:
//
//   /shards/id              u64[S]    shards in increasing id order
//   /shards/row_base        u64[S+1]  shard i holds the rows [row_base[i], row_base[i+1])
//   /shards/segment_checksum str[S]   xxh3-128 of each segment file it was merged from
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <memory_resource>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <roaring/roaring.hh>

#include "kiln/core/hash.hpp"
#include "kiln/index/fields.hpp"

namespace kiln::index {

namespace detail {
struct SegmentArrays;
}

/// Terms per block of the terms index.
inline constexpr std::uint64_t kTermBlock = 128;
/// Numbers per block of the numbers index.
inline constexpr std::uint64_t kNumberBlock = 4096;

/// Collects the fields of one shard's records, then writes the segment.
class SegmentBuilder {
public:
    explicit SegmentBuilder(IndexPolicy policy);
    ~SegmentBuilder();
    SegmentBuilder(const SegmentBuilder&) = delete;
    SegmentBuilder& operator=(const SegmentBuilder&) = delete;
    /// Adds the record at `row` (rows must be added in increasing order).
    void add(std::uint32_t row, const nlohmann::json& record);
    /// Parses `metadata_json` and adds it, then the `extra` leaves (fields kept beside the
    /// record); throws DataError naming the row when it is not JSON.
    void add_json(std::uint32_t row, std::string_view metadata_json,
                  const std::vector<Leaf>& extra = {});
    /// Sorts the terms and numbers and builds the postings: all of write() but the file, and
    /// no HDF5 call, so it may run on another thread while the shard itself is written. No
    /// record can be added after it; the collected records are freed.
    void finish();
    /// Finishes (when finish() was not called), writes PATH.tmp, then renames it to `path`
    /// (fsync'ed when `durable`). A non-empty `extras_digest` names the fields merged in from
    /// beside the shard (SegmentExtras).
    void write(const std::string& path, std::uint64_t shard_id, std::uint64_t records,
               const Hash128& shard_checksum, bool durable, const std::string& extras_digest = {});

private:
    struct Field {
        unsigned kinds = 0;
        int keyword = 0;                  // 0 not yet known, 1 keyword-indexed, 2 not
        std::vector<std::uint32_t> rows;  // rows that have the field, increasing
        // Distinct terms by number (texts in the builder's arena), found by open addressing
        // on their xxh3 (`slots`: term number + 1, 0 when free), and each (term, row) as it
        // comes: sorted by term and row when written. A shard of formulas or paths has
        // 100 000 distinct terms: no allocation of their own, and none to free one by one.
        std::vector<std::string_view> terms;
        std::vector<std::uint32_t> slots;
        std::vector<std::pair<std::uint32_t, std::uint32_t>> term_rows;
        std::vector<std::pair<double, std::uint32_t>> numbers;
        std::uint32_t term_of(std::string_view text, std::pmr::memory_resource& arena);
    };
    using Slot = std::pair<const std::string, Field>;
    void add_leaf(std::uint32_t row, std::size_t ordinal, const Leaf& leaf);
    IndexPolicy policy_;
    // Term texts and the term tables' nodes, freed at once with the builder.
    std::unique_ptr<std::pmr::monotonic_buffer_resource> arena_ =
        std::make_unique<std::pmr::monotonic_buffer_resource>();
    std::map<std::string, Field, std::less<>> fields_;
    std::vector<Slot*> recent_;  // field of the previous record at each leaf ordinal
    std::unique_ptr<detail::SegmentArrays> finished_;  // set by finish()
};

/// Fields of a shard's records that live beside the shard: kiln infer's predictions. Each
/// source is one predictions file of the shard, indexed as the number field `field`; the
/// digest names the files (kept in the segment, so a segment older than them is rebuilt).
struct SegmentExtras {
    struct Source {
        std::string field;  // "predicted.NAME"
        std::string path;   // DATA/predictions/NAME@V/shard-....h5
    };
    std::string digest;
    std::vector<Source> sources;
};

/// Builds the segment of one committed shard from its records (and the predictions files of
/// `extras`, read here, if any).
void build_segment(const std::string& shard_path, const std::string& segment_path,
                   const IndexPolicy& policy, const Hash128& shard_checksum, bool durable,
                   const SegmentExtras* extras = nullptr);

/// Merges the segments of `shard_ids` (in increasing id order, with the xxh3-128 of each
/// segment file) into one segment at `merged_path` (through PATH.tmp): a query then reads one
/// file instead of one per shard. Fields are merged one at a time, so memory holds one
/// field of every segment at once. Records past 2^32 - 1 rows are a UsageError.
void merge_segments(const std::vector<std::string>& segment_paths,
                    const std::vector<std::uint64_t>& shard_ids,
                    const std::vector<std::string>& segment_checksums,
                    const std::string& merged_path, bool durable);

/// One shard of a merged segment.
struct MergedShard {
    std::uint64_t shard_id = 0;
    std::uint64_t row_base = 0;  // its first row in the merged segment
    std::uint64_t records = 0;
    std::string segment_checksum;
};

/// Calls fn(row) for every row of `rows`, in increasing order. Reads the bitmap 256 rows at a
/// time (CRoaring's bulk read): several times faster than its one-row iterator over a large
/// set.
template <class Fn>
void for_each_row(const Roaring& rows, Fn&& fn) {
    roaring_uint32_iterator_t it;
    roaring_init_iterator(&rows.roaring, &it);
    std::array<std::uint32_t, 256> buffer{};
    while (const std::uint32_t n =
               roaring_read_uint32_iterator(&it, buffer.data(), buffer.size())) {
        for (std::uint32_t i = 0; i < n; ++i) fn(buffer[i]);
    }
}

/// One field of a segment.
struct SegmentField {
    std::string name;
    FieldType type = FieldType::kKeyword;
    std::uint64_t records = 0;
    std::uint64_t term_begin = 0, term_end = 0;
    std::uint64_t block_begin = 0, block_end = 0;  // empty when the segment has no terms index
    std::uint64_t number_begin = 0, number_end = 0;
    // Its numbers index in /numbers/block_values; empty when the segment has none.
    std::uint64_t number_block_begin = 0, number_block_end = 0;
    double number_min = 0, number_max = 0;  // NaN when the field has no numbers
    // Its postings as row lists in /terms/rows; empty when they are Roaring bitmaps.
    std::uint64_t row_begin = 0, row_end = 0;
};

/// A field's numbers, sorted by (value, row).
struct NumberColumn {
    std::vector<double> values;
    std::vector<std::uint32_t> rows;
};

/// A field's term texts in sorted order, kept as one block of bytes and the end of each term
/// in it: a field of a million distinct values costs two allocations to load, not a million.
class TermTexts {
public:
    TermTexts() = default;
    /// `ends[i]` is where term i ends in `bytes` (term i starts where term i - 1 ends).
    TermTexts(std::string bytes, std::vector<std::uint64_t> ends);

    [[nodiscard]] std::size_t size() const noexcept { return ends_.size(); }
    [[nodiscard]] bool empty() const noexcept { return ends_.empty(); }
    [[nodiscard]] std::string_view operator[](std::size_t i) const noexcept {
        const std::uint64_t begin = i == 0 ? 0 : ends_[i - 1];
        return std::string_view(bytes_).substr(begin, ends_[i] - begin);
    }
    /// The number of the first term not less than `value` (size() when none).
    [[nodiscard]] std::size_t lower_bound(std::string_view value) const;
    /// The numbers [first, last) of the terms that start with `prefix`.
    [[nodiscard]] std::pair<std::size_t, std::size_t> prefix_range(std::string_view prefix) const;

private:
    std::string bytes_;
    std::vector<std::uint64_t> ends_;
};

/// Reads a segment. Queries return sets of record rows. What a reader reads is kept in memory
/// (term lists, postings, numbers), so a long-lived reader answers repeated queries from
/// memory, as a database answers from its page cache. Thread-safe.
class SegmentReader {
public:
    explicit SegmentReader(const std::string& path);
    ~SegmentReader();
    SegmentReader(SegmentReader&&) noexcept;
    SegmentReader& operator=(SegmentReader&&) noexcept;

    [[nodiscard]] std::uint64_t shard_id() const;
    [[nodiscard]] std::uint64_t records() const;
    [[nodiscard]] std::string shard_checksum() const;
    /// The SegmentExtras digest it was built with ("" for none).
    [[nodiscard]] std::string extras_digest() const;
    /// The keyword policy it was built with; DataError naming the file when its attribute is
    /// not a policy's JSON.
    [[nodiscard]] IndexPolicy policy() const;
    [[nodiscard]] const std::vector<SegmentField>& fields() const;
    /// The shards of a merged segment, in row order (empty for the segment of one shard).
    [[nodiscard]] const std::vector<MergedShard>& merged_shards() const;
    /// The file it reads.
    [[nodiscard]] const std::string& path() const;
    /// Reads every dataset of the file whole, so that each chunk's Fletcher-32 is checked;
    /// DataError naming the file when one does not match (kiln verify).
    void check_every_chunk() const;
    /// nullptr when the segment has no such field.
    [[nodiscard]] const SegmentField* field(std::string_view name) const;

    [[nodiscard]] Roaring all() const;
    [[nodiscard]] Roaring exists(const SegmentField& f) const;
    /// The posting of `value` as the reader keeps it (valid as long as the reader; empty when
    /// no record has the value): a query that is one term copies nothing.
    [[nodiscard]] const Roaring& term(const SegmentField& f, std::string_view value) const;
    [[nodiscard]] Roaring prefix(const SegmentField& f, std::string_view prefix) const;
    /// Rows with a number in the range; bounds are inclusive or exclusive.
    [[nodiscard]] Roaring range(const SegmentField& f, double lo, bool lo_inclusive, double hi,
                                bool hi_inclusive) const;
    /// The field's terms in order, and the rows of the i-th.
    [[nodiscard]] const TermTexts& term_texts(const SegmentField& f) const;
    /// Per term of f, its rows, when f keeps its postings as row lists (row_end > row_begin;
    /// else empty): read in one go, kept as long as the reader, no bitmap built.
    [[nodiscard]] std::vector<std::span<const std::uint32_t>> term_row_lists(
        const SegmentField& f) const;
    [[nodiscard]] const Roaring& posting(const SegmentField& f, std::size_t i) const;
    /// Every posting of the field, read at once (kept like the others).
    [[nodiscard]] std::vector<const Roaring*> postings(const SegmentField& f) const;
    /// The term texts and row counts of the field (no postings read).
    [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> term_counts(
        const SegmentField& f) const;
    [[nodiscard]] const NumberColumn& numbers(const SegmentField& f) const;
    /// For a field with at most one term per row: each row's term number (kNoTerm when the
    /// row has none), inverted from the postings once and kept (Lucene's doc values).
    /// nullptr when some row holds several terms.
    static constexpr std::uint32_t kNoTerm = 0xffffffffU;
    [[nodiscard]] const std::vector<std::uint32_t>* term_of_row(const SegmentField& f) const;
    /// The same for numbers: where each row's number is in numbers(f) (kNoNumber when the row
    /// has none); nullptr when some row holds several. Built when asked for f the second
    /// time, nullptr the first: one pass over the column costs less than building this, so a
    /// process that asks once (a `kiln search`) does not pay for it.
    [[nodiscard]] const std::vector<std::uint32_t>* number_of_row(const SegmentField& f) const;
    static constexpr std::uint32_t kNoNumber = 0xffffffffU;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::index
