// VASP POSCAR / CONTCAR. VASP 5 files name the species on line 6; for VASP 4 files the
// species come from a POTCAR or OUTCAR beside the file (FileInput::run_species), else the
// symbols after the coordinates or the comment line (as pymatgen falls back to).
#include <algorithm>
#include <cctype>
#include <cmath>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"
#include "kiln/extract/element.hpp"
#include "kiln/extract/structure.hpp"

namespace kiln::extract {
namespace {

bool is_integer_word(std::string_view w) {
    if (w.empty()) return false;
    for (const char c : w) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// "Fe_pv" / "Fe/abc" (POTCAR labels) -> "Fe".
int species_z(std::string_view word) {
    const auto cut = word.find_first_of("_/.:");
    return atomic_number(word.substr(0, cut));
}

class PoscarExtractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "poscar"; }

    [[nodiscard]] std::vector<nlohmann::json> extract(const FileInput& file) const override {
        const auto lines = split_lines(file.bytes);
        std::size_t i = 0;
        const auto line = [&](const char* what) -> std::string_view {
            if (i >= lines.size())
                throw DataError(std::string("truncated: expected ") + what + " at line " +
                                std::to_string(i + 1));
            return lines[i++];
        };
        const auto where = [&] { return "line " + std::to_string(i); };
        const std::string_view comment = line("a comment line");
        const auto scale_words = split_words(line("the scale factor"));
        if (scale_words.empty()) throw DataError(where() + ": expected the scale factor");
        const double scale = parse_double(scale_words[0], where());
        Lattice lattice{};
        for (std::size_t r = 0; r < 3; ++r) {
            const auto w = split_words(line("a lattice vector"));
            if (w.size() < 3)
                throw DataError(where() + ": expected 3 numbers for a lattice vector");
            for (std::size_t k = 0; k < 3; ++k) lattice[r][k] = parse_double(w[k], where());
        }
        // Species may run over several lines, followed by as many lines of counts (pymatgen
        // accepts up to 10).
        std::vector<int> species;
        std::vector<long> counts;
        std::size_t species_lines = 0;
        while (i < lines.size()) {
            const auto w = split_words(lines[i]);
            if (w.empty() || is_integer_word(w[0]) || species_lines == 10) break;
            for (const auto sym : w) {
                const int z = species_z(sym);
                if (z == 0)
                    throw DataError("line " + std::to_string(i + 1) + ": unknown element '" +
                                    std::string(sym) + "'");
                species.push_back(z);
            }
            ++i;
            ++species_lines;
        }
        for (std::size_t k = 0; k < std::max<std::size_t>(species_lines, 1); ++k) {
            const auto w = split_words(line("atom counts"));
            for (const auto c : w) {
                if (!is_integer_word(c)) break;
                counts.push_back(std::stol(std::string(c)));
            }
        }
        if (counts.empty()) throw DataError(where() + ": expected atom counts");
        std::string_view mode = line("the coordinate mode");
        const bool selective = !mode.empty() && (mode[0] == 'S' || mode[0] == 's');
        if (selective) mode = line("the coordinate mode");
        const std::size_t first_position = i;
        // VASP 4 (no species line): the run's POTCAR or OUTCAR names them, as VASP and
        // pymatgen's Poscar.from_file take them; else the file's own hints.
        if (species.empty() && file.run_species) {
            if (auto run = file.run_species(); run.size() == counts.size())
                species = std::move(run);
        }
        if (species.empty())
            species = vasp4_species(lines, first_position, counts, selective, comment);
        if (species.size() != counts.size()) {
            throw DataError(where() + ": " + std::to_string(species.size()) + " species but " +
                            std::to_string(counts.size()) + " counts");
        }
        long total = 0;
        for (const long c : counts) total += c;
        if (total <= 0 || total > 10'000'000)
            throw DataError(where() + ": implausible atom count " + std::to_string(total));
        const bool cartesian =
            !mode.empty() && (mode[0] == 'C' || mode[0] == 'c' || mode[0] == 'K' || mode[0] == 'k');

        // Scale: positive multiplies, negative is the target volume.
        Structure s;
        double factor = scale;
        const double volume = std::fabs(determinant(lattice));
        if (!(volume > 1e-8) || scale == 0) {
            throw DataError("lattice has zero volume or the scale is 0");
        }
        if (scale < 0) factor = std::cbrt(-scale / volume);
        for (auto& row : lattice) {
            for (double& x : row) x *= factor;
        }
        s.lattice = lattice;
        for (std::size_t t = 0; t < counts.size(); ++t) {
            for (long n = 0; n < counts[t]; ++n) {
                const auto w = split_words(line("atom positions"));
                if (w.size() < 3) throw DataError(where() + ": expected 3 coordinates");
                Vec3 p{};
                for (std::size_t k = 0; k < 3; ++k) p[k] = parse_double(w[k], where());
                if (cartesian)
                    p = to_fractional(lattice, {p[0] * factor, p[1] * factor, p[2] * factor});
                s.sites.push_back(Site{{{species[t], 1.0}}, p});
            }
        }
        s.validate("structure");
        return {structure_blocks(s, file.symprec)};
    }

private:
    // VASP 4 files have no species line: like pymatgen, take the symbols written after the
    // coordinates; else the elements of the comment line, in order ("Fe4P4O16" or "Fe P O").
    static std::vector<int> vasp4_species(const std::vector<std::string_view>& lines,
                                          std::size_t first, const std::vector<long>& counts,
                                          bool selective, std::string_view comment) {
        std::vector<int> species;
        std::size_t row = first;
        bool ok = true;
        for (const long n : counts) {
            if (row >= lines.size()) {
                ok = false;
                break;
            }
            const auto w = split_words(lines[row]);
            const std::size_t at = selective ? 6 : 3;
            const int z = w.size() > at ? species_z(w[at]) : 0;
            if (z == 0) {
                ok = false;
                break;
            }
            species.push_back(z);
            row += static_cast<std::size_t>(n);
        }
        if (ok) return species;
        // The comment line: element symbols in written order, whether written as words
        // ("Fe P O") or as one formula ("Fe4P4O16"); amounts between them are skipped.
        species.clear();
        std::size_t k = 0;
        while (k < comment.size()) {
            const auto c = static_cast<unsigned char>(comment[k]);
            if (std::isdigit(c) != 0 || comment[k] == '.' || comment[k] == ' ' ||
                comment[k] == '\t') {
                ++k;
                continue;
            }
            std::size_t e = k + 1;
            while (e < comment.size() && std::islower(static_cast<unsigned char>(comment[e])) != 0)
                ++e;
            const int z = atomic_number(comment.substr(k, e - k));
            if (z == 0) break;
            species.push_back(z);
            k = e;
        }
        if (species.size() != counts.size()) {
            throw DataError(
                "VASP 4 POSCAR without species: no species line, no symbols after "
                "the coordinates, and the comment line does not name the elements");
        }
        return species;
    }
};

}  // namespace

std::unique_ptr<Extractor> make_poscar_extractor() { return std::make_unique<PoscarExtractor>(); }

}  // namespace kiln::extract
