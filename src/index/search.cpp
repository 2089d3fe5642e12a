#include "kiln/index/search.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <limits>
#include <set>

#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/core/log.hpp"
#include "kiln/index/segment.hpp"
#include "kiln/store/layout.hpp"

namespace kiln::index {
namespace {

using Kind = QueryNode::Kind;
constexpr double kInf = std::numeric_limits<double>::infinity();
// A count-by over a field of at most this many terms intersects each term's posting with the
// hits; over more, it looks up each hit's term (SegmentReader::term_of_row), which costs a
// pass over every row of the segment once.
constexpr std::size_t kFewTerms = 64;
// --stats over fewer hits than 1/kFewHits of the field's numbers looks up each hit's number;
// over more, it passes over the field's whole column (see number_stats).
constexpr std::uint64_t kFewHits = 8;

std::optional<double> parse_number(std::string_view s) {
    if (s.empty()) return std::nullopt;
    double v = 0;
    const char* b = s.data();
    if (*b == '+') ++b;
    const auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || std::isnan(v)) return std::nullopt;
    return v;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            cur[j] = std::min(
                {prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0U : 1U)});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

bool has_text(FieldType t) { return t != FieldType::kNumber; }
bool has_numbers(FieldType t) { return t == FieldType::kNumber || t == FieldType::kMixed; }

int compare_keys(const SortKey& a, const SortKey& b, bool descending) {
    if (a.missing != b.missing) return a.missing ? 1 : -1;  // missing last either way
    if (a.missing) return 0;
    if (a.is_number != b.is_number) return a.is_number ? -1 : 1;
    int c = 0;
    if (a.is_number) {
        c = a.number < b.number ? -1 : (a.number > b.number ? 1 : 0);
    } else {
        c = a.text.compare(b.text) < 0 ? -1 : (a.text == b.text ? 0 : 1);
    }
    return descending ? -c : c;
}

struct HitOrder {
    bool sorted = false;
    bool descending = false;
    bool operator()(const Hit& a, const Hit& b) const {
        if (sorted) {
            const int c = compare_keys(a.key, b.key, descending);
            if (c != 0) return c < 0;
        }
        return a.id() < b.id();
    }
};

// A bitmap's rows as a dense bitset, for testing many rows one by one (numeric columns
// are in value order, so each test is a random probe).
class DenseRows {
public:
    DenseRows(const Roaring& rows, std::uint64_t records) : bits_((records + 63) / 64) {
        for_each_row(rows, [&](std::uint32_t r) {
            if (r < records) bits_[r >> 6U] |= std::uint64_t{1} << (r & 63U);
        });
    }
    [[nodiscard]] bool contains(std::uint32_t r) const {
        return (r >> 6U) < bits_.size() && ((bits_[r >> 6U] >> (r & 63U)) & 1U) != 0;
    }

private:
    std::vector<std::uint64_t> bits_;
};

// Which of a merged segment's shards holds a row (always 0 for a shard's own segment): a
// binary search over the shards, or, with `table`, the shard of the row's block of 64 rows and
// a step past the shards that end inside the block. The table costs one entry per 64 rows to
// build, and is worth it for --stats even over 4 201 hits of 1 M rows (0.61 ms against 0.66
// with binary searches; 1.9 against 2.9 ms over 123 790 hits).
class ShardOfRow {
public:
    ShardOfRow(const std::vector<MergedShard>& shards, std::uint64_t records, bool table)
        : shards_(shards) {
        if (shards_.size() < 2 || !table) return;
        first_.resize(static_cast<std::size_t>((records + 63) / 64));
        std::uint32_t k = 0;
        for (std::size_t b = 0; b < first_.size(); ++b) {
            while (k + 1 < shards_.size() && b * 64 >= shards_[k + 1].row_base) ++k;
            first_[b] = k;
        }
    }
    [[nodiscard]] std::size_t operator()(std::uint32_t row) const {
        if (shards_.size() < 2) return 0;
        if (first_.empty()) {
            const auto it = std::upper_bound(
                shards_.begin(), shards_.end(), std::uint64_t{row},
                [](std::uint64_t r, const MergedShard& s) { return r < s.row_base; });
            return static_cast<std::size_t>(it - shards_.begin()) - 1;  // row_base[0] is 0
        }
        std::size_t k = first_.at(row >> 6U);
        while (k + 1 < shards_.size() && row >= shards_[k + 1].row_base) ++k;
        return k;
    }

private:
    const std::vector<MergedShard>& shards_;
    std::vector<std::uint32_t> first_;
};

}  // namespace

