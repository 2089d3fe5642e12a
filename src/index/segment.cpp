#include "kiln/index/segment.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <numeric>
#include <set>
#include <span>
#include <stdexcept>
#include <unordered_map>

#include "index/segment_arrays.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/store/layout.hpp"
#include "kiln/store/predictions.hpp"
#include "kiln/store/shard.hpp"
#include "store/h5.hpp"

namespace kiln::index {
namespace h5 = store::h5;
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void append_bitmap(const Roaring& r, std::vector<std::uint8_t>& blob,
                   std::vector<std::uint64_t>& offsets) {
    const std::size_t at = blob.size();
    blob.resize(at + r.getSizeInBytes(true));
    r.write(reinterpret_cast<char*>(blob.data() + at), true);
    offsets.push_back(blob.size());
}

// Rows in increasing order as a bitmap.
Roaring bitmap_of(std::span<const std::uint32_t> rows) {
    Roaring r;
    r.addMany(rows.size(), rows.data());
    r.runOptimize();
    return r;
}

// About the size of `rows` (increasing) as a run-optimized portable Roaring bitmap: per chunk
// of 65 536 rows the smallest of an array (2 bytes a row), a bitset (8 KB) and runs (4 bytes
// a run), plus 8 bytes a chunk and 8 a bitmap. Enough to choose between bitmaps and row lists
// without building the bitmaps.
std::uint64_t bitmap_bytes(std::span<const std::uint32_t> rows) {
    std::uint64_t bytes = 8;
    for (std::size_t i = 0; i < rows.size();) {
        const std::uint32_t chunk = rows[i] >> 16U;
        std::uint64_t n = 0, runs = 0;
        for (; i < rows.size() && rows[i] >> 16U == chunk; ++i, ++n) {
            if (n == 0 || rows[i] != rows[i - 1] + 1) ++runs;
        }
        bytes += 8 + std::min({2 * n, std::uint64_t{8192}, 2 + 4 * runs});
    }
    return bytes;
}

// The rows whose bits are set, as a bitmap. The bitmap is written in Roaring's portable format
// (github.com/RoaringBitmap/RoaringFormatSpec, the same in every CRoaring version) and read
// back: a 65 536-row chunk with more than 4 096 rows becomes a bitset container by copying its
// 8 KB, not by adding its rows one at a time.
Roaring bitset_to_bitmap(const std::vector<std::uint64_t>& bits) {
    static_assert(std::endian::native == std::endian::little,
                  "Roaring's portable format is little-endian");
    constexpr std::uint32_t kChunkWords = 1024;  // 65 536 rows
    constexpr std::uint32_t kArrayMax = 4096;    // more rows than this: a bitset container
    constexpr std::uint32_t kCookieNoRuns = 12346;
    struct Chunk {
        std::uint16_t key;
        std::uint32_t rows;
    };
    std::vector<Chunk> chunks;
    for (std::size_t w = 0; w < bits.size(); w += kChunkWords) {
        std::uint32_t n = 0;
        for (std::size_t k = w; k < std::min<std::size_t>(bits.size(), w + kChunkWords); ++k)
            n += static_cast<std::uint32_t>(std::popcount(bits[k]));
        if (n > 0) chunks.push_back({static_cast<std::uint16_t>(w / kChunkWords), n});
    }
    if (chunks.empty()) return {};
    std::size_t size = 8 + chunks.size() * 8;
    for (const Chunk& c : chunks) size += c.rows > kArrayMax ? kChunkWords * 8 : c.rows * 2;
    std::string out(size, '\0');
    char* p = out.data();
    const auto put = [&p](auto v) {
        std::memcpy(p, &v, sizeof v);
        p += sizeof v;
    };
    put(kCookieNoRuns);
    put(static_cast<std::uint32_t>(chunks.size()));
    for (const Chunk& c : chunks) {
        put(c.key);
        put(static_cast<std::uint16_t>(c.rows - 1));
    }
    std::uint32_t offset = static_cast<std::uint32_t>(8 + chunks.size() * 8);
    for (const Chunk& c : chunks) {
        put(offset);
        offset += c.rows > kArrayMax ? kChunkWords * 8 : c.rows * 2;
    }
    for (const Chunk& c : chunks) {
        const std::size_t w0 = std::size_t{c.key} * kChunkWords;
        const std::size_t words = std::min<std::size_t>(bits.size() - w0, kChunkWords);
        if (c.rows > kArrayMax) {
            std::memcpy(p, bits.data() + w0, words * 8);  // a short last chunk stays zero-padded
            p += kChunkWords * 8;
            continue;
        }
        for (std::size_t w = 0; w < words; ++w) {
            for (std::uint64_t x = bits[w0 + w]; x != 0; x &= x - 1)
                put(static_cast<std::uint16_t>(w * 64 +
                                               static_cast<std::size_t>(std::countr_zero(x))));
        }
    }
    return Roaring::readSafe(out.data(), out.size());
}

// The rows of several lists, in any order (duplicates allowed), as a bitmap: sorted when few,
// through a dense bitset of the segment's rows when many (O(rows + records / 64), no sort).
Roaring rows_to_bitmap(const std::vector<std::span<const std::uint32_t>>& lists,
                       std::uint64_t records) {
    std::size_t n = 0;
    for (const auto& l : lists) n += l.size();
    if (n * 64 < records) {
        std::vector<std::uint32_t> sorted;
        sorted.reserve(n);
        for (const auto& l : lists) sorted.insert(sorted.end(), l.begin(), l.end());
        std::sort(sorted.begin(), sorted.end());
        Roaring out;
        out.addMany(sorted.size(), sorted.data());
        return out;
    }
    std::vector<std::uint64_t> bits((records + 63) / 64);
    for (const auto& l : lists) {
        for (const std::uint32_t r : l) {
            if (r < records) bits[r >> 6U] |= std::uint64_t{1} << (r & 63U);
        }
    }
    return bitset_to_bitmap(bits);
}

Roaring read_bitmap(std::string_view bytes, const std::string& what) {
    try {
        return Roaring::readSafe(bytes.data(), bytes.size());
    } catch (const std::exception& e) {
        throw DataError(what + ": corrupt bitmap (" + e.what() + ")");
    }
}

}  // namespace

SegmentBuilder::SegmentBuilder(IndexPolicy policy) : policy_(std::move(policy)) {}

void SegmentBuilder::add(std::uint32_t row, const nlohmann::json& record) {
    if (finished_) throw std::logic_error("SegmentBuilder::add after finish()");
    std::size_t ordinal = 0;
    flatten(record, [&](const Leaf& leaf) { add_leaf(row, ordinal++, leaf); });
}

void SegmentBuilder::add_json(std::uint32_t row, std::string_view metadata_json,
                              const std::vector<Leaf>& extra) {
    if (finished_) throw std::logic_error("SegmentBuilder::add_json after finish()");
    std::size_t ordinal = 0;
    try {
        flatten_text(metadata_json, [&](const Leaf& leaf) { add_leaf(row, ordinal++, leaf); });
    } catch (const DataError& e) {
        throw DataError("record row " + std::to_string(row) + ": metadata is " + e.what());
    }
    for (const Leaf& leaf : extra) add_leaf(row, ordinal++, leaf);
}

