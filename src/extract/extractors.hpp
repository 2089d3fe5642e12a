// Factories of the built-in extractors (one .cpp each), for the registry. Internal.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/extract/extractor.hpp"

namespace kiln::extract {

std::unique_ptr<Extractor> make_skeleton_extractor();
std::unique_ptr<Extractor> make_cif_extractor();
std::unique_ptr<Extractor> make_poscar_extractor();
std::unique_ptr<Extractor> make_xyz_extractor();
std::unique_ptr<Extractor> make_json_extractor();
std::unique_ptr<Extractor> make_vasprun_extractor();
std::unique_ptr<Extractor> make_image_extractor();
std::unique_ptr<Extractor> make_csv_extractor();
std::unique_ptr<Extractor> make_tsv_extractor();
std::unique_ptr<Extractor> make_incar_extractor();
std::unique_ptr<Extractor> make_oszicar_extractor();
std::unique_ptr<Extractor> make_kpoints_extractor();
std::unique_ptr<Extractor> make_yaml_extractor();
std::unique_ptr<Extractor> make_outcar_extractor();
std::unique_ptr<Extractor> make_espresso_extractor();
std::unique_ptr<Extractor> make_hdf5_extractor();

/// Generic documents (JSON that is no pymatgen object, YAML) as "custom" fields: nested keys
/// joined with '.', arrays as their length, at most 100 fields, 8 levels.
void flatten_custom(const nlohmann::json& j, nlohmann::json& out);

/// Whether a column or key names a chemical formula ("formula", "composition",
/// "pretty_formula", "reduced_formula", "compound", "chemical_formula"; any case): tables with
/// one make one record per row.
bool formula_column(const std::string& name);

/// MDF's exchange_correlation_functional from VASP's LHFCALC, METAGGA and GGA tags (vasprun.xml,
/// OUTCAR and INCAR name it alike); with GGA unset, from the first POTCAR's title ("PAW_PBE Si
/// 05Jan2001": PBE) when the file names one.
std::string vasp_functional(std::string_view lhfcalc, std::string_view metagga,
                            std::string_view gga, std::string_view potcar = "");

/// The element of a POTCAR's "VRHFIN =Fe: d7 s1" line (POTCAR and OUTCAR print one per
/// species), or 0.
int vrhfin_z(std::string_view line);

/// Whether `line` contains `what` (the line tests of the text-output readers).
inline bool contains(std::string_view line, std::string_view what) {
    return line.find(what) != std::string_view::npos;
}

/// Splits text into lines (handles \n and \r\n; strips a UTF-8 BOM).
std::vector<std::string_view> split_lines(std::string_view text);
/// Splits a line on spaces and tabs.
std::vector<std::string_view> split_words(std::string_view line);
/// Parses a finite double; throws DataError("<what>: ...") otherwise.
double parse_double(std::string_view word, const std::string& what);

}  // namespace kiln::extract
