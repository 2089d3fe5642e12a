#include <archive.h>
#include <zlib.h>

#include <algorithm>
#include <climits>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/text.hpp"
#include "kiln/extract/extractor.hpp"
#include "kiln/extract/format.hpp"

namespace kiln::extract {

const ExtractorRegistry& ExtractorRegistry::builtin() {
    static const ExtractorRegistry registry = [] {
        ExtractorRegistry r;
        r.add(make_skeleton_extractor());
        r.add(make_cif_extractor());
        r.add(make_poscar_extractor());
        r.add(make_xyz_extractor());
        r.add(make_json_extractor());
        r.add(make_vasprun_extractor());
        r.add(make_image_extractor());
        r.add(make_csv_extractor());
        r.add(make_tsv_extractor());
        r.add(make_incar_extractor());
        r.add(make_oszicar_extractor());
        r.add(make_kpoints_extractor());
        r.add(make_yaml_extractor());
        r.add(make_outcar_extractor());
        r.add(make_espresso_extractor());
        r.add(make_hdf5_extractor());
        return r;
    }();
    return registry;
}

const Extractor* ExtractorRegistry::find(std::string_view name) const {
    for (const auto& e : extractors_) {
        if (e->name() == name) return e.get();
    }
    return nullptr;
}

std::vector<std::string> ExtractorRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& e : extractors_) out.emplace_back(e->name());
    return out;
}

void ExtractorRegistry::add(std::unique_ptr<Extractor> extractor) {
    extractors_.push_back(std::move(extractor));
}

namespace {

// Decompresses up to `limit` bytes. Output past the limit is an error for a whole file
// (`whole`), else the head is returned.
std::string decompress_some(std::string_view bytes, std::size_t limit, bool whole) {
    archive* a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    std::string out;
    std::string error;
    archive_entry* entry = nullptr;
    if (archive_read_open_memory(a, bytes.data(), bytes.size()) != ARCHIVE_OK ||
        archive_read_next_header(a, &entry) != ARCHIVE_OK) {
        error = archive_error_string(a) != nullptr ? archive_error_string(a) : "cannot open";
    } else {
        char buf[65536];
        for (;;) {
            // Ask for no more than is still wanted: a head is then read before the error
            // of a truncated stream.
            const la_ssize_t n =
                archive_read_data(a, buf, std::min(sizeof buf, limit - out.size() + 1));
            if (n < 0) {
                error = archive_error_string(a) != nullptr ? archive_error_string(a) : "read error";
                break;
            }
            if (n == 0) break;
            const auto got = static_cast<std::size_t>(n);
            if (out.size() + got > limit) {
                if (whole)
                    error = "decompressed size passes " + std::to_string(limit) + " bytes";
                else
                    out.append(buf, limit - out.size());
                break;
            }
            out.append(buf, got);
        }
    }
    archive_read_free(a);
    if (!error.empty()) throw DataError("cannot decompress: " + error);
    return out;
}

}  // namespace

std::string decompress(const std::string& name, std::string_view bytes, std::size_t max_bytes) {
    if (compression_suffix(name).empty()) return std::string(bytes);
    return decompress_some(bytes, max_bytes, true);
}

namespace {

// The longest error message a record keeps (about; the escaping of bytes that are not UTF-8
// can grow it).
constexpr std::size_t kMaxErrorBytes = 1000;

// The first `n` bytes of a gzip stream, which may be cut short (the head of a streamed file
// or archive member): zlib inflates what there is; libarchive refuses a truncated stream.
std::string gunzip_head(std::string_view bytes, std::size_t n) {
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return {};
    std::string out(n, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z.avail_in = static_cast<uInt>(std::min<std::size_t>(bytes.size(), UINT32_MAX));
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(n);
    const int rc = inflate(&z, Z_SYNC_FLUSH);
    out.resize(n - z.avail_out);
    inflateEnd(&z);
    return rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR ? out : std::string();
}

}  // namespace

std::string content_head(const std::string& name, std::string_view bytes, std::size_t n) {
    const std::string_view suffix = compression_suffix(name);
    if (suffix.empty()) return std::string(bytes.substr(0, n));
    if (bytes.starts_with("\x1f\x8b")) return gunzip_head(bytes, n);
    try {
        return decompress_some(bytes, n, false);
    } catch (const DataError&) {
        return {};  // unreadable: the extractor reports it when it decompresses the file
    }
}

std::vector<nlohmann::json> extract_file(const std::string& name, const std::string& format,
                                         std::string_view bytes, const ExtractLimits& limits,
                                         std::function<std::vector<int>()> run_species) {
    const Extractor* extractor = ExtractorRegistry::builtin().find(format);
    if (extractor == nullptr || format == "skeleton") {
        return {{{"kiln", {{"format", format}}}}};
    }
    std::vector<nlohmann::json> records;
    try {
        const std::string content = decompress(name, bytes, limits.max_decompressed_bytes);
        std::string_view text = content;
        // A UTF-8 byte order mark (Windows editors write one) belongs to no materials format.
        if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
        records = extractor->extract(FileInput{name, text, limits.symprec, std::move(run_species)});
    } catch (const std::exception& e) {
        // Messages quote the offending text; a 100 MB line must not become a 100 MB record.
        std::string message = format + ": " + e.what();
        if (message.size() > kMaxErrorBytes) {
            const std::size_t more = message.size() - kMaxErrorBytes;
            message.resize(kMaxErrorBytes);
            message += "... (" + std::to_string(more) + " more bytes)";
        }
        return {{{"kiln", {{"format", format}, {"error", escape_invalid_utf8(message)}}}}};
    }
    if (records.empty()) records.push_back(nlohmann::json::object());
    for (auto& r : records) r["kiln"]["format"] = format;
    return records;
}

}  // namespace kiln::extract