void SegmentBuilder::add_leaf(std::uint32_t row, std::size_t ordinal, const Leaf& leaf) {
    // Records of one shard mostly share their field sequence: the field at the same leaf
    // ordinal in the previous record is usually this one, which saves a map lookup.
    if (ordinal >= recent_.size()) recent_.resize(ordinal + 1, nullptr);
    Slot* slot = recent_[ordinal];
    if (slot == nullptr || slot->first != leaf.field) {
        auto it = fields_.find(leaf.field);
        if (it == fields_.end()) it = fields_.emplace(std::string(leaf.field), Field{}).first;
        slot = &*it;
        recent_[ordinal] = slot;
    }
    Field& f = slot->second;
    f.kinds |= kind_bit(leaf.kind);
    if (f.rows.empty() || f.rows.back() != row) f.rows.push_back(row);
    if (leaf.kind == ValueKind::kNumber) {
        if (!std::isnan(leaf.number)) f.numbers.emplace_back(leaf.number, row);
        return;
    }
    if (f.keyword == 0) f.keyword = policy_.is_keyword(leaf.field) ? 1 : 2;
    if (f.keyword != 1) return;
    // Files with many records repeat their files.* values row after row.
    std::uint32_t term = 0;
    if (!f.term_rows.empty() && f.terms[f.term_rows.back().first] == leaf.text) {
        term = f.term_rows.back().first;
        if (f.term_rows.back().second == row) return;
    } else {
        term = f.term_of(leaf.text, *arena_);
    }
    f.term_rows.emplace_back(term, row);
}

SegmentBuilder::~SegmentBuilder() = default;

void SegmentBuilder::finish() {
    if (finished_) return;
    finished_ = std::make_unique<detail::SegmentArrays>();
    detail::SegmentArrays& a = *finished_;
    for (auto& [name, f] : fields_) {
        a.begin_field(name, field_type_of(f.kinds), f.rows.size(), f.rows);
        // Each term's rows, in term number order (a counting sort keeps rows increasing).
        std::vector<std::size_t> begin(f.terms.size() + 1);
        for (const auto& [term, row] : f.term_rows) ++begin[term + 1];
        for (std::size_t t = 0; t < f.terms.size(); ++t) begin[t + 1] += begin[t];
        std::vector<std::uint32_t> rows(f.term_rows.size());
        std::vector<std::size_t> at(begin.begin(), begin.end() - 1);
        for (const auto& [term, row] : f.term_rows) rows[at[term]++] = row;
        std::vector<std::uint32_t> by_text(f.terms.size());
        std::iota(by_text.begin(), by_text.end(), 0U);
        const auto& terms = f.terms;  // (clang before 16 captures no structured binding)
        std::sort(by_text.begin(), by_text.end(),
                  [&terms](std::uint32_t x, std::uint32_t y) { return terms[x] < terms[y]; });
        for (const std::uint32_t t : by_text) {
            // A record that holds a value twice, not one after the other, added its row twice.
            const auto first = rows.begin() + static_cast<std::ptrdiff_t>(begin[t]);
            const auto last =
                std::unique(first, rows.begin() + static_cast<std::ptrdiff_t>(begin[t + 1]));
            a.add_term(f.terms[t], std::span(first, last));
        }
        auto& sorted = f.numbers;  // rows are increasing: kiln.row is sorted already
        if (!std::is_sorted(sorted.begin(), sorted.end())) std::sort(sorted.begin(), sorted.end());
        a.add_numbers(sorted);
        a.end_field();
    }
    fields_.clear();
    recent_.clear();
    arena_ = std::make_unique<std::pmr::monotonic_buffer_resource>();
}

std::uint32_t SegmentBuilder::Field::term_of(std::string_view text,
                                             std::pmr::memory_resource& arena) {
    if (2 * (terms.size() + 1) > slots.size()) {  // at most half full
        std::vector<std::uint32_t> grown(std::max<std::size_t>(64, 2 * slots.size()), 0);
        const std::size_t mask = grown.size() - 1;
        for (std::uint32_t t = 0; t < terms.size(); ++t) {
            std::size_t at = xxh3_64(terms[t].data(), terms[t].size()) & mask;
            while (grown[at] != 0) at = (at + 1) & mask;
            grown[at] = t + 1;
        }
        slots = std::move(grown);
    }
    const std::size_t mask = slots.size() - 1;
    std::size_t at = xxh3_64(text.data(), text.size()) & mask;
    for (; slots[at] != 0; at = (at + 1) & mask) {
        if (terms[slots[at] - 1] == text) return slots[at] - 1;
    }
    char* copy = static_cast<char*>(arena.allocate(text.size(), 1));
    std::copy(text.begin(), text.end(), copy);
    terms.emplace_back(copy, text.size());
    slots[at] = static_cast<std::uint32_t>(terms.size());
    return static_cast<std::uint32_t>(terms.size() - 1);
}

void SegmentBuilder::write(const std::string& path, std::uint64_t shard_id, std::uint64_t records,
                           const Hash128& shard_checksum, bool durable,
                           const std::string& extras_digest) {
    finish();
    detail::SegmentOrigin origin;
    origin.shard_id = shard_id;
    origin.shard_checksum = shard_checksum.hex();
    detail::write_segment_file(path, *finished_, origin, records, policy_.to_json().dump(),
                               extras_digest, durable);
}