NumberStats number_stats(const SegmentReader& seg, const SegmentField& f, const Roaring& rows) {
    struct Sums {
        double sum = 0, min = kInf, max = -kInf;
        std::uint64_t count = 0;
    };
    const auto& merged = seg.merged_shards();
    std::vector<Sums> per_shard(std::max<std::size_t>(1, merged.size()));
    const ShardOfRow shard_of(merged, seg.records(), true);  // both ways below
    const NumberColumn& nums = seg.numbers(f);
    const std::uint64_t hits = rows.cardinality();
    // Few hits of a field of one number per row: each hit's place in the column, marked in
    // a bitset of places and read back in column order.
    const auto* at = hits * kFewHits < nums.values.size() ? seg.number_of_row(f) : nullptr;
    if (at != nullptr) {
        std::vector<std::uint64_t> places((nums.values.size() + 63) / 64);
        for_each_row(rows, [&](std::uint32_t row) {
            const std::uint32_t i = (*at)[row];
            if (i != SegmentReader::kNoNumber) places[i >> 6U] |= std::uint64_t{1} << (i & 63U);
        });
        for (std::size_t w = 0; w < places.size(); ++w) {
            for (std::uint64_t bits = places[w]; bits != 0; bits &= bits - 1) {
                const std::size_t i = w * 64 + static_cast<std::size_t>(std::countr_zero(bits));
                Sums& s = per_shard[shard_of(nums.rows[i])];
                s.sum += nums.values[i];
                s.min = std::min(s.min, nums.values[i]);
                s.max = std::max(s.max, nums.values[i]);
                ++s.count;
            }
        }
    } else {
        // Many hits, at random: one pass over the whole column that tests each row against
        // a bitset of the hits and selects, without branching (adding +0.0 leaves a sum that
        // starts at +0.0 as it is, to the bit).
        const DenseRows hit(rows, seg.records());
        const auto pick = [](double v, std::uint64_t mask, double otherwise) {
            return std::bit_cast<double>((std::bit_cast<std::uint64_t>(v) & mask) |
                                         (std::bit_cast<std::uint64_t>(otherwise) & ~mask));
        };
        for (std::size_t i = 0; i < nums.values.size(); ++i) {
            const std::uint32_t row = nums.rows[i];
            const double v = nums.values[i];
            const std::uint64_t in = hit.contains(row) ? 1U : 0U;
            const std::uint64_t mask = 0U - in;
            Sums& s = per_shard[shard_of(row)];
            s.sum += pick(v, mask, 0.0);
            s.min = std::min(s.min, pick(v, mask, kInf));
            s.max = std::max(s.max, pick(v, mask, -kInf));
            s.count += in;
        }
    }
    NumberStats out;
    for (const auto& s : per_shard) {
        if (s.count > 0) out.merge(NumberStats{s.count, s.min, s.max, s.sum});
    }
    return out;
}

namespace {

class Evaluator {
public:
    Evaluator(const SegmentReader& seg, const IndexPolicy& policy) : seg_(seg), policy_(policy) {}

    Roaring eval(const QueryNode& n) const {
        switch (n.kind) {
            case Kind::kAll:
                return seg_.all();
            case Kind::kNot:
                return seg_.all() - eval(n.children.front());
            case Kind::kOr: {
                Roaring out;
                for (const auto& c : n.children) {
                    if (const Roaring* p = posting_of(c)) {
                        out |= *p;
                    } else {
                        out |= eval(c);
                    }
                }
                return out;
            }
            case Kind::kAnd:
                return eval_and(n);
            default:
                break;
        }
        const SegmentField* f = seg_.field(n.field);
        if (f == nullptr) return {};
        switch (n.kind) {
            case Kind::kExists:
                return seg_.exists(*f);
            case Kind::kPrefix:
                return seg_.prefix(*f, n.value);
            case Kind::kRange: {
                const double lo = n.lo == "*" ? -kInf : *parse_number(n.lo);
                const double hi = n.hi == "*" ? kInf : *parse_number(n.hi);
                return seg_.range(*f, lo, n.lo_inclusive, hi, n.hi_inclusive);
            }
            case Kind::kTerm: {
                Roaring out;
                if (has_text(f->type) && policy_.is_keyword(f->name)) out = seg_.term(*f, n.value);
                if (has_numbers(f->type)) {
                    if (const auto v = parse_number(n.value))
                        out |= seg_.range(*f, *v, true, *v, true);
                }
                return out;
            }
            default:
                return {};
        }
    }

    /// The rows of `n` as the segment reader holds them when `n` is one term of a keyword
    /// field (no copy), else nullptr (then `eval` computes them).
    const Roaring* posting_of(const QueryNode& n) const {
        if (n.kind != Kind::kTerm) return nullptr;
        const SegmentField* f = seg_.field(n.field);
        if (f == nullptr || !has_text(f->type) || !policy_.is_keyword(f->name)) return nullptr;
        if (has_numbers(f->type) && parse_number(n.value)) return nullptr;
        return &seg_.term(*f, n.value);
    }

private:
    Roaring eval_and(const QueryNode& n) const {
        std::optional<Roaring> acc;
        for (const auto& c : n.children) {  // positive clauses first
            if (c.kind == Kind::kNot) continue;
            if (const Roaring* p = posting_of(c)) {
                if (acc) {
                    *acc &= *p;
                } else {
                    acc = *p;
                }
            } else {
                Roaring r = eval(c);
                acc = acc ? (*acc & r) : std::move(r);
            }
            if (acc->isEmpty()) return {};
        }
        if (!acc) acc = seg_.all();
        for (const auto& c : n.children) {
            if (c.kind != Kind::kNot) continue;
            *acc -= eval(c.children.front());
            if (acc->isEmpty()) return {};
        }
        return *acc;
    }

