// Format recognition: which extractor a file belongs to, from its name, MIME type and first
// bytes. Pure function; the table of rules is in src/extract/format.cpp.
#pragma once

#include <string>
#include <string_view>

namespace kiln::extract {

/// Format name for a file: "cif", "poscar", "outcar", "oszicar", "incar", "kpoints",
/// "potcar", "vasprun", "espresso", "xyz", "json", "csv", "tsv", "yaml", "image", "hdf5",
/// "archive", or "unknown". `name` is the file name or path (a trailing .gz/.bz2/.xz/.lzma
/// is looked through, so "vasprun.xml.gz" is "vasprun"); `mime` the libmagic MIME type;
/// `head` the first bytes of the content (may be empty).
[[nodiscard]] std::string detect_format(std::string_view name, std::string_view mime,
                                        std::string_view head);

/// The compression suffix of a name (".gz", ".bz2", ".xz", ".lzma", any case), or "" when
/// it has none.
[[nodiscard]] std::string_view compression_suffix(std::string_view name);

/// Whether the name says tar/zip archive (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2",
/// ".tar.xz", ".txz", ".zip"): members of such files become records of their own.
[[nodiscard]] bool is_archive_name(std::string_view name);

}  // namespace kiln::extract
