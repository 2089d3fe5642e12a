#include "kiln/index/dictionary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/core/hash.hpp"
#include "kiln/index/segment.hpp"
#include "kiln/store/layout.hpp"
#include "store/h5.hpp"

namespace kiln::index {
namespace h5 = store::h5;
namespace {

const char* kRebuild = "rebuild it with `kiln index DATA`";

struct FieldAcc {
    unsigned types = 0;  // bit per FieldType seen in a segment
    std::uint64_t records = 0;
    std::vector<std::uint64_t> shards, shard_records;
    std::vector<double> shard_min, shard_max;
    bool too_many_terms = false;
    // value -> (shard index, count)
    std::map<std::string, std::vector<std::pair<std::uint64_t, std::uint64_t>>> terms;
};

}  // namespace

std::string shards_digest(const store::Catalog& catalog) {
    Hasher128 h;
    for (const auto& s : catalog.shards) {
        const std::string line = std::to_string(s.id) + " " + s.checksum.hex() + "\n";
        h.update(line.data(), line.size());
    }
    return h.digest().hex();
}

std::string segments_digest(std::vector<MergedShard> shards) {
    std::sort(shards.begin(), shards.end(),
              [](const MergedShard& a, const MergedShard& b) { return a.shard_id < b.shard_id; });
    Hasher128 h;
    for (const auto& s : shards) {
        const std::string line = std::to_string(s.shard_id) + " " + std::to_string(s.records) +
                                 " " + s.segment_checksum + "\n";
        h.update(line.data(), line.size());
    }
    return h.digest().hex();
}

void write_dictionary(const std::string& data_dir, const store::Catalog& catalog,
                      const IndexPolicy& policy, bool durable, const std::string& extras_digest) {
    const store::Layout layout(data_dir);
    std::map<std::string, FieldAcc> fields;
    std::vector<std::uint64_t> ids, records;
    std::vector<std::string> checksums;
    std::uint64_t total = 0;
    for (std::size_t si = 0; si < catalog.shards.size(); ++si) {
        const auto& shard = catalog.shards[si];
        const std::string path = layout.segment(shard.id);
        const SegmentReader seg(path);
        if (seg.shard_checksum() != shard.checksum.hex()) {
            throw DataError("index segment '" + path + "' was built from another version of " +
                            shard.file + "; " + kRebuild);
        }
        if (seg.policy().keyword_fields != policy.keyword_fields) {
            throw DataError("index segment '" + path +
                            "' was built with other keyword fields than the rest; " + kRebuild);
        }
        ids.push_back(shard.id);
        records.push_back(seg.records());
        total += seg.records();
        checksums.push_back(xxh3_128_file(path).hex());
        for (const auto& f : seg.fields()) {
            FieldAcc& a = fields[f.name];
            a.types |= 1U << static_cast<unsigned>(f.type);
            a.records += f.records;
            a.shards.push_back(si);
            a.shard_records.push_back(f.records);
            a.shard_min.push_back(f.number_min);
            a.shard_max.push_back(f.number_max);
            if (a.too_many_terms || f.term_begin == f.term_end) continue;
            if (f.term_end - f.term_begin > kMaxListedTerms) {
                a.too_many_terms = true;
                a.terms.clear();
                continue;
            }
            for (auto& [value, count] : seg.term_counts(f)) a.terms[value].emplace_back(si, count);
            if (a.terms.size() > kMaxListedTerms) {
                a.too_many_terms = true;
                a.terms.clear();
            }
        }
    }
    std::vector<std::string> names, types, values;
    std::vector<std::uint64_t> counts, shard_offsets{0}, shard, shard_records, term_offsets{0},
        term_shard_offsets{0}, term_shard, term_count;
    std::vector<double> mins, maxs;
    for (const auto& [name, a] : fields) {
        names.push_back(name);
        types.emplace_back(to_string(combined_type(a.types)));
        counts.push_back(a.records);
        shard.insert(shard.end(), a.shards.begin(), a.shards.end());
        shard_records.insert(shard_records.end(), a.shard_records.begin(), a.shard_records.end());
        mins.insert(mins.end(), a.shard_min.begin(), a.shard_min.end());
        maxs.insert(maxs.end(), a.shard_max.begin(), a.shard_max.end());
        shard_offsets.push_back(shard.size());
        for (const auto& [value, where] : a.terms) {
            values.push_back(value);
            for (const auto& [si, n] : where) {
                term_shard.push_back(si);
                term_count.push_back(n);
            }
            term_shard_offsets.push_back(term_shard.size());
        }
        term_offsets.push_back(values.size());
    }
    fs::make_dirs(layout.index_dir());
    const std::string path = layout.dictionary();
    constexpr auto kPaged = h5::Layout::paged;  // read a few elements at a time
    h5::write_kiln_file(path, "index", durable, h5::kHeadersTogether, [&](hid_t root) {
        h5::set_attr(root, "shards_digest", shards_digest(catalog));
        std::vector<MergedShard> segments;
        for (std::size_t i = 0; i < ids.size(); ++i)
            segments.push_back({ids[i], 0, records[i], checksums[i]});
        h5::set_attr(root, "segments_digest", segments_digest(segments));
        h5::set_attr(root, "policy", policy.to_json().dump());
        h5::set_attr(root, "records", static_cast<std::int64_t>(total));
        if (!extras_digest.empty()) h5::set_attr(root, "extras_digest", extras_digest);
        {
            h5::Handle g = h5::create_group(root, "shards");
            h5::write_u64(g.id(), "id", ids, kPaged);
            h5::write_u64(g.id(), "records", records, kPaged);
            h5::write_strings(g.id(), "segment_checksum", checksums);
        }
        {
            h5::Handle g = h5::create_group(root, "fields");
            h5::write_strings(g.id(), "name", names);
            h5::write_strings(g.id(), "type", types);
            h5::write_u64(g.id(), "records", counts, kPaged);
            h5::write_u64(g.id(), "shard_offsets", shard_offsets, kPaged);
            h5::write_u64(g.id(), "shard", shard, kPaged);
            h5::write_u64(g.id(), "shard_records", shard_records, kPaged);
            h5::write_f64(g.id(), "shard_min", mins, kPaged);
            h5::write_f64(g.id(), "shard_max", maxs, kPaged);
            h5::write_u64(g.id(), "term_offsets", term_offsets, kPaged);
        }
        {
            h5::Handle g = h5::create_group(root, "terms");
            h5::write_strings(g.id(), "value", values);
            h5::write_u64(g.id(), "shard_offsets", term_shard_offsets, kPaged);
            h5::write_u64(g.id(), "shard", term_shard, kPaged);
            h5::write_u64(g.id(), "count", term_count, kPaged);
        }
    });
}

namespace {

IndexPolicy policy_of(const std::string& path, hid_t root) {
    try {
        return IndexPolicy::from_json(nlohmann::json::parse(h5::get_attr_string(root, "policy")));
    } catch (const nlohmann::json::exception& e) {
        throw DataError("'" + path + "': policy attribute is not JSON (" + e.what() + ")");
    }
}

}  // namespace

IndexPolicy Dictionary::stored_policy(const std::string& path) {
    if (!fs::is_file(path)) {
        throw NoInputError("this dataset has no search index ('" + path + "' does not exist)");
    }
    const std::lock_guard lock(h5::library_mutex());
    try {
        h5::Handle file = h5::open_kiln_file(path, "index", "index dictionary");
        return policy_of(path, file.id());
    } catch (const IoError& e) {
        throw DataError("'" + path + "': cannot read its policy attribute (" + e.what() + ")");
    }
}

Dictionary Dictionary::open(const std::string& path, const store::Catalog& catalog) {
    if (!fs::is_file(path)) {
        throw NoInputError("this dataset has no search index ('" + path + "' does not exist); " +
                           kRebuild);
    }
    const std::lock_guard lock(h5::library_mutex());
    Dictionary d;
    d.path = path;
    h5::Handle file = h5::open_kiln_file(path, "index", "index dictionary");
    const hid_t root = file.id();
    if (h5::get_attr_string(root, "shards_digest") != shards_digest(catalog)) {
        throw DataError("the search index '" + path +
                        "' is older than the dataset's shards (the catalog changed since it was "
                        "built); " +
                        kRebuild);
    }
    d.records = static_cast<std::uint64_t>(h5::get_attr_int(root, "records"));
    if (h5::has_attr(root, "extras_digest"))
        d.extras_digest = h5::get_attr_string(root, "extras_digest");
    if (h5::has_attr(root, "segments_digest"))
        d.segments_digest = h5::get_attr_string(root, "segments_digest");
    d.policy = policy_of(path, root);
    {
        h5::Handle g = h5::open_group(root, "shards");
        d.shard_ids = h5::read_u64(g.id(), "id");
        d.shard_records = h5::read_u64(g.id(), "records");
        d.segment_checksums = h5::read_strings(g.id(), "segment_checksum");
    }
    h5::Handle g = h5::open_group(root, "fields");
    const auto names = h5::read_strings(g.id(), "name");
    const auto types = h5::read_strings(g.id(), "type");
    const auto counts = h5::read_u64(g.id(), "records");
    const auto offsets = h5::read_u64(g.id(), "shard_offsets");
    const auto shard = h5::read_u64(g.id(), "shard");
    const auto shard_records = h5::read_u64(g.id(), "shard_records");
    const auto mins = h5::read_f64(g.id(), "shard_min");
    const auto maxs = h5::read_f64(g.id(), "shard_max");
    const auto term_offsets = h5::read_u64(g.id(), "term_offsets");
    const std::size_t n = names.size();
    if (types.size() != n || counts.size() != n || offsets.size() != n + 1 ||
        term_offsets.size() != n + 1 || shard.size() != offsets.back() ||
        shard_records.size() != shard.size() || mins.size() != shard.size() ||
        maxs.size() != shard.size()) {
        throw DataError("'" + path + "': the /fields columns do not match; " + kRebuild);
    }
    d.fields.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        DictionaryField& f = d.fields[i];
        f.name = names[i];
        f.type = field_type_from_string(types[i]);
        f.records = counts[i];
        if (offsets[i] > offsets[i + 1] || offsets[i + 1] > shard.size()) {
            throw DataError("'" + path + "': bad shard offsets for field '" + f.name + "'");
        }
        for (auto k = offsets[i]; k < offsets[i + 1]; ++k) {
            if (shard[k] >= d.shard_ids.size()) {
                throw DataError("'" + path + "': field '" + f.name + "' names shard index " +
                                std::to_string(shard[k]) + " of " +
                                std::to_string(d.shard_ids.size()));
            }
            f.shards.push_back(shard[k]);
            f.shard_records.push_back(shard_records[k]);
            f.shard_min.push_back(mins[k]);
            f.shard_max.push_back(maxs[k]);
        }
        f.term_begin = term_offsets[i];
        f.term_end = term_offsets[i + 1];
    }
    return d;
}