    const SegmentReader& seg_;
    const IndexPolicy& policy_;
};

}  // namespace

std::string format_number(double v) {
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
        return std::to_string(static_cast<long long>(v));
    }
    char buf[64];
    const auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, p) : std::to_string(v);
}

void NumberStats::add(double v) {
    if (count == 0) {
        min = max = v;
    } else {
        min = std::min(min, v);
        max = std::max(max, v);
    }
    sum += v;
    ++count;
}

void NumberStats::merge(const NumberStats& o) {
    if (o.count == 0) return;
    if (count == 0) {
        *this = o;
        return;
    }
    min = std::min(min, o.min);
    max = std::max(max, o.max);
    sum += o.sum;
    count += o.count;
}

nlohmann::json to_json(const ShardResult& r) {
    nlohmann::json hits = nlohmann::json::array();
    for (const auto& h : r.hits) {
        hits.push_back(
            {h.shard_id, h.row, h.key.missing, h.key.is_number, h.key.number, h.key.text});
    }
    return {{"shard", r.shard_id},
            {"matches", r.matches},
            {"hits", hits},
            {"counts", r.counts},
            {"stats", {r.stats.count, r.stats.min, r.stats.max, r.stats.sum}}};
}

ShardResult shard_result_from_json(const nlohmann::json& j) {
    ShardResult r;
    r.shard_id = j.at("shard").get<std::uint64_t>();
    r.matches = j.at("matches").get<std::uint64_t>();
    for (const auto& h : j.at("hits")) {
        Hit hit;
        hit.shard_id = h.at(0).get<std::uint64_t>();
        hit.row = h.at(1).get<std::uint32_t>();
        hit.key.missing = h.at(2).get<bool>();
        hit.key.is_number = h.at(3).get<bool>();
        hit.key.number = h.at(4).get<double>();
        hit.key.text = h.at(5).get<std::string>();
        r.hits.push_back(std::move(hit));
    }
    r.counts = j.at("counts").get<std::map<std::string, std::uint64_t>>();
    const auto& s = j.at("stats");
    r.stats = {s.at(0).get<std::uint64_t>(), s.at(1).get<double>(), s.at(2).get<double>(),
               s.at(3).get<double>()};
    return r;
}

Searcher::Searcher(const std::string& data_dir)
    : data_dir_(data_dir), catalog_(store::read_catalog(store::Layout(data_dir).catalog())) {
    const store::Layout layout(data_dir);
    const std::string path = layout.merged_segment();
    std::unique_ptr<SegmentReader> merged;
    if (fs::is_file(path)) {
        try {
            merged = std::make_unique<SegmentReader>(path);
            // Merged from the segments of the catalog's very shards: it answers every query
            // and knows every field, so no more of dictionary.h5 than two attributes is read.
            if (auto d = Dictionary::for_merged(layout.dictionary(), catalog_, *merged)) {
                dictionary_ = std::move(*d);
                merged_ = std::move(merged);
                return;
            }
        } catch (const Error& e) {
            log::warn("'" + path + "' is not used: " + e.what() +
                      " (`kiln index DATA --merge` writes it again)");
            merged.reset();
        }
    }
    dictionary_ = Dictionary::open(layout.dictionary(), catalog_);
    if (!merged) return;
    if (merged_segment_is_current(*merged, dictionary_)) {
        merged_ = std::move(merged);
    } else {
        log::warn("'" + path +
                  "' was merged from older segments: searching the segments of each shard "
                  "instead (`kiln index DATA` merges them again)");
    }
}

bool merged_segment_is_current(const SegmentReader& merged, const Dictionary& d) {
    const auto& shards = merged.merged_shards();
    if (shards.size() != d.shard_ids.size()) return false;
    std::map<std::uint64_t, std::pair<std::uint64_t, const std::string*>> listed;
    for (std::size_t i = 0; i < d.shard_ids.size(); ++i) {
        listed[d.shard_ids[i]] = {d.shard_records[i], &d.segment_checksums[i]};
    }
    for (const auto& s : shards) {
        const auto it = listed.find(s.shard_id);
        if (it == listed.end() || it->second.first != s.records ||
            *it->second.second != s.segment_checksum) {
            return false;
        }
    }
    return true;
}

namespace {

// Resolves field names in place and checks each clause against the field's type.
class Resolver {
public:
    explicit Resolver(const Dictionary& d) : d_(d) {}

