#include <archive.h>

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

std::string decompress(const std::string& name, std::string_view bytes, std::size_t max_bytes) {
    if (compression_suffix(name).empty()) return std::string(bytes);
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
            const la_ssize_t n = archive_read_data(a, buf, sizeof buf);
            if (n < 0) {
                error = archive_error_string(a) != nullptr ? archive_error_string(a) : "read error";
                break;
            }
            if (n == 0) break;
            if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
                error = "decompressed size passes " + std::to_string(max_bytes) + " bytes";
                break;
            }
            out.append(buf, static_cast<std::size_t>(n));
        }
    }
    archive_read_free(a);
    if (!error.empty()) throw DataError("cannot decompress: " + error);
    return out;
}

std::vector<nlohmann::json> extract_file(const std::string& name, const std::string& format,
                                         std::string_view bytes, const ExtractLimits& limits) {
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
        records = extractor->extract(FileInput{name, text});
    } catch (const std::exception& e) {
        return {{{"kiln",
                  {{"format", format}, {"error", escape_invalid_utf8(format + ": " + e.what())}}}}};
    }
    if (records.empty()) records.push_back(nlohmann::json::object());
    for (auto& r : records) r["kiln"]["format"] = format;
    return records;
}

}  // namespace kiln::extract