namespace detail {

void SegmentArrays::begin_field(const std::string& name, FieldType type, std::uint64_t records,
                                std::span<const std::uint32_t> exists_rows) {
    names.push_back(name);
    types.emplace_back(to_string(type));
    counts.push_back(records);
    append_bitmap(bitmap_of(exists_rows), exists_blob, exists_offsets);
    mins.push_back(kNaN);
    maxs.push_back(kNaN);
}

void SegmentArrays::add_term(std::string_view text, std::span<const std::uint32_t> term_rows) {
    if (field_terms++ % kTermBlock == 0) {
        block_values.insert(block_values.end(), text.begin(), text.end());
        block_value_offsets.push_back(block_values.size());
    }
    values.insert(values.end(), text.begin(), text.end());
    value_offsets.push_back(values.size());
    field_rows.insert(field_rows.end(), term_rows.begin(), term_rows.end());
    field_row_ends.push_back(field_rows.size());
    field_bitmap_bytes += bitmap_bytes(term_rows);
    term_counts.push_back(term_rows.size());
}

void SegmentArrays::add_numbers(const std::vector<std::pair<double, std::uint32_t>>& sorted) {
    if (sorted.empty()) return;
    for (std::size_t i = 0; i < sorted.size(); i += kNumberBlock)
        number_block_values.push_back(sorted[i].first);
    for (const auto& [v, r] : sorted) {
        numbers.push_back(v);
        number_rows.push_back(r);
    }
    if (std::isnan(mins.back()) || sorted.front().first < mins.back())
        mins.back() = sorted.front().first;
    if (std::isnan(maxs.back()) || sorted.back().first > maxs.back())
        maxs.back() = sorted.back().first;
}

void SegmentArrays::end_field() {
    if (field_rows.size() * sizeof(std::uint32_t) < field_bitmap_bytes) {  // row lists
        posting_offsets.insert(posting_offsets.end(), field_terms, postings.size());
        for (const std::uint64_t end : field_row_ends) row_offsets.push_back(rows.size() + end);
        rows.insert(rows.end(), field_rows.begin(), field_rows.end());
    } else {  // bitmaps
        std::uint64_t begin = 0;
        for (const std::uint64_t end : field_row_ends) {
            append_bitmap(bitmap_of(std::span(field_rows).subspan(begin, end - begin)), postings,
                          posting_offsets);
            begin = end;
        }
        row_offsets.insert(row_offsets.end(), field_terms, rows.size());
    }
    row_begin.push_back(rows.size());
    field_rows.clear();
    field_row_ends.clear();
    field_bitmap_bytes = 0;
    field_terms = 0;
    block_begin.push_back(block_value_offsets.size() - 1);
    term_begin.push_back(term_counts.size());
    number_begin.push_back(numbers.size());
    number_block_begin.push_back(number_block_values.size());
}

void write_segment_file(const std::string& path, const SegmentArrays& a,
                        const SegmentOrigin& origin, std::uint64_t records,
                        const std::string& policy_json, const std::string& extras_digest,
                        bool durable) {
    // Searches read a few elements of a column at a time: paged columns (see h5::Layout).
    constexpr auto kPaged = h5::Layout::paged;
    h5::write_kiln_file(path, "segment", durable, h5::kHeadersTogether, [&](hid_t root) {
        h5::set_attr(root, "shard_id", static_cast<std::int64_t>(origin.shard_id));
        h5::set_attr(root, "records", static_cast<std::int64_t>(records));
        h5::set_attr(root, "shard_checksum", origin.shard_checksum);
        h5::set_attr(root, "policy", policy_json);
        if (!extras_digest.empty()) h5::set_attr(root, "extras_digest", extras_digest);
        if (!origin.merged_ids.empty()) {
            h5::Handle g = h5::create_group(root, "shards");
            h5::write_u64(g.id(), "id", origin.merged_ids, kPaged);
            h5::write_u64(g.id(), "row_base", origin.merged_row_base, kPaged);
            h5::write_strings(g.id(), "segment_checksum", origin.merged_checksums);
        }
        {
            h5::Handle g = h5::create_group(root, "fields");
            h5::write_strings(g.id(), "name", a.names);
            h5::write_strings(g.id(), "type", a.types);
            h5::write_u64(g.id(), "records", a.counts, kPaged);
            h5::write_u64(g.id(), "exists_offsets", a.exists_offsets, kPaged);
            h5::write_u8(g.id(), "exists", a.exists_blob, kPaged);
            h5::write_u64(g.id(), "term_begin", a.term_begin, kPaged);
            h5::write_u64(g.id(), "number_begin", a.number_begin, kPaged);
            h5::write_u64(g.id(), "block_begin", a.block_begin, kPaged);
            h5::write_u64(g.id(), "row_begin", a.row_begin, kPaged);
            h5::write_u64(g.id(), "number_block_begin", a.number_block_begin, kPaged);
            h5::write_f64(g.id(), "number_min", a.mins, kPaged);
            h5::write_f64(g.id(), "number_max", a.maxs, kPaged);
        }
        {
            h5::Handle g = h5::create_group(root, "terms");
            h5::write_u64(g.id(), "value_offsets", a.value_offsets, kPaged);
            h5::write_u8(g.id(), "values", a.values, kPaged);
            h5::write_u64(g.id(), "posting_offsets", a.posting_offsets, kPaged);
            h5::write_u8(g.id(), "postings", a.postings, kPaged);
            h5::write_u64(g.id(), "count", a.term_counts, kPaged);
            h5::write_u64(g.id(), "block_value_offsets", a.block_value_offsets, kPaged);
            h5::write_u8(g.id(), "block_values", a.block_values, kPaged);
            h5::write_u64(g.id(), "row_offsets", a.row_offsets, kPaged);
            h5::write_u32(g.id(), "rows", a.rows, kPaged);
        }
        {
            h5::Handle g = h5::create_group(root, "numbers");
            h5::write_f64(g.id(), "values", a.numbers, kPaged);
            h5::write_u32(g.id(), "rows", a.number_rows, kPaged);
            h5::write_f64(g.id(), "block_values", a.number_block_values, kPaged);
        }
    });
}

}  // namespace detail

void build_segment(const std::string& shard_path, const std::string& segment_path,
                   const IndexPolicy& policy, const Hash128& shard_checksum, bool durable,
                   const SegmentExtras* extras) {
    std::uint64_t shard_id = 0;
    std::vector<store::RecordRow> rows;
    {
        const store::ShardReader shard(shard_path);  // takes the HDF5 lock itself
        shard_id = shard.shard_id();
        rows = shard.records();
    }
    // Each predictions file: per row, where its values start (-1 for none).
    struct Column {
        const std::string* field;
        store::Predictions p;
        std::vector<std::int64_t> first;
    };
    std::vector<Column> columns;
    if (extras != nullptr) {
        for (const auto& src : extras->sources) {
            Column c{&src.field, store::read_predictions(src.path),
                     std::vector<std::int64_t>(rows.size(), -1)};
            for (std::size_t i = 0; i < c.p.record_ids.size(); ++i) {
                const std::uint64_t row = c.p.record_ids[i] & 0xffffffffU;
                if (row >= rows.size())
                    throw DataError("'" + src.path + "': record row " + std::to_string(row) +
                                    " is not in its shard (" + std::to_string(rows.size()) +
                                    " rows)");
                c.first[row] = static_cast<std::int64_t>(i * c.p.columns);
            }
            columns.push_back(std::move(c));
        }
    }
    SegmentBuilder builder(policy);
    std::vector<Leaf> extra;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        extra.clear();
        for (const Column& c : columns) {
            if (c.first[i] < 0) continue;
            for (std::uint64_t k = 0; k < c.p.columns; ++k) {
                Leaf leaf{*c.field,
                          ValueKind::kNumber,
                          {},
                          c.p.values[static_cast<std::size_t>(c.first[i]) + k]};
                extra.push_back(leaf);
            }
        }
        try {
            builder.add_json(static_cast<std::uint32_t>(i), rows[i].metadata_json, extra);
        } catch (const DataError& e) {
            throw DataError("'" + shard_path + "': " + e.what());
        }
    }
    builder.write(segment_path, shard_id, rows.size(), shard_checksum, durable,
                  extras != nullptr ? extras->digest : std::string());
}

struct SegmentReader::Impl {
    std::string path;
    h5::Handle file;
    h5::Handle fields_group, terms_group, numbers_group;
    std::uint64_t shard_id = 0;
    std::uint64_t records = 0;
    std::string shard_checksum;
    std::string extras_digest;
    std::string policy;
    std::vector<SegmentField> fields;
    std::vector<std::uint64_t> exists_offsets;
    std::vector<MergedShard> merged;