    const DictionaryField& field(const std::string& name, std::size_t column) const {
        if (const auto* f = d_.field(name)) return *f;
        // A unique last-component match: "elements" -> "material.elements".
        const DictionaryField* alias = nullptr;
        int matches = 0;
        for (const auto& f : d_.fields) {
            if (f.name.size() > name.size() &&
                f.name.compare(f.name.size() - name.size(), name.size(), name) == 0 &&
                f.name[f.name.size() - name.size() - 1] == '.') {
                alias = &f;
                ++matches;
            }
        }
        if (matches == 1) return *alias;
        std::vector<std::pair<std::size_t, std::string>> near;
        for (const auto& f : d_.fields) {
            // Closest by whole name or by the name after its first dot ("elemnts" is near
            // "material.elements").
            const auto dot = f.name.find('.');
            const std::string_view tail = dot == std::string::npos
                                              ? std::string_view(f.name)
                                              : std::string_view(f.name).substr(dot + 1);
            near.emplace_back(std::min(edit_distance(name, f.name), edit_distance(name, tail)),
                              f.name);
        }
        std::sort(near.begin(), near.end());
        std::string hint;
        for (std::size_t i = 0; i < near.size() && i < 3; ++i) {
            hint += (i > 0 ? ", " : "") + near[i].second;
        }
        throw UsageError("unknown field '" + name + "'" +
                         (column > 0 ? " at column " + std::to_string(column) : "") +
                         (hint.empty() ? std::string(" (the dataset has no fields)")
                                       : "; closest known fields: " + hint) +
                         " (`kiln fields DATA` lists them all)");
    }

    void resolve(QueryNode& n) const {
        for (auto& c : n.children) resolve(c);
        if (n.kind == Kind::kAll || n.kind == Kind::kAnd || n.kind == Kind::kOr ||
            n.kind == Kind::kNot) {
            return;
        }
        const DictionaryField& f = field(n.field, n.column);
        n.field = f.name;
        const std::string where = " at column " + std::to_string(n.column);
        const bool keyword = has_text(f.type) && d_.policy.is_keyword(f.name);
        switch (n.kind) {
            case Kind::kTerm:
                if (f.type == FieldType::kNumber && !parse_number(n.value)) {
                    throw UsageError("field '" + f.name + "' holds numbers; '" + n.value + "'" +
                                     where + " is not a number");
                }
                if (f.type == FieldType::kBoolean && n.value != "true" && n.value != "false") {
                    throw UsageError("field '" + f.name + "' is true or false; got '" + n.value +
                                     "'" + where);
                }
                if (has_text(f.type) && !keyword &&
                    !(has_numbers(f.type) && parse_number(n.value))) {
                    throw not_keyword(f, where);
                }
                break;
            case Kind::kPrefix:
                if (!keyword) {
                    if (f.type == FieldType::kNumber) {
                        throw UsageError("prefix search" + where + " needs a text field; '" +
                                         f.name + "' holds numbers (use a range)");
                    }
                    throw not_keyword(f, where);
                }
                break;
            case Kind::kRange:
                if (!has_numbers(f.type)) {
                    throw UsageError("a range" + where + " needs a number field; '" + f.name +
                                     "' is a " + to_string(f.type) + " field");
                }
                for (const auto* b : {&n.lo, &n.hi}) {
                    if (*b != "*" && !parse_number(*b)) {
                        throw UsageError("range bound '" + *b + "'" + where +
                                         " is not a number (or '*')");
                    }
                }
                break;
            default:
                break;
        }
    }

    UsageError not_keyword(const DictionaryField& f, const std::string& where) const {
        return UsageError("field '" + f.name + "'" + where +
                          " is not indexed for exact values (only _exists_ and ranges work on "
                          "it); rebuild with `kiln index DATA --keyword-field " +
                          f.name + "` to search it");
    }

private:
    const Dictionary& d_;
};

// Shards that can match, one flag per shard of the dictionary.
using ShardSet = std::vector<bool>;

}  // namespace

PreparedQuery Searcher::prepare(const SearchRequest& request) const {
    PreparedQuery q{request, parse_query(request.query)};
    const Resolver resolver(dictionary_);
    resolver.resolve(q.root);
    if (q.request.sort) {
        q.request.sort->field = resolver.field(q.request.sort->field, 0).name;
    }
    if (!q.request.count_by.empty()) {
        const auto& f = resolver.field(q.request.count_by, 0);
        q.request.count_by = f.name;
        if (has_text(f.type) && !dictionary_.policy.is_keyword(f.name)) {
            throw UsageError("--count-by: " + std::string(resolver.not_keyword(f, "").what()));
        }
    }
    if (!q.request.stats.empty()) {
        const auto& f = resolver.field(q.request.stats, 0);
        q.request.stats = f.name;
        if (!has_numbers(f.type)) {
            throw UsageError("--stats needs a number field; '" + f.name + "' is a " +
                             to_string(f.type) + " field");
        }
    }
    return q;
}

std::string Searcher::resolve_field(const std::string& name) const {
    return Resolver(dictionary_).field(name, 0).name;
}