std::optional<Dictionary> Dictionary::for_merged(const std::string& path,
                                                 const store::Catalog& catalog,
                                                 const SegmentReader& merged) {
    if (!fs::is_file(path)) return std::nullopt;
    try {
        const std::lock_guard lock(h5::library_mutex());
        h5::Handle file = h5::open_kiln_file(path, "index", "index dictionary");
        const hid_t root = file.id();
        if (!h5::has_attr(root, "segments_digest") ||
            h5::get_attr_string(root, "shards_digest") != shards_digest(catalog) ||
            h5::get_attr_string(root, "segments_digest") !=
                index::segments_digest(merged.merged_shards())) {
            return std::nullopt;
        }
    } catch (const Error&) {
        return std::nullopt;
    }
    std::map<std::uint64_t, const MergedShard*> by_id;
    for (const auto& s : merged.merged_shards()) by_id[s.shard_id] = &s;
    Dictionary d;
    d.path = merged.path();
    d.records = merged.records();
    d.policy = merged.policy();
    for (const auto& s : catalog.shards) {  // catalog order, as Dictionary::open
        const auto it = by_id.find(s.id);
        if (it == by_id.end()) return std::nullopt;
        d.shard_ids.push_back(s.id);
        d.shard_records.push_back(it->second->records);
        d.segment_checksums.push_back(it->second->segment_checksum);
    }
    std::vector<std::uint64_t> every(catalog.shards.size());
    for (std::size_t i = 0; i < every.size(); ++i) every[i] = i;
    for (const auto& f : merged.fields()) {  // sorted by name, as the dictionary's
        DictionaryField g;
        g.name = f.name;
        g.type = f.type;
        g.records = f.records;
        g.shards = every;
        g.shard_min.assign(every.size(), f.number_min);
        g.shard_max.assign(every.size(), f.number_max);
        d.fields.push_back(std::move(g));
    }
    return d;
}

