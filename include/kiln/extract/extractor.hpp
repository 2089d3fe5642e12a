// Extractors: one per file format, registered by name. Each turns a file's bytes into zero or
// more MDF-style record fragments ({"material": ..., "crystal_structure": ..., "dft": ...}).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::extract {

/// A file as an extractor sees it: its name (path; name rules and messages use it) and its
/// content, already decompressed.
struct FileInput {
    std::string name;
    std::string_view bytes;
    double symprec = 0.01;  // spglib tolerance (Angstrom) for space groups; 0: none
    /// Species (Z, in POTCAR order) of the VASP run the file belongs to, from a POTCAR or
    /// OUTCAR beside it (vasp_species_beside). Called only by a VASP 4 POSCAR, which names
    /// none: the files beside are looked for only then.
    std::function<std::vector<int>()> run_species;
};

/// Reads one format. Implementations are stateless and thread-safe.
class Extractor {
public:
    virtual ~Extractor() = default;
    /// Registry name, equal to the format name detect_format() returns ("cif", "poscar").
    [[nodiscard]] virtual std::string_view name() const = 0;
    /// One JSON object per record (a CIF with three data blocks gives three). Throws
    /// kiln::DataError with the reason when the content is not valid for the format.
    [[nodiscard]] virtual std::vector<nlohmann::json> extract(const FileInput& file) const = 0;
};

/// Name -> extractor. A format without an extractor ("unknown", or one not built) has none;
/// callers then keep only the generic fields.
class ExtractorRegistry {
public:
    /// Every extractor built into kiln (including the `skeleton` template).
    static const ExtractorRegistry& builtin();
    [[nodiscard]] const Extractor* find(std::string_view name) const;
    [[nodiscard]] std::vector<std::string> names() const;
    void add(std::unique_ptr<Extractor> extractor);

private:
    std::vector<std::unique_ptr<Extractor>> extractors_;
};

/// Limits for reading one file.
struct ExtractLimits {
    std::size_t max_decompressed_bytes = std::size_t{512} << 20;
    double symprec = 0.01;  // spglib tolerance, Angstrom
};

/// Decompresses `.gz`, `.bz2`, `.xz`, `.lzma` content (by name); other content is returned as
/// is. Throws DataError for truncated or corrupt data or output past max_bytes.
[[nodiscard]] std::string decompress(const std::string& name, std::string_view bytes,
                                     std::size_t max_bytes);

/// The first `n` bytes of the content (decompressed for a compressed name), for format
/// detection by content; empty when the data cannot be decompressed.
[[nodiscard]] std::string content_head(const std::string& name, std::string_view bytes,
                                       std::size_t n = 4096);

/// Runs the extractor of `format` over a file (decompressing first). Returns the records'
/// fragments, each with "kiln": {"format": ...}; a file without extractor gives one empty
/// fragment. Never throws for bad content: the error goes into "kiln": {"error": ...}.
[[nodiscard]] std::vector<nlohmann::json> extract_file(
    const std::string& name, const std::string& format, std::string_view bytes,
    const ExtractLimits& limits, std::function<std::vector<int>()> run_species = {});

/// The species of the VASP run a file on disk belongs to, as VASP itself takes them: the
/// VRHFIN lines of a POTCAR beside it (POTCAR<suffix>, POTCAR; .gz/.bz2/.xz too), else of an
/// OUTCAR beside it (the same names). Empty when there is none or it cannot be read.
[[nodiscard]] std::vector<int> vasp_species_beside(const std::string& path);

}  // namespace kiln::extract
