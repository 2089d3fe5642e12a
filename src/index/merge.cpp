// merge_segments: the segments of many shards as one (Lucene's force-merge), so that a query
// reads one term list, one posting per term and one number column instead of one per shard.
#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <span>

#include "index/segment_arrays.hpp"
#include "kiln/core/error.hpp"
#include "kiln/index/segment.hpp"

namespace kiln::index {
namespace {

// Appends `rows` (each below `records`) shifted by `base` to `out`.
void append_shifted(std::span<const std::uint32_t> rows, std::uint64_t base, std::uint64_t records,
                    std::vector<std::uint32_t>& out, const std::string& path,
                    const std::string& field) {
    for (const std::uint32_t r : rows) {
        if (r >= records) {
            throw DataError("index segment '" + path + "', field '" + field + "': row " +
                            std::to_string(r) + " is past its " + std::to_string(records) +
                            " records");
        }
        out.push_back(static_cast<std::uint32_t>(r + base));
    }
}

void append_shifted(const Roaring& r, std::uint64_t base, std::uint64_t records,
                    std::vector<std::uint32_t>& out, const std::string& path,
                    const std::string& field) {
    std::vector<std::uint32_t> rows(r.cardinality());
    r.toUint32Array(rows.data());
    append_shifted(rows, base, records, out, path, field);
}

}  // namespace

void merge_segments(const std::vector<std::string>& segment_paths,
                    const std::vector<std::uint64_t>& shard_ids,
                    const std::vector<std::string>& segment_checksums,
                    const std::string& merged_path, bool durable) {
    const std::size_t n = segment_paths.size();
    if (n == 0 || shard_ids.size() != n || segment_checksums.size() != n) {
        throw UsageError("merge_segments: one shard id and checksum per segment, at least one");
    }
    // First pass: where each segment's rows go, the union of the fields and their types. The
    // readers opened here serve the merge below until they hold too much.
    std::vector<std::unique_ptr<SegmentReader>> readers(n);
    std::vector<std::uint64_t> base{0};
    std::map<std::string, unsigned> field_types;  // name -> bit per FieldType
    std::string policy;
    for (std::size_t k = 0; k < n; ++k) {
        readers[k] = std::make_unique<SegmentReader>(segment_paths[k]);
        const SegmentReader& seg = *readers[k];
        if (!seg.merged_shards().empty()) {
            throw UsageError("'" + segment_paths[k] + "' is a merged segment already");
        }
        if (k > 0 && shard_ids[k] <= shard_ids[k - 1]) {
            throw UsageError("merge_segments: shard ids must increase");
        }
        const std::string p = seg.policy().to_json().dump();
        if (k > 0 && p != policy) {
            throw DataError("'" + segment_paths[k] +
                            "' was built with other keyword fields than '" + segment_paths[0] +
                            "'; bring the index up to date with `kiln index DATA` first");
        }
        policy = p;
        base.push_back(base.back() + seg.records());
        for (const auto& f : seg.fields())
            field_types[f.name] |= 1U << static_cast<unsigned>(f.type);
    }
    if (base.back() > std::numeric_limits<std::uint32_t>::max()) {
        throw UsageError("cannot merge " + std::to_string(base.back()) +
                         " records into one index segment (at most 4 294 967 295 rows)");
    }
    // One field at a time, from every segment: memory holds one field of the dataset.
    // Readers keep what they read: they are opened again once they hold this many values.
    constexpr std::uint64_t kReopenAfterValues = std::uint64_t{1} << 26U;
    std::uint64_t held = 0;
    detail::SegmentArrays a;
    for (const auto& [name, type_bits] : field_types) {
        if (held >= kReopenAfterValues) {
            for (std::size_t k = 0; k < n; ++k) {
                readers[k].reset();
                readers[k] = std::make_unique<SegmentReader>(segment_paths[k]);
            }
            held = 0;
        }
        // Per segment, its terms' postings: bitmaps, or row lists (no bitmap built for them).
        std::vector<std::vector<const Roaring*>> postings(n);
        std::vector<std::vector<std::span<const std::uint32_t>>> lists(n);
        struct TermRef {
            std::string_view text;
            std::uint32_t segment;
            std::uint32_t term;
        };
        std::vector<TermRef> terms;
        std::vector<std::uint32_t> exists;
        std::vector<std::pair<double, std::uint32_t>> numbers;
        std::uint64_t records = 0;
        for (std::size_t k = 0; k < n; ++k) {
            const SegmentReader& seg = *readers[k];
            const SegmentField* f = seg.field(name);
            if (f == nullptr) continue;
            records += f->records;
            append_shifted(seg.exists(*f), base[k], seg.records(), exists, segment_paths[k], name);
            const TermTexts& texts = seg.term_texts(*f);
            if (f->row_end > f->row_begin) {
                lists[k] = seg.term_row_lists(*f);
            } else if (!texts.empty()) {
                postings[k] = seg.postings(*f);
            }
            for (std::size_t i = 0; i < texts.size(); ++i) {
                terms.push_back(
                    {texts[i], static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(i)});
            }
            const NumberColumn& c = seg.numbers(*f);  // rows checked against records
            for (std::size_t i = 0; i < c.values.size(); ++i) {
                numbers.emplace_back(c.values[i], static_cast<std::uint32_t>(c.rows[i] + base[k]));
            }
        }
        a.begin_field(name, combined_type(type_bits), records, exists);
        // Equal texts side by side, in segment order: their rows then come in increasing order.
        std::sort(terms.begin(), terms.end(), [](const TermRef& x, const TermRef& y) {
            return x.text != y.text ? x.text < y.text : x.segment < y.segment;
        });
        std::vector<std::uint32_t> rows;
        for (std::size_t i = 0; i < terms.size();) {
            rows.clear();
            std::size_t j = i;
            for (; j < terms.size() && terms[j].text == terms[i].text; ++j) {
                const std::uint32_t k = terms[j].segment;
                const std::uint32_t t = terms[j].term;
                if (lists[k].empty()) {
                    append_shifted(*postings[k][t], base[k], readers[k]->records(), rows,
                                   segment_paths[k], name);
                } else {
                    append_shifted(lists[k][t], base[k], readers[k]->records(), rows,
                                   segment_paths[k], name);
                }
            }
            a.add_term(terms[i].text, rows);
            i = j;
        }
        held += exists.size() + numbers.size();
        for (std::size_t k = 0; k < n; ++k) {
            for (const Roaring* p : postings[k]) held += p->cardinality();
            for (const auto& l : lists[k]) held += l.size();
        }
        std::sort(numbers.begin(), numbers.end());
        a.add_numbers(numbers);
        a.end_field();
    }
    detail::SegmentOrigin origin;
    origin.shard_id = shard_ids.front();
    origin.shard_checksum = "merged";
    origin.merged_ids = shard_ids;
    origin.merged_row_base = base;
    origin.merged_checksums = segment_checksums;
    detail::write_segment_file(merged_path, a, origin, base.back(), policy, {}, durable);
}

}  // namespace kiln::index