const DictionaryField* Dictionary::field(std::string_view name) const {
    const auto it = std::lower_bound(
        fields.begin(), fields.end(), name,
        [](const DictionaryField& f, std::string_view n) { return std::string_view(f.name) < n; });
    return it != fields.end() && it->name == name ? &*it : nullptr;
}

const std::vector<Dictionary::Term>* Dictionary::listed_terms(const DictionaryField& f) const {
    if (f.term_begin == f.term_end) return nullptr;
    const std::lock_guard cache(*cache_mutex_);
    if (const auto it = listed_->find(f.name); it != listed_->end()) return &it->second;
    const std::lock_guard lock(h5::library_mutex());
    h5::Handle file = h5::open_file(path);
    h5::Handle g = h5::open_group(file.id(), "terms");
    std::vector<std::uint64_t> rows;
    for (auto t = f.term_begin; t < f.term_end; ++t) rows.push_back(t);
    const auto values = h5::read_strings_at(g.id(), "value", rows);
    const auto offs = h5::read_u64(g.id(), "shard_offsets", f.term_begin, f.term_end + 1);
    const auto shard = h5::read_u64(g.id(), "shard", offs.front(), offs.back());
    const auto count = h5::read_u64(g.id(), "count", offs.front(), offs.back());
    std::vector<Term> out(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        out[i].value = values[i];
        for (auto k = offs[i]; k < offs[i + 1]; ++k) {
            out[i].shards.push_back(shard[k - offs.front()]);
            out[i].counts.push_back(count[k - offs.front()]);
        }
    }
    auto& slot = (*listed_)[f.name];
    slot = std::move(out);
    return &slot;
}

}  // namespace kiln::index
