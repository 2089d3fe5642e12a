#include "kiln/extract/format.hpp"

#include <array>
#include <utility>

#include "kiln/core/text.hpp"

namespace kiln::extract {
namespace {

std::string_view base_name(std::string_view path) {
    const auto slash = path.find_last_of("/!");
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// (suffix, format) checked on the lower-case name without its compression suffix.
constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kSuffixRules{{
    {".cif", "cif"},
    {".mcif", "cif"},
    {".xyz", "xyz"},
    {".extxyz", "xyz"},
    {".json", "json"},
    {".csv", "csv"},
    {".tsv", "tsv"},
    {".yaml", "yaml"},
    {".yml", "yaml"},
    {".h5", "hdf5"},
    {".hdf5", "hdf5"},
}};

// (name prefix, format) of VASP's file names, matched in any case as MaterialsIO does
// ("outcar_vasp_6.3.gz" is an OUTCAR).
constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kVaspPrefixes{{
    {"poscar", "poscar"},
    {"contcar", "poscar"},
    {"outcar", "outcar"},
    {"oszicar", "oszicar"},
    {"incar", "incar"},
    {"kpoints", "kpoints"},
    {"potcar", "potcar"},
}};

}  // namespace

std::string_view compression_suffix(std::string_view name) {
    for (const std::string_view z : {".gz", ".bz2", ".xz", ".lzma"}) {
        if (ends_with_nocase(name, z)) return name.substr(name.size() - z.size());
    }
    return {};
}

bool is_archive_name(std::string_view name) {
    for (const std::string_view s :
         {".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".zip"}) {
        if (ends_with_nocase(name, s)) return true;
    }
    return false;
}

std::string detect_format(std::string_view name, std::string_view mime, std::string_view head) {
    if (is_archive_name(name)) return "archive";
    std::string_view base = base_name(name);
    base.remove_suffix(compression_suffix(base).size());
    const std::string lower = to_lower_ascii(base);
    for (const auto& [prefix, format] : kVaspPrefixes) {
        if (starts_with(lower, prefix)) return std::string(format);
    }
    if (starts_with(lower, "vasprun") && lower.find(".xml") != std::string::npos) {
        return "vasprun";
    }
    for (const auto& [suffix, format] : kSuffixRules) {
        if (ends_with_nocase(lower, suffix)) return std::string(format);
    }
    if (starts_with(mime, "image/")) return "image";
    if (mime == "application/x-hdf5" || mime == "application/x-hdf") return "hdf5";
    if (head.find("Program PWSCF") != std::string_view::npos) return "espresso";
    return "unknown";
}

}  // namespace kiln::extract
