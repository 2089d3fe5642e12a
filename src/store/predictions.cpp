#include "kiln/store/predictions.hpp"

#include "kiln/core/error.hpp"
#include "store/h5.hpp"

namespace kiln::store {

void write_predictions(const std::string& path, const Predictions& p, bool durable) {
    if (p.values.size() != p.record_ids.size() * p.columns)
        throw Error("write_predictions: " + std::to_string(p.values.size()) + " values for " +
                    std::to_string(p.record_ids.size()) + " records of " +
                    std::to_string(p.columns) + " columns");
    h5::write_kiln_file(path, "predictions", durable, [&](hid_t root) {
        h5::set_attr(root, "shard_id", static_cast<std::int64_t>(p.shard_id));
        h5::set_attr(root, "row_begin", static_cast<std::int64_t>(p.row_begin));
        h5::set_attr(root, "row_end", static_cast<std::int64_t>(p.row_end));
        h5::set_attr(root, "columns", static_cast<std::int64_t>(p.columns));
        h5::set_attr(root, "provenance", p.provenance.dump());
        h5::write_u64(root, "record_id", p.record_ids);
        h5::write_f64(root, "value", p.values);
        h5::write_u64(root, "skipped", p.skipped);
    });
}

Predictions read_predictions(const std::string& path) {
    const std::lock_guard lock(h5::library_mutex());
    const h5::Handle f = h5::open_kiln_file(path, "predictions", "predictions file");
    Predictions p;
    p.shard_id = static_cast<std::uint64_t>(h5::get_attr_int(f.id(), "shard_id"));
    p.row_begin = static_cast<std::uint64_t>(h5::get_attr_int(f.id(), "row_begin"));
    p.row_end = static_cast<std::uint64_t>(h5::get_attr_int(f.id(), "row_end"));
    p.columns = static_cast<std::uint64_t>(h5::get_attr_int(f.id(), "columns"));
    p.provenance = nlohmann::json::parse(h5::get_attr_string(f.id(), "provenance"), nullptr, false);
    p.record_ids = h5::read_u64(f.id(), "record_id");
    p.values = h5::read_f64(f.id(), "value");
    p.skipped = h5::read_u64(f.id(), "skipped");
    if (p.columns == 0 || p.values.size() != p.record_ids.size() * p.columns ||
        p.provenance.is_discarded())
        throw DataError(path + ": damaged predictions file (sizes or provenance do not agree)");
    return p;
}

void write_cache_file(const std::string& path, const CacheContents& c, bool durable) {
    h5::write_kiln_file(path, "result-cache", durable, [&](hid_t root) {
        h5::set_attr(root, "model_sha256", c.model_sha256);
        h5::set_attr(root, "featurizer", c.featurizer);
        h5::set_attr(root, "columns", static_cast<std::int64_t>(c.columns));
        h5::write_u64(root, "key_high", c.key_high);
        h5::write_u64(root, "key_low", c.key_low);
        h5::write_f64(root, "value", c.values);
    });
}

CacheContents read_cache_file(const std::string& path) {
    const std::lock_guard lock(h5::library_mutex());
    const h5::Handle f = h5::open_kiln_file(path, "result-cache", "result cache");
    CacheContents c;
    c.model_sha256 = h5::get_attr_string(f.id(), "model_sha256");
    c.featurizer = h5::get_attr_string(f.id(), "featurizer");
    c.columns = static_cast<std::uint64_t>(h5::get_attr_int(f.id(), "columns"));
    c.key_high = h5::read_u64(f.id(), "key_high");
    c.key_low = h5::read_u64(f.id(), "key_low");
    c.values = h5::read_f64(f.id(), "value");
    if (c.columns == 0 || c.key_high.size() != c.key_low.size() ||
        c.values.size() != c.key_high.size() * c.columns)
        throw DataError(path + ": damaged result cache (sizes do not agree)");
    return c;
}

}  // namespace kiln::store
