// Chemical compositions: element -> amount, parsed from formulas or counted from structures.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::extract {

/// Element (atomic number) -> amount (may be fractional, e.g. from partial occupancies).
/// Amounts are > 0; adding a zero or negative amount is ignored.
class Composition {
public:
    Composition() = default;
    void add(int z, double amount);
    [[nodiscard]] const std::map<int, double>& amounts() const noexcept { return amounts_; }
    [[nodiscard]] bool empty() const noexcept { return amounts_.empty(); }
    /// Sum of the amounts (pymatgen's num_atoms).
    [[nodiscard]] double num_atoms() const noexcept;
    /// Element symbols, sorted alphabetically and unique (MDF's material.elements).
    [[nodiscard]] std::vector<std::string> elements() const;
    /// Divided by the largest factor that leaves whole numbers ("Fe4O6" -> "Fe2O3"); when the
    /// amounts are not near whole numbers (within 1e-3) it is returned unchanged.
    [[nodiscard]] Composition reduced() const;
    /// Formula in Hill order (C, H, then alphabetical; alphabetical without carbon), amounts
    /// of 1 omitted, fractions with up to 4 decimals: "Fe2O3", "CH4", "Li0.5CoO2".
    [[nodiscard]] std::string formula() const;
    /// The reduced formula with letters for elements, by increasing amount: Fe2O3 -> "A2B3".
    [[nodiscard]] std::string anonymous_formula() const;
    /// Element fractions (amount / num_atoms), the sparse row featurizers read.
    [[nodiscard]] std::map<int, double> fractions() const;

private:
    std::map<int, double> amounts_;
};

/// Parses a chemical formula: element symbols with optional amounts ("Fe2O3", "Li0.5CoO2"),
/// nested parentheses and brackets ("Ca3(PO4)2", "K4[Fe(CN)6]"), hydrates with "·", "*" or
/// "." followed by a multiplier ("CuSO4·5H2O"), charges stripped ("Fe+3", "SO4^2-", "O2-").
/// Throws kiln::DataError naming the formula, the position and what was expected.
[[nodiscard]] Composition parse_formula(std::string_view formula);

}  // namespace kiln::extract