std::vector<std::size_t> Searcher::candidate_shards(const PreparedQuery& q) const {
    const Dictionary& d = dictionary_;
    const std::size_t n_shards = d.shard_ids.size();
    const ShardSet all(n_shards, true);
    const auto field_shards = [&](const DictionaryField& f, auto keep) {
        ShardSet s(n_shards, false);
        for (std::size_t k = 0; k < f.shards.size(); ++k) {
            if (keep(k)) s.at(f.shards[k]) = true;
        }
        return s;
    };
    const auto add = [](ShardSet& to, const ShardSet& from) {
        for (std::size_t i = 0; i < to.size(); ++i) to[i] = to[i] || from[i];
    };
    const auto overlaps = [](const DictionaryField& f, std::size_t k, double lo, double hi) {
        return !std::isnan(f.shard_min[k]) && f.shard_max[k] >= lo && f.shard_min[k] <= hi;
    };
    std::function<ShardSet(const QueryNode&)> may_match = [&](const QueryNode& n) -> ShardSet {
        switch (n.kind) {
            case Kind::kAll:
            case Kind::kNot:
                return all;
            case Kind::kOr: {
                ShardSet s(n_shards, false);
                for (const auto& c : n.children) add(s, may_match(c));
                return s;
            }
            case Kind::kAnd: {
                ShardSet s = all;
                for (const auto& c : n.children) {
                    const auto m = may_match(c);
                    for (std::size_t i = 0; i < n_shards; ++i) s[i] = s[i] && m[i];
                }
                return s;
            }
            default:
                break;
        }
        const DictionaryField* f = d.field(n.field);
        if (f == nullptr) return ShardSet(n_shards, false);
        if (n.kind == Kind::kRange) {
            const double lo = n.lo == "*" ? -kInf : *parse_number(n.lo);
            const double hi = n.hi == "*" ? kInf : *parse_number(n.hi);
            return field_shards(*f, [&](std::size_t k) { return overlaps(*f, k, lo, hi); });
        }
        if (n.kind == Kind::kTerm) {
            ShardSet s(n_shards, false);
            if (const auto v = parse_number(n.value); v && has_numbers(f->type)) {
                s = field_shards(*f, [&](std::size_t k) { return overlaps(*f, k, *v, *v); });
            }
            if (has_text(f->type)) {
                if (const auto terms = d.listed_terms(*f)) {
                    const auto it =
                        std::lower_bound(terms->begin(), terms->end(), n.value,
                                         [](const Dictionary::Term& t, const std::string& v) {
                                             return t.value < v;
                                         });
                    if (it != terms->end() && it->value == n.value) {
                        for (const std::uint64_t k : it->shards) s.at(k) = true;
                    }
                } else {
                    add(s, field_shards(*f, [](std::size_t) { return true; }));
                }
            }
            return s;
        }
        return field_shards(*f, [](std::size_t) { return true; });  // exists, prefix
    };
    const ShardSet s = may_match(q.root);
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < n_shards; ++i) {
        if (s[i]) out.push_back(i);
    }
    return out;
}

ShardResult Searcher::search_shard(const PreparedQuery& q, std::size_t shard_index) const {
    return evaluate(q, segment(shard_index));
}

ShardResult Searcher::evaluate(const PreparedQuery& q, const SegmentReader& seg) const {
    const Evaluator evaluator(seg, dictionary_.policy);
    Roaring computed;
    const Roaring* held = evaluator.posting_of(q.root);  // a one-term query: the posting itself
    if (held == nullptr) {
        computed = evaluator.eval(q.root);
        held = &computed;
    }
    // Rows past the end can only come from a damaged segment: never let them through.
    if (!held->isEmpty() && held->maximum() >= seg.records()) {
        computed = *held & seg.all();
        held = &computed;
    }
    const Roaring& rows = *held;
    // A row of the segment as a hit: in a merged segment, the shard whose rows hold it.
    const auto& merged = seg.merged_shards();
    const ShardOfRow shard_of_row(merged, seg.records(), false);
    const auto hit_of = [&](std::uint32_t row, SortKey key) {
        if (merged.empty()) return Hit{seg.shard_id(), row, std::move(key)};
        const MergedShard& s = merged[shard_of_row(row)];
        return Hit{s.shard_id, static_cast<std::uint32_t>(row - s.row_base), std::move(key)};
    };
    ShardResult r;
    r.shard_id = merged.empty() ? seg.shard_id() : merged.front().shard_id;
    r.matches = rows.cardinality();
    const SearchRequest& req = q.request;
    if (!req.count_by.empty()) {
        if (const SegmentField* f = seg.field(req.count_by)) {
            if (has_text(f->type)) {
                const auto& texts = seg.term_texts(*f);
                // Few terms, or several terms per record: each posting intersected with the
                // hits (no pass over every row of the segment). Many terms of one per record:
                // each row's term, then one pass over the hits.
                const auto* ords = texts.size() > kFewTerms ? seg.term_of_row(*f) : nullptr;
                if (ords != nullptr) {
                    std::vector<std::uint64_t> n(texts.size());
                    for_each_row(rows, [&](std::uint32_t row) {
                        if ((*ords)[row] != SegmentReader::kNoTerm) ++n[(*ords)[row]];
                    });
                    for (std::size_t i = 0; i < n.size(); ++i) {
                        if (n[i] > 0) r.counts[std::string(texts[i])] += n[i];
                    }
                } else {
                    const auto postings = seg.postings(*f);  // one read for all of them
                    for (std::size_t i = 0; i < texts.size(); ++i) {
                        const auto c = postings[i]->and_cardinality(rows);
                        if (c > 0) r.counts[std::string(texts[i])] += c;
                    }
                }
            }
            const NumberColumn& nums = seg.numbers(*f);
            if (!nums.values.empty()) {
                const DenseRows hit(rows, seg.records());
                for (std::size_t i = 0; i < nums.values.size(); ++i) {
                    if (hit.contains(nums.rows[i])) ++r.counts[format_number(nums.values[i])];
                }
            }
        }
    }
    if (!req.stats.empty()) {
        if (const SegmentField* f = seg.field(req.stats)) r.stats = number_stats(seg, *f, rows);
    }
    const std::uint64_t keep = req.limit == 0 ? r.matches : req.offset + req.limit;
    if (keep == 0 || r.matches == 0) return r;
    if (!req.sort) {
        r.hits.reserve(std::min(keep, r.matches));
        for (const std::uint32_t row : rows) {
            if (r.hits.size() >= keep) break;
            r.hits.push_back(hit_of(row, {}));
        }
        return r;
    }
    // Sort keys: a record's smallest value ascending, largest descending (as Elasticsearch).
    const bool desc = req.sort->descending;
    std::map<std::uint32_t, SortKey> keys;
    if (const SegmentField* f = seg.field(req.sort->field)) {
        const NumberColumn& nums = seg.numbers(*f);  // sorted by value
        const DenseRows hit(rows, seg.records());
        for (std::size_t i = 0; i < nums.values.size(); ++i) {
            if (!hit.contains(nums.rows[i])) continue;
            SortKey& k = keys[nums.rows[i]];
            if (k.missing || desc) k = {false, true, nums.values[i], {}};
        }
        if (has_text(f->type)) {
            const auto& texts = seg.term_texts(*f);  // sorted by text
            const auto set_text = [&](std::uint32_t row, std::size_t i) {
                SortKey& k = keys[row];
                if (k.missing || (desc && !k.is_number))
                    k = {false, false, 0, std::string(texts[i])};
            };
            if (const auto* ords = seg.term_of_row(*f)) {  // one term per record: per hit
                for_each_row(rows, [&](std::uint32_t row) {
                    if ((*ords)[row] != SegmentReader::kNoTerm) set_text(row, (*ords)[row]);
                });
            } else {  // in text order, so that the first (or, descending, last) text stays
                for (std::size_t i = 0; i < texts.size(); ++i) {
                    for (const std::uint32_t row : seg.posting(*f, i) & rows) set_text(row, i);
                }
            }
        }
    }
    r.hits.reserve(r.matches);
    for_each_row(rows, [&](std::uint32_t row) {
        const auto it = keys.find(row);
        r.hits.push_back(hit_of(row, it != keys.end() ? it->second : SortKey{}));
    });
    const HitOrder order{true, desc};
    if (r.hits.size() > keep) {
        std::partial_sort(r.hits.begin(), r.hits.begin() + static_cast<std::ptrdiff_t>(keep),
                          r.hits.end(), order);
        r.hits.resize(keep);
    } else {
        std::sort(r.hits.begin(), r.hits.end(), order);
    }
    return r;
}