    // What has been read, by field index. Entries are
    // never removed, so references to them stay valid.
    std::mutex cache_mutex;
    std::map<std::size_t, std::unique_ptr<Roaring>> exists;
    std::map<std::size_t, std::unique_ptr<TermTexts>> texts;
    // The terms index: per field, its block heads; per (field, block), the block's terms.
    std::map<std::size_t, std::unique_ptr<TermTexts>> heads;
    std::map<std::pair<std::size_t, std::size_t>, std::unique_ptr<TermTexts>> blocks;
    // A field's postings by term number, in blocks of kTermBlock terms made at the first read
    // of one of theirs: one term of a field of a million costs one block, not a million
    // pointers zeroed at the read and walked at the close.
    class PostingSlots {
    public:
        [[nodiscard]] bool has(std::size_t t) const {
            const std::size_t k = t / kTermBlock;
            return k < blocks_.size() && blocks_[k] && (*blocks_[k])[t % kTermBlock];
        }
        std::unique_ptr<Roaring>& operator[](std::size_t t) {
            const std::size_t k = t / kTermBlock;
            if (k >= blocks_.size()) blocks_.resize(k + 1);
            if (!blocks_[k]) blocks_[k] = std::make_unique<Block>();
            return (*blocks_[k])[t % kTermBlock];
        }

    private:
        using Block = std::array<std::unique_ptr<Roaring>, kTermBlock>;
        std::vector<std::unique_ptr<Block>> blocks_;
    };
    std::vector<PostingSlots> postings;  // by field index
    // Postings kept as row lists: per (field, block of kTermBlock terms), the rows of the
    // block's terms one after the other and where each term's end.
    struct RowBlock {
        std::vector<std::uint32_t> rows;
        std::vector<std::size_t> ends;
    };
    std::map<std::pair<std::size_t, std::size_t>, std::unique_ptr<RowBlock>> row_blocks;
    std::map<std::size_t, std::unique_ptr<NumberColumn>> numbers;
    // The numbers index: per field, its block heads; per (field, block of kNumberBlock
    // numbers), the block's rows, and its values once a range has ended in it.
    std::map<std::size_t, std::unique_ptr<std::vector<double>>> number_heads;
    std::map<std::pair<std::size_t, std::size_t>, std::unique_ptr<NumberColumn>> number_blocks;
    std::map<std::size_t, std::unique_ptr<std::vector<std::uint32_t>>> term_of_row;  // null: multi
    std::map<std::size_t, std::unique_ptr<std::vector<std::uint32_t>>>
        number_of_row;  // null: multi
    std::set<std::size_t> number_of_row_asked;

    [[nodiscard]] std::string what(const SegmentField& f) const {
        return "index segment '" + path + "', field '" + f.name + "'";
    }
    [[nodiscard]] std::size_t index_of(const SegmentField& f) const {
        return static_cast<std::size_t>(&f - fields.data());
    }
    // DataError when one of f's rows read from the file is not a row of the segment.
    void check_rows(const SegmentField& f, std::span<const std::uint32_t> read) const {
        for (const std::uint32_t r : read) {
            if (r >= records)
                throw DataError(what(f) + ": row " + std::to_string(r) + " out of range");
        }
    }

    // The /shards table of a merged segment, checked: ids increasing, row bases from 0 to the
    // segment's records.
    void read_merged_shards(hid_t root) {
        h5::Handle g = h5::open_group(root, "shards");
        const auto ids = h5::read_u64(g.id(), "id");
        const auto base = h5::read_u64(g.id(), "row_base");
        const auto sums = h5::read_strings(g.id(), "segment_checksum");
        if (ids.empty() || base.size() != ids.size() + 1 || sums.size() != ids.size() ||
            base.front() != 0 || base.back() != records) {
            throw DataError("'" + path + "': the /shards table does not cover its " +
                            std::to_string(records) + " rows");
        }
        for (std::size_t i = 0; i < ids.size(); ++i) {
            if (base[i + 1] < base[i] || (i > 0 && ids[i] <= ids[i - 1])) {
                throw DataError("'" + path + "': the /shards table is not in order at shard " +
                                std::to_string(ids[i]));
            }
            merged.push_back({ids[i], base[i], base[i + 1] - base[i], sums[i]});
        }
    }

    // Runs `read` (HDF5 reads of f's data) under the library lock. A page whose checksum (or, in
    // segments written before paged columns, a chunk whose Fletcher-32) does not match is a
    // DataError naming the file; other read failures stay I/O errors.
    template <class Read>
    void read_h5(const SegmentField& f, Read&& read) const {
        try {
            const std::lock_guard lock(h5::library_mutex());
            read();
        } catch (const DataError& e) {
            // From the HDF5 layer: a page that does not match its checksum, or a read past a
            // column's end. A check of `read`'s own names the field already.
            if (std::string_view(e.what()).starts_with(what(f))) throw;
            throw DataError(what(f) + ": the file is damaged (" + e.what() +
                            "); `kiln index DATA --rebuild` writes it again");
        } catch (const IoError& e) {
            const std::string message = e.what();
            if (message.find("Fletcher32") == std::string::npos)
                throw IoError(what(f) + ": " + message);
            throw DataError(what(f) + ": the file is damaged (" + message +
                            "); `kiln index DATA --rebuild` writes it again");
        }
    }

    // Reads the texts of f's terms [first, last) (numbers within f) from the values dataset
    // `values` and its offsets `offsets`.
    TermTexts read_texts(const SegmentField& f, std::uint64_t first, std::uint64_t last,
                         const char* offsets, const char* values) {
        if (first == last) return {};
        std::vector<std::uint64_t> offs;
        std::string bytes;
        read_h5(f, [&] {
            offs = h5::read_u64(terms_group.id(), offsets, first, last + 1);
            h5::Handle ds = h5::open_dataset(terms_group.id(), values);
            bytes = h5::read_bytes(ds.id(), offs.front(), offs.back() - offs.front());
        });
        std::vector<std::uint64_t> ends(offs.size() - 1);
        for (std::size_t i = 0; i + 1 < offs.size(); ++i) {
            if (offs[i + 1] < offs[i] || offs[i + 1] > offs.back()) {
                throw DataError(what(f) + ": term offsets are not increasing");
            }
            ends[i] = offs[i + 1] - offs.front();
        }
        return {std::move(bytes), std::move(ends)};
    }

    // Reads the term texts of f (caller holds cache_mutex).
    const TermTexts& load_texts(const SegmentField& f) {
        auto& slot = texts[index_of(f)];
        if (!slot) {
            slot = std::make_unique<TermTexts>(
                read_texts(f, f.term_begin, f.term_end, "value_offsets", "values"));
        }
        return *slot;
    }

    // The terms [first, last) of f (numbers within f) that equal `value`, or start with it
    // when `prefix`: from the whole term list when it is read (or there is no terms index),
    // else from the block heads and the blocks that can hold them (caller holds cache_mutex).
    std::pair<std::size_t, std::size_t> find_terms(const SegmentField& f, std::string_view value,
                                                   bool prefix) {
        if (texts.count(index_of(f)) != 0 || f.block_begin == f.block_end) {
            const TermTexts& all = load_texts(f);
            if (prefix) return all.prefix_range(value);
            const std::size_t i = all.lower_bound(value);
            return {i, i < all.size() && all[i] == value ? i + 1 : i};
        }
        auto& h = heads[index_of(f)];
        if (!h) {
            h = std::make_unique<TermTexts>(
                read_texts(f, f.block_begin, f.block_end, "block_value_offsets", "block_values"));
        }
        const auto block = [&](std::size_t k) -> const TermTexts& {
            auto& b = blocks[{index_of(f), k}];
            const std::uint64_t first = f.term_begin + k * kTermBlock;
            if (!b) {
                b = std::make_unique<TermTexts>(read_texts(
                    f, first, std::min(first + kTermBlock, f.term_end), "value_offsets", "values"));
            }
            return *b;
        };
        // The block whose head is the last one not after `value`.
        const std::size_t at = h->lower_bound(value);
        const std::size_t k = at < h->size() && (*h)[at] == value ? at : (at == 0 ? 0 : at - 1);
        const TermTexts& first = block(k);
        const std::size_t i = first.lower_bound(value);
        const std::size_t begin = k * kTermBlock + i;
        if (!prefix) return {begin, i < first.size() && first[i] == value ? begin + 1 : begin};
        // Terms with the prefix run on through the blocks whose heads have it.
        std::size_t last = k;
        while (last + 1 < h->size() && (*h)[last + 1].starts_with(value)) ++last;
        return {begin, last * kTermBlock + block(last).prefix_range(value).second};
    }

