// The arrays of a segment file as they are written (layout in kiln/index/segment.hpp): what
// SegmentBuilder makes from records and merge_segments makes from other segments, written by
// the one function below.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <roaring/roaring.hh>

#include "kiln/index/fields.hpp"

namespace kiln::index::detail {

struct SegmentArrays {
    // /fields
    std::vector<std::string> names, types;
    std::vector<std::uint64_t> counts, exists_offsets{0}, term_begin{0}, number_begin{0};
    std::vector<std::uint8_t> exists_blob;
    std::vector<double> mins, maxs;
    // /terms
    std::vector<std::uint8_t> values, postings;
    std::vector<std::uint64_t> value_offsets{0}, posting_offsets{0}, term_counts;
    // The terms index: the first term of every kTermBlock terms of a field (/fields/block_begin,
    // /terms/block_value_offsets, /terms/block_values).
    std::vector<std::uint64_t> block_begin{0}, block_value_offsets{0};
    std::vector<std::uint8_t> block_values;
    // Postings as row lists (/fields/row_begin, /terms/row_offsets, /terms/rows): for a field
    // whose postings take less room that way than as Roaring bitmaps (many terms of few rows,
    // as formulas or paths); its terms then have empty Roaring postings, and other fields'
    // terms empty row lists.
    std::vector<std::uint64_t> row_begin{0}, row_offsets{0};
    std::vector<std::uint32_t> rows;
    // The field being added: its terms so far, their postings as row lists, and about how
    // many bytes they would take as bitmaps.
    std::uint64_t field_terms = 0;
    std::vector<std::uint32_t> field_rows;
    std::vector<std::uint64_t> field_row_ends;
    std::uint64_t field_bitmap_bytes = 0;
    // /numbers
    std::vector<double> numbers;
    std::vector<std::uint32_t> number_rows;
    // The numbers index: the first value of every kNumberBlock numbers of a field
    // (/fields/number_block_begin, /numbers/block_values).
    std::vector<std::uint64_t> number_block_begin{0};
    std::vector<double> number_block_values;

    /// Appends a field: its exists bitmap now, its terms and numbers with the calls below
    /// (then end_field).
    void begin_field(const std::string& name, FieldType type, std::uint64_t records,
                     std::span<const std::uint32_t> exists_rows);
    /// `term_rows` increasing (sorted, no duplicates).
    void add_term(std::string_view text, std::span<const std::uint32_t> term_rows);
    /// The field's numbers (once per field), `sorted` by (value, row).
    void add_numbers(const std::vector<std::pair<double, std::uint32_t>>& sorted);
    /// Keeps the field's postings as row lists or as Roaring bitmaps, whichever is smaller
    /// (builds the bitmaps only then).
    void end_field();
};

/// What a segment says about where its rows come from: one shard, or (merged) several.
struct SegmentOrigin {
    std::uint64_t shard_id = 0;
    std::string shard_checksum;
    // Merged segments only: per shard, its id, first row and segment file checksum.
    std::vector<std::uint64_t> merged_ids, merged_row_base;
    std::vector<std::string> merged_checksums;
};

void write_segment_file(const std::string& path, const SegmentArrays& a,
                        const SegmentOrigin& origin, std::uint64_t records,
                        const std::string& policy_json, const std::string& extras_digest,
                        bool durable);

}  // namespace kiln::index::detail