const SegmentReader& Searcher::segment(std::size_t shard_index) const {
    std::unique_ptr<SegmentReader> opened;
    {
        const std::lock_guard lock(segments_mutex_);
        if (segments_.empty()) segments_.resize(dictionary_.shard_ids.size());
        if (segments_.at(shard_index)) return *segments_[shard_index];
    }
    const std::uint64_t shard_id = dictionary_.shard_ids[shard_index];
    opened = std::make_unique<SegmentReader>(store::Layout(data_dir_).segment(shard_id));
    if (opened->records() != dictionary_.shard_records[shard_index] ||
        opened->shard_checksum() != catalog_.shards.at(shard_index).checksum.hex()) {
        throw DataError("index segment of shard " + std::to_string(shard_id) +
                        " does not match the dataset; rebuild it with `kiln index DATA`");
    }
    const std::lock_guard lock(segments_mutex_);
    if (!segments_[shard_index]) segments_[shard_index] = std::move(opened);
    return *segments_[shard_index];
}

SearchResult Searcher::merge(const PreparedQuery& q, std::vector<ShardResult> parts,
                             std::uint64_t shards_searched) const {
    SearchResult out;
    out.shards_total = dictionary_.shard_ids.size();
    out.shards_searched = shards_searched;
    std::map<std::string, std::uint64_t> counts;
    std::vector<Hit> hits;
    // Shard order, whoever computed each part: floating-point sums then do not depend on
    // the thread or rank count.
    std::sort(parts.begin(), parts.end(),
              [](const ShardResult& a, const ShardResult& b) { return a.shard_id < b.shard_id; });
    for (auto& p : parts) {
        out.total += p.matches;
        for (const auto& [k, n] : p.counts) counts[k] += n;
        out.stats.merge(p.stats);
        if (hits.empty()) {
            hits = std::move(p.hits);
        } else {
            hits.insert(hits.end(), std::make_move_iterator(p.hits.begin()),
                        std::make_move_iterator(p.hits.end()));
        }
    }
    const SearchRequest& req = q.request;
    const HitOrder order{req.sort.has_value(), req.sort && req.sort->descending};
    const std::uint64_t keep = req.limit == 0 ? hits.size() : req.offset + req.limit;
    // One segment's hits come in (shard, row) order already, no more than `keep` of them.
    const bool in_order = parts.size() == 1 && !req.sort;
    if (!in_order && hits.size() > keep) {
        std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(keep),
                          hits.end(), order);
        hits.resize(keep);
    } else if (!in_order) {
        std::sort(hits.begin(), hits.end(), order);
    }
    if (req.offset < hits.size()) {
        out.page.assign(
            std::make_move_iterator(hits.begin() + static_cast<std::ptrdiff_t>(req.offset)),
            std::make_move_iterator(hits.end()));
    }
    out.count_by.assign(counts.begin(), counts.end());
    std::sort(out.count_by.begin(), out.count_by.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    return out;
}