    // The row lists of f's terms [begin, end) (numbers within f; f keeps its postings as row
    // lists), one list per block of terms. Reads the blocks not read yet with one read of their
    // offsets and one of their rows (caller holds cache_mutex).
    std::vector<std::span<const std::uint32_t>> row_lists(const SegmentField& f, std::size_t begin,
                                                          std::size_t end) {
        const std::size_t fi = index_of(f);
        const std::size_t terms = f.term_end - f.term_begin;
        std::size_t first = begin / kTermBlock, last = (end - 1) / kTermBlock;
        while (first <= last && row_blocks.count({fi, first}) != 0) ++first;
        while (last > first && row_blocks.count({fi, last}) != 0) --last;
        if (first <= last) {
            const std::size_t t0 = first * kTermBlock;
            const std::size_t t1 = std::min(terms, (last + 1) * kTermBlock);
            std::vector<std::uint64_t> offs;
            std::vector<std::uint32_t> rows;
            read_h5(f, [&] {
                offs = h5::read_u64(terms_group.id(), "row_offsets", f.term_begin + t0,
                                    f.term_begin + t1 + 1);
                if (offs.front() < f.row_begin || offs.back() > f.row_end ||
                    offs.back() < offs.front()) {
                    throw DataError(what(f) + ": row offsets out of the field's rows");
                }
                rows = h5::read_u32(terms_group.id(), "rows", offs.front(), offs.back());
            });
            for (std::size_t k = first; k <= last; ++k) {
                auto& slot = row_blocks[{fi, k}];
                if (slot) continue;
                auto b = std::make_unique<RowBlock>();
                const std::size_t lo = k * kTermBlock - t0;
                const std::size_t hi = std::min(terms, (k + 1) * kTermBlock) - t0;
                for (std::size_t i = lo; i < hi; ++i) {
                    if (offs[i + 1] < offs[i] || offs[i + 1] > offs.back())
                        throw DataError(what(f) + ": row offsets are not increasing");
                    b->ends.push_back(offs[i + 1] - offs[lo]);
                }
                const auto at = [&](std::size_t i) {
                    return rows.begin() + static_cast<std::ptrdiff_t>(offs[i] - offs.front());
                };
                b->rows.assign(at(lo), at(hi));
                check_rows(f, b->rows);
                slot = std::move(b);
            }
        }
        std::vector<std::span<const std::uint32_t>> out;
        for (std::size_t k = begin / kTermBlock; k <= (end - 1) / kTermBlock; ++k) {
            const RowBlock& b = *row_blocks.at({fi, k});
            const std::size_t lo = std::max(begin, k * kTermBlock) - k * kTermBlock;
            const std::size_t hi = std::min(end, (k + 1) * kTermBlock) - k * kTermBlock;
            const std::size_t from = lo == 0 ? 0 : b.ends[lo - 1];
            out.push_back(std::span(b.rows).subspan(from, b.ends[hi - 1] - from));
        }
        return out;
    }

    // Reads the postings of f's terms [begin, end) (numbers within f) that are not read yet,
    // all at once, and returns f's postings (caller holds cache_mutex).
    PostingSlots& load_postings(const SegmentField& f, std::size_t begin, std::size_t end) {
        auto& slots = postings.at(index_of(f));
        while (begin < end && slots.has(begin)) ++begin;
        while (end > begin && slots.has(end - 1)) --end;
        if (begin == end) return slots;
        if (f.row_end > f.row_begin) {
            (void)row_lists(f, begin, end);  // row lists: one read for all of them
            for (std::size_t t = begin; t < end; ++t) {
                if (!slots.has(t))
                    slots[t] = std::make_unique<Roaring>(bitmap_of(row_lists(f, t, t + 1).front()));
            }
            return slots;
        }
        std::vector<std::uint64_t> offs;
        std::string bytes;
        read_h5(f, [&] {
            offs = h5::read_u64(terms_group.id(), "posting_offsets", f.term_begin + begin,
                                f.term_begin + end + 1);
            h5::Handle ds = h5::open_dataset(terms_group.id(), "postings");
            bytes = h5::read_bytes(ds.id(), offs.front(), offs.back() - offs.front());
        });
        for (std::size_t t = begin; t < end; ++t) {
            const std::size_t i = t - begin;
            if (offs[i + 1] < offs[i] || offs[i + 1] > offs.back()) {
                throw DataError(what(f) + ": posting offsets are not increasing");
            }
            if (slots.has(t)) continue;
            slots[t] = std::make_unique<Roaring>(read_bitmap(
                std::string_view(bytes).substr(offs[i] - offs.front(), offs[i + 1] - offs[i]),
                what(f)));
        }
        return slots;
    }

    // Reads the blocks [first, last] of f's numbers (blocks of kNumberBlock) not read yet: one
    // read of their rows and, with `values`, one of their values. A range needs the values of
    // its two end blocks only; the blocks between give their rows (caller holds cache_mutex).
    void load_number_blocks(const SegmentField& f, std::size_t first, std::size_t last,
                            bool values) {
        const std::size_t fi = index_of(f);
        const auto missing = [&](std::size_t k) {
            const auto it = number_blocks.find({fi, k});
            return it == number_blocks.end() || (values && it->second->values.empty());
        };
        while (first <= last && !missing(first)) ++first;
        while (last > first && !missing(last)) --last;
        if (first > last) return;
        // Rows only when a block has none yet (a block read for its rows may now need values).
        bool rows = false;
        for (std::size_t k = first; k <= last && !rows; ++k)
            rows = !number_blocks.contains({fi, k});
        const std::uint64_t n = f.number_end - f.number_begin;
        const std::uint64_t begin = first * kNumberBlock;
        const std::uint64_t end = std::min(n, (last + 1) * kNumberBlock);
        NumberColumn read;
        read_h5(f, [&] {
            if (values) {
                read.values = h5::read_f64(numbers_group.id(), "values", f.number_begin + begin,
                                           f.number_begin + end);
            }
            if (rows) {
                read.rows = h5::read_u32(numbers_group.id(), "rows", f.number_begin + begin,
                                         f.number_begin + end);
            }
        });
        const std::vector<double>& h = *number_heads.at(fi);
        for (std::size_t k = first; k <= last; ++k) {
            auto& slot = number_blocks[{fi, k}];
            const auto lo = static_cast<std::ptrdiff_t>(k * kNumberBlock - begin);
            const auto hi =
                static_cast<std::ptrdiff_t>(std::min(end, (k + 1) * kNumberBlock) - begin);
            if (!slot) {
                slot = std::make_unique<NumberColumn>();
                slot->rows.assign(read.rows.begin() + lo, read.rows.begin() + hi);
                check_rows(f, slot->rows);
            }
            if (values && slot->values.empty()) {
                slot->values.assign(read.values.begin() + lo, read.values.begin() + hi);
                if (slot->values.front() != h[k])  // (no NaN is indexed)
                    throw DataError(what(f) + ": the numbers index does not match its numbers");
            }
        }
    }

