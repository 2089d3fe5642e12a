#include "kiln/store/catalog.hpp"

#include <unistd.h>

#include "kiln/core/error.hpp"
#include "kiln/core/fault.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/store/layout.hpp"
#include "store/h5.hpp"

namespace kiln::store {

void write_catalog(const std::string& path, const Catalog& catalog) {
    const std::lock_guard lock(h5::library_mutex());
    h5::silence_errors();
    const std::string tmp = path + ".tmp";
    try {
        h5::Handle file = h5::create_file(tmp);
        const hid_t f = file.id();
        h5::set_attr(f, "kiln_schema_version", kSchemaVersion);
        h5::set_attr(f, "kind", std::string_view("catalog"));
        h5::set_attr(f, "kiln_version", std::string_view(catalog.kiln_version));
        h5::set_attr(f, "created", std::string_view(catalog.created));
        h5::write_string(f, "dc", catalog.dc.dump());
        {
            h5::Handle g = h5::create_group(f, "shards");
            const auto& s = catalog.shards;
            std::vector<std::uint64_t> u(s.size());
            std::vector<std::string> t(s.size());
            auto put = [&](const char* name, auto field) {
                for (std::size_t i = 0; i < s.size(); ++i) u[i] = field(s[i]);
                h5::write_u64(g.id(), name, u);
            };
            put("id", [](const ShardEntry& e) { return e.id; });
            put("records", [](const ShardEntry& e) { return e.records; });
            put("bytes", [](const ShardEntry& e) { return e.bytes; });
            put("errors", [](const ShardEntry& e) { return e.errors; });
            for (std::size_t i = 0; i < s.size(); ++i) t[i] = s[i].file;
            h5::write_strings(g.id(), "file", t);
            for (std::size_t i = 0; i < s.size(); ++i) t[i] = s[i].checksum.hex();
            h5::write_strings(g.id(), "checksum", t);
        }
        fault_point("catalog.mid_write");
        h5::write_string(f, "summary", catalog.summary.dump());
        file.close("catalog '" + tmp + "'");
        fs::fsync_path(tmp);
        fs::durable_rename(tmp, path);
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
}

Catalog read_catalog(const std::string& path) {
    const std::lock_guard lock(h5::library_mutex());
    h5::silence_errors();
    if (!fs::is_file(path)) {
        throw NoInputError("no catalog at '" + path +
                           "': not a kiln dataset, or its ingest has not finished (rerun the "
                           "same `kiln ingest` command to resume it)");
    }
    h5::Handle file = h5::open_file(path);
    const hid_t f = file.id();
    if (!h5::has_attr(f, "kind") || h5::get_attr_string(f, "kind") != "catalog") {
        throw DataError("'" + path + "' is not a kiln catalog (no attribute kind=\"catalog\")");
    }
    Catalog c;
    c.schema_version = h5::get_attr_int(f, "kiln_schema_version");
    if (c.schema_version < 1 || c.schema_version > kSchemaVersion) {
        throw DataError("'" + path + "' has kiln_schema_version " +
                        std::to_string(c.schema_version) + "; this kiln reads 1 to " +
                        std::to_string(kSchemaVersion));
    }
    c.kiln_version = h5::get_attr_string(f, "kiln_version");
    c.created = h5::get_attr_string(f, "created");
    try {
        c.dc = nlohmann::json::parse(h5::read_string(f, "dc"));
        c.summary = nlohmann::json::parse(h5::read_string(f, "summary"));
    } catch (const nlohmann::json::exception& e) {
        throw DataError("'" + path + "': invalid JSON in /dc or /summary: " + e.what());
    }
    h5::Handle g = h5::open_group(f, "shards");
    const auto ids = h5::read_u64(g.id(), "id");
    const auto records = h5::read_u64(g.id(), "records");
    const auto bytes = h5::read_u64(g.id(), "bytes");
    const auto errors = h5::read_u64(g.id(), "errors");
    const auto files = h5::read_strings(g.id(), "file");
    const auto sums = h5::read_strings(g.id(), "checksum");
    const std::size_t n = ids.size();
    if (records.size() != n || bytes.size() != n || errors.size() != n || files.size() != n ||
        sums.size() != n) {
        throw DataError("'" + path + "': /shards columns have different lengths");
    }
    for (std::size_t i = 0; i < n; ++i) {
        c.shards.push_back(ShardEntry{ids[i], files[i], records[i], bytes[i], errors[i],
                                      Hash128::from_hex(sums[i])});
    }
    return c;
}

std::string hdf5_version() { return h5::library_version(); }
bool hdf5_is_parallel() { return h5::library_is_parallel(); }

}  // namespace kiln::store