SearchResult Searcher::search(const SearchRequest& request) const {
    const PreparedQuery q = prepare(request);
    const auto shards = candidate_shards(q);
    if (merged_) {  // one segment over every shard answers for all of them
        std::vector<ShardResult> parts;
        if (!shards.empty()) parts.push_back(evaluate(q, *merged_));
        return merge(q, std::move(parts), shards.size());
    }
    std::vector<ShardResult> parts(shards.size());
    std::exception_ptr error;
    const auto n = static_cast<std::int64_t>(shards.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(std::max(1, request.threads))
    for (std::int64_t i = 0; i < n; ++i) {
        try {
            parts[static_cast<std::size_t>(i)] =
                search_shard(q, shards[static_cast<std::size_t>(i)]);
        } catch (...) {
#pragma omp critical(kiln_search_error)
            if (!error) error = std::current_exception();
        }
    }
    if (error) std::rethrow_exception(error);
    return merge(q, std::move(parts), shards.size());
}

const store::ShardReader& Searcher::shard(std::uint64_t shard_id) const {
    const std::lock_guard lock(shards_mutex_);
    auto& slot = shards_[shard_id];
    if (!slot)
        slot = std::make_unique<store::ShardReader>(store::Layout(data_dir_).shard(shard_id));
    return *slot;
}

std::vector<store::RecordRow> Searcher::records(const std::vector<Hit>& hits) const {
    // One read per shard, then back into the order of `hits`.
    std::map<std::uint64_t, std::vector<std::uint64_t>> by_shard;
    for (const auto& h : hits) by_shard[h.shard_id].push_back(h.row);
    std::map<std::uint64_t, store::RecordRow> found;
    for (const auto& [shard_id, rows] : by_shard) {
        auto recs = shard(shard_id).records_at(rows);
        for (std::size_t i = 0; i < rows.size(); ++i) {
            found[(shard_id << 32) | rows[i]] = std::move(recs[i]);
        }
    }
    std::vector<store::RecordRow> out;
    out.reserve(hits.size());
    for (const auto& h : hits) out.push_back(found.at(h.id()));
    return out;
}

std::vector<double> Searcher::indexed_numbers(const Hit& hit, const std::string& field) const {
    const auto& ids = dictionary_.shard_ids;
    const auto it = std::find(ids.begin(), ids.end(), hit.shard_id);
    if (it == ids.end()) return {};
    const SegmentReader& seg = segment(static_cast<std::size_t>(it - ids.begin()));
    const SegmentField* f = seg.field(field);
    if (f == nullptr) return {};
    const NumberColumn& col = seg.numbers(*f);
    if (const auto* at = seg.number_of_row(*f)) {
        const std::uint32_t i = at->at(hit.row);
        return i == SegmentReader::kNoNumber ? std::vector<double>{}
                                             : std::vector<double>{col.values.at(i)};
    }
    std::vector<double> out;
    for (std::size_t i = 0; i < col.rows.size(); ++i) {
        if (col.rows[i] == hit.row) out.push_back(col.values[i]);
    }
    return out;
}

std::string Searcher::read_bytes(std::uint64_t shard_id, const store::RecordRow& r) const {
    return shard(shard_id).read_bytes(r);
}

std::map<std::uint64_t, SegmentExtras> prediction_extras(const std::string& data_dir) {
    namespace stdfs = std::filesystem;
    const stdfs::path root = stdfs::path(data_dir) / "predictions";
    std::map<std::string, std::pair<int, stdfs::path>> newest;  // model name -> version, dir
    std::error_code ec;
    for (const auto& e : stdfs::directory_iterator(root, ec)) {
        const std::string dir = e.path().filename().string();
        const std::size_t at = dir.rfind('@');
        if (!e.is_directory() || at == std::string::npos || at == 0) continue;
        const int version = std::atoi(dir.c_str() + at + 1);
        auto& slot = newest[dir.substr(0, at)];
        if (version > slot.first) slot = {version, e.path()};
    }
    // Files are named shard-NNNNNN.h5 or shard-NNNNNN-rows-B.h5 (kiln infer): the shard is
    // in the name, so listing the sources opens no file; build_segment reads the values of
    // the shards it rebuilds.
    std::map<std::uint64_t, std::vector<std::string>> lines;  // shard -> "file xxh3"
    std::map<std::uint64_t, SegmentExtras> out;
    for (const auto& [name, chosen] : newest) {
        for (const auto& e : stdfs::directory_iterator(chosen.second, ec)) {
            const std::string f = e.path().filename().string();
            if (!f.starts_with("shard-") || !f.ends_with(".h5")) continue;
            const std::uint64_t shard = std::strtoull(f.c_str() + 6, nullptr, 10);
            out[shard].sources.push_back({"predicted." + name, e.path().string()});
            lines[shard].push_back(chosen.second.filename().string() + "/" + f + " " +
                                   xxh3_128_file(e.path().string()).hex());
        }
    }
    for (auto& [shard, l] : lines) {
        std::sort(l.begin(), l.end());
        std::string all;
        for (const auto& line : l) all += line + "\n";
        out[shard].digest = xxh3_128(all).hex();
    }
    return out;
}

namespace {

// One digest of every shard's extras digest: what the dictionary was built with.
std::string combined_digest(const std::map<std::uint64_t, SegmentExtras>& extras) {
    if (extras.empty()) return {};
    std::string all;
    for (const auto& [shard, e] : extras) all += std::to_string(shard) + " " + e.digest + "\n";
    return xxh3_128(all).hex();
}

}  // namespace

namespace {

// Merges the segments into DATA/index/merged.h5 unless it was merged from these very
// segments (or `force`); true when it wrote it.
bool update_merged_segment(const store::Layout& layout, const store::Catalog& catalog, bool durable,
                           bool force) {
    const Dictionary d = Dictionary::open(layout.dictionary(), catalog);
    if (!force && fs::is_file(layout.merged_segment())) {
        try {
            if (merged_segment_is_current(SegmentReader(layout.merged_segment()), d)) return false;
        } catch (const Error&) {
            // unreadable: merged again below
        }
    }
    std::vector<std::size_t> order(d.shard_ids.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return d.shard_ids[a] < d.shard_ids[b]; });
    std::vector<std::string> paths, checksums;
    std::vector<std::uint64_t> ids;
    for (const std::size_t i : order) {
        ids.push_back(d.shard_ids[i]);
        paths.push_back(layout.segment(d.shard_ids[i]));
        checksums.push_back(d.segment_checksums[i]);
    }
    if (ids.empty()) return false;  // nothing to merge
    merge_segments(paths, ids, checksums, layout.merged_segment(), durable);
    return true;
}

}  // namespace