    // How many of f's numbers (sorted) satisfy `before` (true for a prefix of them): from the
    // block heads and the one block where that prefix ends (caller holds cache_mutex).
    template <class Before>
    std::size_t number_position(const SegmentField& f, Before before) {
        auto& h = number_heads[index_of(f)];
        if (!h) {
            std::vector<double> read;
            read_h5(f, [&] {
                read = h5::read_f64(numbers_group.id(), "block_values", f.number_block_begin,
                                    f.number_block_end);
            });
            h = std::make_unique<std::vector<double>>(std::move(read));
        }
        const auto k = static_cast<std::size_t>(std::partition_point(h->begin(), h->end(), before) -
                                                h->begin());
        if (k == 0) return 0;
        load_number_blocks(f, k - 1, k - 1, true);
        const auto& v = number_blocks.at({index_of(f), k - 1})->values;
        return (k - 1) * kNumberBlock +
               static_cast<std::size_t>(std::partition_point(v.begin(), v.end(), before) -
                                        v.begin());
    }

    // The rows of f's numbers [first, last) (first < last), one span per block (caller holds
    // cache_mutex).
    std::vector<std::span<const std::uint32_t>> number_rows(const SegmentField& f,
                                                            std::size_t first, std::size_t last) {
        load_number_blocks(f, first / kNumberBlock, (last - 1) / kNumberBlock, false);
        std::vector<std::span<const std::uint32_t>> out;
        for (std::size_t k = first / kNumberBlock; k <= (last - 1) / kNumberBlock; ++k) {
            const auto& rows = number_blocks.at({index_of(f), k})->rows;
            const std::size_t lo = std::max(first, k * kNumberBlock) - k * kNumberBlock;
            const std::size_t hi = std::min(last, (k + 1) * kNumberBlock) - k * kNumberBlock;
            out.push_back(std::span(rows).subspan(lo, hi - lo));
        }
        return out;
    }
};

SegmentReader::SegmentReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
    const std::lock_guard lock(h5::library_mutex());
    Impl& m = *impl_;
    m.path = path;
    if (!fs::is_file(path)) {
        throw NoInputError("index segment '" + path +
                           "' does not exist; rebuild the index with `kiln index DATA`");
    }
    m.file = h5::open_kiln_file(path, "segment", "index segment");
    const hid_t root = m.file.id();
    m.shard_id = static_cast<std::uint64_t>(h5::get_attr_int(root, "shard_id"));
    m.records = static_cast<std::uint64_t>(h5::get_attr_int(root, "records"));
    m.shard_checksum = h5::get_attr_string(root, "shard_checksum");
    if (h5::has_attr(root, "extras_digest"))
        m.extras_digest = h5::get_attr_string(root, "extras_digest");
    m.policy = h5::get_attr_string(root, "policy");
    if (h5::exists(root, "shards")) m.read_merged_shards(root);
    m.fields_group = h5::open_group(root, "fields");
    m.terms_group = h5::open_group(root, "terms");
    m.numbers_group = h5::open_group(root, "numbers");
    const hid_t g = m.fields_group.id();
    const auto names = h5::read_strings(g, "name");
    const auto types = h5::read_strings(g, "type");
    const auto counts = h5::read_u64(g, "records");
    m.exists_offsets = h5::read_u64(g, "exists_offsets");
    const auto term_begin = h5::read_u64(g, "term_begin");
    // Segments written before the terms index have none: their lookups read whole term lists.
    const auto block_begin = h5::exists(g, "block_begin") ? h5::read_u64(g, "block_begin")
                                                          : std::vector<std::uint64_t>{};
    // Segments written before row lists keep every posting as a Roaring bitmap.
    const auto row_begin =
        h5::exists(g, "row_begin") ? h5::read_u64(g, "row_begin") : std::vector<std::uint64_t>{};
    const auto number_begin = h5::read_u64(g, "number_begin");
    // Segments written before the numbers index have none: their ranges read whole columns.
    const auto number_block_begin = h5::exists(g, "number_block_begin")
                                        ? h5::read_u64(g, "number_block_begin")
                                        : std::vector<std::uint64_t>{};
    const auto mins = h5::read_f64(g, "number_min");
    const auto maxs = h5::read_f64(g, "number_max");
    const std::size_t n = names.size();
    if (types.size() != n || counts.size() != n || m.exists_offsets.size() != n + 1 ||
        term_begin.size() != n + 1 || number_begin.size() != n + 1 || mins.size() != n ||
        maxs.size() != n || (!block_begin.empty() && block_begin.size() != n + 1) ||
        (!row_begin.empty() && row_begin.size() != n + 1) ||
        (!number_block_begin.empty() && number_block_begin.size() != n + 1)) {
        throw DataError("'" + path + "': the /fields columns have different lengths");
    }
    if (term_begin.back() != h5::extent(m.terms_group.id(), "count")) {
        throw DataError("'" + path + "': the field table counts " +
                        std::to_string(term_begin.back()) + " terms, /terms/count holds " +
                        std::to_string(h5::extent(m.terms_group.id(), "count")));
    }
    m.fields.resize(n);
    m.postings.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        SegmentField& f = m.fields[i];
        f.name = names[i];
        f.type = field_type_from_string(types[i]);
        f.records = counts[i];
        f.term_begin = term_begin[i];
        f.term_end = term_begin[i + 1];
        f.number_begin = number_begin[i];
        f.number_end = number_begin[i + 1];
        f.number_min = mins[i];
        f.number_max = maxs[i];
        if (!block_begin.empty()) {
            f.block_begin = block_begin[i];
            f.block_end = block_begin[i + 1];
            const std::uint64_t terms = f.term_end >= f.term_begin ? f.term_end - f.term_begin : 0;
            if (f.block_end < f.block_begin ||
                f.block_end - f.block_begin != (terms + kTermBlock - 1) / kTermBlock) {
                throw DataError("'" + path + "': the terms index of '" + f.name +
                                "' does not fit its terms");
            }
        }
        if (!number_block_begin.empty()) {
            f.number_block_begin = number_block_begin[i];
            f.number_block_end = number_block_begin[i + 1];
            const std::uint64_t numbers =
                f.number_end >= f.number_begin ? f.number_end - f.number_begin : 0;
            if (f.number_block_end < f.number_block_begin ||
                f.number_block_end - f.number_block_begin !=
                    (numbers + kNumberBlock - 1) / kNumberBlock) {
                throw DataError("'" + path + "': the numbers index of '" + f.name +
                                "' does not fit its numbers");
            }
        }
        if (!row_begin.empty()) {
            f.row_begin = row_begin[i];
            f.row_end = row_begin[i + 1];
        }
        if (f.term_end < f.term_begin || f.number_end < f.number_begin || f.row_end < f.row_begin ||
            m.exists_offsets[i + 1] < m.exists_offsets[i] ||
            (i > 0 && !(m.fields[i - 1].name < f.name))) {
            throw DataError("'" + path + "': the field table is not in order at '" + f.name + "'");
        }
    }
}

