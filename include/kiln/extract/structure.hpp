// Atomic structures read from files: a crystal (lattice + fractional sites) or a molecule
// (Cartesian sites, no lattice), and the MDF blocks derived from them.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiln/extract/composition.hpp"

namespace kiln::extract {

using Vec3 = std::array<double, 3>;
/// Lattice vectors as rows, in Angstrom.
using Lattice = std::array<Vec3, 3>;

/// Determinant of the lattice (signed volume, cubic Angstrom).
[[nodiscard]] double determinant(const Lattice& lattice);
/// Fractional coordinates of a Cartesian position (Angstrom) in `lattice`. Throws DataError
/// for a lattice with zero volume.
[[nodiscard]] Vec3 to_fractional(const Lattice& lattice, const Vec3& cartesian);

/// One site: its species (element Z with occupancy; several for a disordered site) and its
/// position, fractional for crystals and Cartesian (Angstrom) for molecules.
struct Site {
    std::vector<std::pair<int, double>> species;  // (Z, occupancy)
    Vec3 position{};
};

struct Structure {
    std::optional<Lattice> lattice;  // none: a molecule
    std::vector<Site> sites;

    /// Sum over sites of each species' occupancy.
    [[nodiscard]] Composition composition() const;
    /// Cell volume in cubic Angstrom (|det|); 0 for a molecule.
    [[nodiscard]] double volume() const;
    /// Lattice lengths a, b, c (Angstrom) and angles alpha, beta, gamma (degrees).
    [[nodiscard]] std::array<double, 6> cell_parameters() const;
    /// International space group number from spglib with tolerance `symprec` (Angstrom),
    /// as pymatgen's SpacegroupAnalyzer does (disordered sites count as their own species).
    /// nullopt, with `why` saying so, for a molecule, when spglib finds none, and for cells no
    /// crystal has, where spglib's search takes seconds to minutes per structure (found by
    /// fuzzing: 8 s for a 2-atom cell of 7 076 x 0.74 A, 11 s for a cell flattened to 3.4 A^3):
    /// an axis longer than kMaxAxisLength Angstrom (13 s for a cell scaled to 1e17 A), the
    /// longest axis over kMaxAxisRatio times the shortest, or a lattice translation (a, b, c
    /// or a sum of them) shorter than kMinTranslation Angstrom.
    [[nodiscard]] std::optional<int> space_group_number(double symprec, std::string& why) const;
    static constexpr double kMaxAxisLength = 10000;
    static constexpr double kMaxAxisRatio = 1000;
    static constexpr double kMinTranslation = 0.5;
    /// Nor a cell with less volume per site than this (cubic Angstrom; the densest solids
    /// have about 5): a nearly flat cell whose short translation is no sum of a, b and c
    /// (fuzz_outcar: 0.008 A^3 for 2 atoms, 114 s in spglib).
    static constexpr double kMinVolumePerSite = 1.0;
    /// Nor a site more than this many cells from the origin (a fractional coordinate beyond
    /// +-kMaxCellsAway): spglib rounds coordinates to int, so one of 3e9 gets a wrong group
    /// and one of 1e42 kept it busy 35 s (fuzz_poscar).
    static constexpr double kMaxCellsAway = 1e6;
    /// Throws DataError("<what>: ...") for NaN/infinite coordinates or a lattice with zero or
    /// negative volume, unknown elements, or no sites.
    void validate(const std::string& what) const;
};

/// MDF blocks of a structure: {"material": {composition, elements, ...},
/// "crystal_structure": {space_group_number, number_of_atoms, volume, stoichiometry,
/// a, b, c, alpha, beta, gamma}} ("crystal_structure" only with a lattice). Also carries the
/// sparse element fractions under material.fractions ({"26": 0.4, "8": 0.6}). `symprec` 0
/// leaves the space group out (no spglib call).
[[nodiscard]] nlohmann::json structure_blocks(const Structure& s, double symprec = 0.01);
/// The "material" block of a composition alone.
[[nodiscard]] nlohmann::json material_block(const Composition& c);

}  // namespace kiln::extract