IndexUpdate update_index(const std::string& data_dir, const IndexPolicy& policy, int threads,
                         bool durable, bool rebuild_all, bool merge) {
    const store::Layout layout(data_dir);
    const store::Catalog catalog = store::read_catalog(layout.catalog());
    const auto extras = prediction_extras(data_dir);
    const std::string extras_digest = combined_digest(extras);
    const auto extras_of = [&](std::uint64_t shard) -> const SegmentExtras* {
        const auto it = extras.find(shard);
        return it == extras.end() ? nullptr : &it->second;
    };
    IndexUpdate update;
    for (const auto& s : catalog.shards) update.records += s.records;
    if (!rebuild_all) {
        bool current = false;
        try {
            const Dictionary d = Dictionary::open(layout.dictionary(), catalog);
            // A dictionary written before it recorded segments_digest is written again, so
            // that searches of a merged index can skip it (Dictionary::for_merged).
            current = d.policy.keyword_fields == policy.keyword_fields &&
                      d.extras_digest == extras_digest && !d.segments_digest.empty();
        } catch (const Error&) {
            // missing, stale or unreadable: rebuilt below
        }
        if (current) {
            update.segments_kept = catalog.shards.size();
            if (merge || fs::is_file(layout.merged_segment())) {
                update.merged_written = update_merged_segment(layout, catalog, durable, false);
            }
            return update;
        }
    }
    fs::make_dirs(layout.index_dir());
    std::vector<const store::ShardEntry*> todo;
    for (const auto& s : catalog.shards) {
        bool current = false;
        if (!rebuild_all && fs::is_file(layout.segment(s.id))) {
            try {
                const SegmentReader seg(layout.segment(s.id));
                const SegmentExtras* e = extras_of(s.id);
                current = seg.shard_checksum() == s.checksum.hex() &&
                          seg.policy().keyword_fields == policy.keyword_fields &&
                          seg.extras_digest() == (e != nullptr ? e->digest : std::string());
            } catch (const Error&) {
                current = false;
            }
        }
        if (current) {
            ++update.segments_kept;
        } else {
            todo.push_back(&s);
        }
    }
    std::exception_ptr error;
    const auto n = static_cast<std::int64_t>(todo.size());
    // HDF5 reads and writes are serialised; parsing and flattening records run in parallel.
#pragma omp parallel for schedule(dynamic, 1) num_threads(std::max(1, threads))
    for (std::int64_t i = 0; i < n; ++i) {
        const auto& s = *todo[static_cast<std::size_t>(i)];
        try {
            build_segment(layout.root() + "/" + s.file, layout.segment(s.id), policy, s.checksum,
                          durable, extras_of(s.id));
        } catch (...) {
#pragma omp critical(kiln_index_error)
            if (!error) error = std::current_exception();
        }
    }
    if (error) std::rethrow_exception(error);
    update.segments_built = todo.size();
    write_dictionary(data_dir, catalog, policy, durable, extras_digest);
    update.dictionary_written = true;
    if (merge || fs::is_file(layout.merged_segment())) {
        update.merged_written = update_merged_segment(layout, catalog, durable, rebuild_all);
    }
    return update;
}

}  // namespace kiln::index