SegmentReader::~SegmentReader() {
    if (impl_) {
        const std::lock_guard lock(h5::library_mutex());
        impl_.reset();
    }
}
SegmentReader::SegmentReader(SegmentReader&&) noexcept = default;
SegmentReader& SegmentReader::operator=(SegmentReader&&) noexcept = default;

std::uint64_t SegmentReader::shard_id() const { return impl_->shard_id; }
std::uint64_t SegmentReader::records() const { return impl_->records; }
std::string SegmentReader::shard_checksum() const { return impl_->shard_checksum; }
std::string SegmentReader::extras_digest() const { return impl_->extras_digest; }
IndexPolicy SegmentReader::policy() const {
    try {
        return IndexPolicy::from_json(nlohmann::json::parse(impl_->policy));
    } catch (const nlohmann::json::exception& e) {
        throw DataError("index segment '" + impl_->path + "': policy attribute is not JSON (" +
                        e.what() + ")");
    }
}
const std::vector<SegmentField>& SegmentReader::fields() const { return impl_->fields; }
const std::vector<MergedShard>& SegmentReader::merged_shards() const { return impl_->merged; }
const std::string& SegmentReader::path() const { return impl_->path; }

void SegmentReader::check_every_chunk() const {
    const Impl& m = *impl_;
    const std::lock_guard lock(h5::library_mutex());
    try {
        for (const auto& name : {"records", "exists_offsets", "term_begin", "number_begin"})
            (void)h5::read_u64(m.fields_group.id(), name);
        (void)h5::read_u8(m.fields_group.id(), "exists");
        (void)h5::read_f64(m.fields_group.id(), "number_min");
        (void)h5::read_f64(m.fields_group.id(), "number_max");
        for (const auto& name : {"value_offsets", "posting_offsets", "count"})
            (void)h5::read_u64(m.terms_group.id(), name);
        if (h5::exists(m.terms_group.id(), "block_values")) {
            (void)h5::read_u64(m.fields_group.id(), "block_begin");
            (void)h5::read_u64(m.terms_group.id(), "block_value_offsets");
            (void)h5::read_u8(m.terms_group.id(), "block_values");
        }
        if (h5::exists(m.terms_group.id(), "rows")) {
            (void)h5::read_u64(m.fields_group.id(), "row_begin");
            (void)h5::read_u64(m.terms_group.id(), "row_offsets");
            (void)h5::read_u32(m.terms_group.id(), "rows");
        }
        (void)h5::read_u8(m.terms_group.id(), "values");
        (void)h5::read_u8(m.terms_group.id(), "postings");
        (void)h5::read_f64(m.numbers_group.id(), "values");
        (void)h5::read_u32(m.numbers_group.id(), "rows");
        if (h5::exists(m.numbers_group.id(), "block_values")) {
            (void)h5::read_u64(m.fields_group.id(), "number_block_begin");
            (void)h5::read_f64(m.numbers_group.id(), "block_values");
        }
    } catch (const Error& e) {
        throw DataError("index segment '" + m.path + "' is damaged: " + e.what());
    }
}

const SegmentField* SegmentReader::field(std::string_view name) const {
    const auto& fs = impl_->fields;
    const auto it = std::lower_bound(
        fs.begin(), fs.end(), name,
        [](const SegmentField& f, std::string_view n) { return std::string_view(f.name) < n; });
    return it != fs.end() && it->name == name ? &*it : nullptr;
}

Roaring SegmentReader::all() const {
    Roaring r;
    if (impl_->records > 0) r.addRange(0, impl_->records);
    return r;
}

Roaring SegmentReader::exists(const SegmentField& f) const {
    Impl& m = *impl_;
    const std::lock_guard cache(m.cache_mutex);
    const std::size_t i = m.index_of(f);
    auto& slot = m.exists[i];
    if (!slot) {
        std::string bytes;
        m.read_h5(f, [&] {
            h5::Handle ds = h5::open_dataset(m.fields_group.id(), "exists");
            bytes = h5::read_bytes(ds.id(), m.exists_offsets[i],
                                   m.exists_offsets[i + 1] - m.exists_offsets[i]);
        });
        slot = std::make_unique<Roaring>(read_bitmap(bytes, m.what(f)));
    }
    return *slot;
}

TermTexts::TermTexts(std::string bytes, std::vector<std::uint64_t> ends)
    : bytes_(std::move(bytes)), ends_(std::move(ends)) {}

std::size_t TermTexts::lower_bound(std::string_view value) const {
    std::size_t lo = 0, hi = size();
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if ((*this)[mid] < value) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

std::pair<std::size_t, std::size_t> TermTexts::prefix_range(std::string_view prefix) const {
    const std::size_t first = lower_bound(prefix);
    // Terms with the prefix follow one another from `first`: binary search for their end.
    std::size_t lo = first, hi = size();
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if ((*this)[mid].starts_with(prefix)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return {first, lo};
}

const TermTexts& SegmentReader::term_texts(const SegmentField& f) const {
    const std::lock_guard cache(impl_->cache_mutex);
    return impl_->load_texts(f);
}

std::vector<std::span<const std::uint32_t>> SegmentReader::term_row_lists(
    const SegmentField& f) const {
    Impl& m = *impl_;
    const std::size_t terms = f.term_end - f.term_begin;
    std::vector<std::span<const std::uint32_t>> out;
    if (f.row_end == f.row_begin || terms == 0) return out;
    const std::lock_guard cache(m.cache_mutex);
    (void)m.row_lists(f, 0, terms);  // every block, one read
    out.reserve(terms);
    for (std::size_t k = 0; k * kTermBlock < terms; ++k) {
        const auto& b = *m.row_blocks.at({m.index_of(f), k});
        std::size_t from = 0;
        for (const std::size_t end : b.ends) {
            out.push_back(std::span(b.rows).subspan(from, end - from));
            from = end;
        }
    }
    return out;
}

const Roaring& SegmentReader::posting(const SegmentField& f, std::size_t i) const {
    Impl& m = *impl_;
    const std::lock_guard cache(m.cache_mutex);
    if (i >= f.term_end - f.term_begin)
        throw DataError(m.what(f) + ": no term " + std::to_string(i));
    return *m.load_postings(f, i, i + 1)[i];
}

std::vector<const Roaring*> SegmentReader::postings(const SegmentField& f) const {
    Impl& m = *impl_;
    const std::lock_guard cache(m.cache_mutex);
    const std::size_t n = f.term_end - f.term_begin;
    auto& slots = m.load_postings(f, 0, n);
    std::vector<const Roaring*> out;
    out.reserve(n);
    for (std::size_t t = 0; t < n; ++t) out.push_back(slots[t].get());
    return out;
}

const Roaring& SegmentReader::term(const SegmentField& f, std::string_view value) const {
    static const Roaring kNone;
    Impl& m = *impl_;
    const std::lock_guard cache(m.cache_mutex);
    const auto [b, e] = m.find_terms(f, value, false);
    if (b == e) return kNone;
    return *m.load_postings(f, b, e)[b];
}

Roaring SegmentReader::prefix(const SegmentField& f, std::string_view prefix) const {
    std::vector<const Roaring*> parts;
    std::vector<std::span<const std::uint32_t>> lists;
    {
        const std::lock_guard cache(impl_->cache_mutex);
        const auto [b, e] = impl_->find_terms(f, prefix, true);
        if (b == e) return {};
        if (f.row_end > f.row_begin) {
            lists = impl_->row_lists(f, b, e);
        } else {
            auto& slots = impl_->load_postings(f, b, e);
            for (std::size_t i = b; i < e; ++i) parts.push_back(slots[i].get());
        }
    }
    // Row lists (many terms of a few rows each) go into a bitset one after the other.
    if (!lists.empty()) return rows_to_bitmap(lists, impl_->records);
    if (parts.size() <= 16) return Roaring::fastunion(parts.size(), parts.data());
    // Many small postings (a prefix of a high-cardinality field): their rows set bits of a
    // bitset of the shard's rows, read out in order: faster than a union of many tiny bitmaps.
    const std::uint64_t records = impl_->records;
    std::vector<std::uint64_t> bits((records + 63) / 64);
    std::vector<std::uint32_t> rows;
    for (const Roaring* p : parts) {
        rows.resize(p->cardinality());
        p->toUint32Array(rows.data());
        for (const std::uint32_t r : rows) {
            if (r < records) bits[r >> 6U] |= std::uint64_t{1} << (r & 63U);
        }
    }
    return bitset_to_bitmap(bits);
}

const NumberColumn& SegmentReader::numbers(const SegmentField& f) const {
    Impl& m = *impl_;
    const std::lock_guard cache(m.cache_mutex);
    auto& slot = m.numbers[m.index_of(f)];
    if (!slot) {
        auto c = std::make_unique<NumberColumn>();
        if (f.number_begin != f.number_end) {
            m.read_h5(f, [&] {
                c->values =
                    h5::read_f64(m.numbers_group.id(), "values", f.number_begin, f.number_end);
                c->rows = h5::read_u32(m.numbers_group.id(), "rows", f.number_begin, f.number_end);
            });
        }
        m.check_rows(f, c->rows);
        slot = std::move(c);
    }
    return *slot;
}

Roaring SegmentReader::range(const SegmentField& f, double lo, bool lo_inclusive, double hi,
                             bool hi_inclusive) const {
    if (f.number_begin == f.number_end || lo > f.number_max || hi < f.number_min) return {};
    // The numbers before the range, and those not after it: each a prefix of the sorted column.
    const auto before = [&](double v) { return lo_inclusive ? v < lo : v <= lo; };
    const auto not_after = [&](double v) { return hi_inclusive ? v <= hi : v < hi; };
    Impl& m = *impl_;
    bool whole = f.number_block_begin == f.number_block_end;  // no numbers index
    std::vector<std::span<const std::uint32_t>> parts;  // in blocks kept as long as the reader
    {
        const std::lock_guard cache(m.cache_mutex);
        whole = whole || m.numbers.count(m.index_of(f)) != 0;
        if (!whole) {  // the block heads, the blocks at both ends and the rows between
            const std::size_t first = m.number_position(f, before);
            const std::size_t last = m.number_position(f, not_after);
            if (first >= last) return {};
            parts = m.number_rows(f, first, last);
        }
    }
    if (!whole) return rows_to_bitmap(parts, m.records);
    const NumberColumn& c = numbers(f);  // read whole already (or no numbers index)
    const auto& v = c.values;
    const auto b = std::partition_point(v.begin(), v.end(), before);
    const auto e = std::partition_point(v.begin(), v.end(), not_after);
    if (b >= e) return {};
    const auto first = static_cast<std::size_t>(b - v.begin());
    const auto last = static_cast<std::size_t>(e - v.begin());
    return rows_to_bitmap({std::span(c.rows).subspan(first, last - first)}, m.records);
}

const std::vector<std::uint32_t>* SegmentReader::term_of_row(const SegmentField& f) const {
    Impl& m = *impl_;
    const std::size_t fi = m.index_of(f);
    {
        const std::lock_guard cache(m.cache_mutex);
        if (const auto it = m.term_of_row.find(fi); it != m.term_of_row.end()) {
            return it->second.get();
        }
    }
    auto ords = std::make_unique<std::vector<std::uint32_t>>(m.records, kNoTerm);
    bool single = true;
    // Term i at `row`; false (and not single) when the row has a term already.
    const auto assign = [&](std::size_t i, std::uint32_t row) {
        if (row >= m.records || (*ords)[row] != kNoTerm) return single = false;
        (*ords)[row] = static_cast<std::uint32_t>(i);
        return true;
    };
    if (f.row_end > f.row_begin) {  // row lists: every block in one read, no bitmap per term
        const auto lists = term_row_lists(f);
        for (std::size_t i = 0; i < lists.size() && single; ++i) {
            for (const std::uint32_t row : lists[i]) {
                if (!assign(i, row)) break;
            }
        }
    } else {
        const auto all = postings(f);  // one read for all of them
        for (std::size_t i = 0; i < all.size() && single; ++i) {
            for_each_row(*all[i], [&](std::uint32_t row) { single = single && assign(i, row); });
        }
    }
    if (!single) ords.reset();
    const std::lock_guard cache(m.cache_mutex);
    auto& slot = m.term_of_row[fi];
    if (!slot && single) slot = std::move(ords);
    return slot.get();
}

const std::vector<std::uint32_t>* SegmentReader::number_of_row(const SegmentField& f) const {
    Impl& m = *impl_;
    const std::size_t fi = m.index_of(f);
    {
        const std::lock_guard cache(m.cache_mutex);
        if (const auto it = m.number_of_row.find(fi); it != m.number_of_row.end()) {
            return it->second.get();
        }
        if (m.number_of_row_asked.insert(fi).second) return nullptr;  // the first time
    }
    const NumberColumn& c = numbers(f);
    auto at = std::make_unique<std::vector<std::uint32_t>>(m.records, kNoNumber);
    bool single = c.rows.size() < kNoNumber;
    for (std::size_t i = 0; i < c.rows.size() && single; ++i) {
        std::uint32_t& p = (*at)[c.rows[i]];  // rows were checked against records when read
        single = p == kNoNumber;
        p = static_cast<std::uint32_t>(i);
    }
    if (!single) at.reset();
    const std::lock_guard cache(m.cache_mutex);
    auto& slot = m.number_of_row[fi];
    if (!slot && single) slot = std::move(at);
    return slot.get();
}

std::vector<std::pair<std::string, std::uint64_t>> SegmentReader::term_counts(
    const SegmentField& f) const {
    const auto& texts = term_texts(f);
    std::vector<std::pair<std::string, std::uint64_t>> out;
    if (texts.empty()) return out;
    std::vector<std::uint64_t> counts;
    impl_->read_h5(f, [&] {
        counts = h5::read_u64(impl_->terms_group.id(), "count", f.term_begin, f.term_end);
    });
    out.reserve(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i)
        out.emplace_back(std::string(texts[i]), counts[i]);
    return out;
}

}  // namespace kiln::index
