// Quantum ESPRESSO pw.x output. The first cell and positions (a(1..3) and "site n." in units
// of alat) are replaced by each later CELL_PARAMETERS / ATOMIC_POSITIONS block of a relaxation,
// so the record has the last structure, as ASE's espresso-out reader gives it. Energies are the
// last "!  total energy" line; Rydberg and Bohr are converted to eV and Angstrom (CODATA 2018)
// so dft.energy and dft.cutoff_energy are searchable next to VASP's.
#include <cctype>
#include <optional>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/text.hpp"
#include "kiln/extract/element.hpp"
#include "kiln/extract/structure.hpp"

namespace kiln::extract {
namespace {

constexpr double kRydbergEv = 13.605693122994;
constexpr double kBohrAngstrom = 0.529177210903;

// The number after the '=' (or ':') that follows `key` on the line.
std::optional<double> number_after(std::string_view line, std::string_view key) {
    const auto at = line.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    line.remove_prefix(at + key.size());
    const auto start = line.find_first_not_of(" \t=:");
    if (start == std::string_view::npos) return std::nullopt;
    const auto words = split_words(line.substr(start));
    try {
        return parse_double(words.at(0), std::string(key));
    } catch (const DataError&) {
        return std::nullopt;  // "*****" for an overflow
    }
}

// The three numbers between "(" and ")" of "a(1) = ( -0.5 0.0 0.5 )" or "tau( 1) = ( ... )".
Vec3 vector_in_parentheses(std::string_view line, std::size_t line_no) {
    const auto eq = line.find('=');
    const auto open = line.find('(', eq == std::string_view::npos ? 0 : eq);
    const auto close = line.find(')', open == std::string_view::npos ? 0 : open);
    const auto where = "line " + std::to_string(line_no);
    if (eq == std::string_view::npos || open == std::string_view::npos ||
        close == std::string_view::npos)
        throw DataError(where + ": expected '= ( x y z )'");
    const auto w = split_words(line.substr(open + 1, close - open - 1));
    if (w.size() != 3) throw DataError(where + ": expected 3 numbers in ( )");
    return {parse_double(w[0], where), parse_double(w[1], where), parse_double(w[2], where)};
}

// "Fe1", "O_h", "Si" (pw.x species labels) -> Z of the element the label starts with.
int label_z(std::string_view label) {
    std::size_t n = 0;
    while (n < label.size() && n < 2 && std::isalpha(static_cast<unsigned char>(label[n])) != 0)
        ++n;
    if (const int z = atomic_number(label.substr(0, n)); z != 0) return z;
    return atomic_number(label.substr(0, 1));
}

// MDF's functional names for pw.x's "Exchange-correlation" line: the short name newer
// versions print ("PBE ( 1 4 3 4 0 0 0)"), or the four parts older ones print.
std::string functional_name(std::string_view value) {
    value = trim(value.substr(0, value.find('(')));
    // Parts may be joined by '-' ("SLA-PW-PBX-PBC") and padded with NONE.
    std::string spaced(value);
    for (char& c : spaced)
        c = c == '-' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string parts;
    for (const auto w : split_words(spaced)) {
        if (w == "NONE") continue;
        if (!parts.empty()) parts += ' ';
        parts += w;
    }
    if (parts == "SLA PW PBX PBC" || parts == "SLA PW PBE PBE" || parts == "PBE") return "PBE";
    if (parts == "SLA PW PSX PSC" || parts == "PBESOL") return "PBEsol";
    if (parts == "SLA PZ NOGX NOGC" || parts == "SLA PZ" || parts == "PZ" || parts == "LDA")
        return "LDA";
    if (parts == "SLA PW NOGX NOGC" || parts == "PW") return "LDA (PW)";
    if (parts == "SLA PW GGX GGC" || parts == "PW91") return "PW91";
    if (parts == "SLA LYP B88 BLYP" || parts == "BLYP") return "BLYP";
    if (parts.starts_with("SCAN") || parts.find(" SCAN") != std::string::npos) return "SCAN";
    if (parts == "SLA PW TPSS TPSS" || parts == "TPSS") return "TPSS";
    if (parts == "VDW DF") return "vdW-DF";
    if (parts == "VDW DF2") return "vdW-DF2";
    if (parts == "VDW DF CX") return "vdW-DF-cx";
    if (parts.starts_with("PBE0") || parts.starts_with("HSE") || parts.starts_with("B3LYP") ||
        parts.starts_with("GAUPBE"))
        return "hybrid";
    return parts;
}

struct PwScan {
    double alat_bohr = 0;
    long atoms = 0;
    std::optional<Lattice> cell;              // Angstrom
    std::vector<std::pair<int, Vec3>> sites;  // Z, Cartesian Angstrom or fractional
    bool fractional = false;
    std::optional<double> energy_ry;
    std::optional<double> cutoff_ry;
    std::optional<double> fermi_ev;
    std::string functional;
    long scf_cycles = 0;
    bool scf_converged = false;
    bool relaxation = false;
    bool relaxation_converged = false;
    bool job_done = false;        // pw.x reached its closing timing report
    bool band_structure = false;  // a non-self-consistent (nscf, bands) run
};

// Reads a CELL_PARAMETERS block: "(angstrom)", "(bohr)" or "(alat= 5.0)" / "(alat)".
Lattice read_cell(const std::vector<std::string_view>& lines, std::size_t at, double alat_bohr) {
    const std::string_view head = lines[at];
    double unit = kBohrAngstrom * alat_bohr;  // alat
    if (contains(head, "angstrom"))
        unit = 1;
    else if (contains(head, "bohr"))
        unit = kBohrAngstrom;
    else if (const auto a = number_after(head, "alat"))
        unit = kBohrAngstrom * *a;
    Lattice l{};
    for (std::size_t r = 0; r < 3; ++r) {
        const auto where = "line " + std::to_string(at + 2 + r);
        if (at + 1 + r >= lines.size()) throw DataError(where + ": CELL_PARAMETERS cut short");
        const auto w = split_words(lines[at + 1 + r]);
        if (w.size() < 3) throw DataError(where + ": expected 3 numbers of a cell vector");
        for (std::size_t k = 0; k < 3; ++k) l[r][k] = parse_double(w[k], where) * unit;
    }
    return l;
}

PwScan scan(std::string_view text) {
    PwScan o;
    const auto lines = split_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string_view line = lines[i];
        const std::string_view t = trim(line);
        if (contains(line, "celldm(1)=") && o.alat_bohr == 0) {
            // alat with 6 decimals ("lattice parameter (alat)" prints 4).
            if (const auto a = number_after(line, "celldm(1)")) o.alat_bohr = *a;
        } else if (contains(line, "number of atoms/cell")) {
            if (const auto n = number_after(line, "atoms/cell"); n && *n > 0 && *n < 1e7)
                o.atoms = static_cast<long>(*n);
        } else if (t.starts_with("a(1) =") && i + 2 < lines.size() && !o.cell) {
            Lattice l{};
            for (std::size_t r = 0; r < 3; ++r) {
                const Vec3 v = vector_in_parentheses(lines[i + r], i + r + 1);
                for (std::size_t k = 0; k < 3; ++k) l[r][k] = v[k] * o.alat_bohr * kBohrAngstrom;
            }
            o.cell = l;
        } else if (contains(line, "site n.") && o.sites.empty() &&
                   (contains(line, "(alat units)") || contains(line, "(a_0 units)"))) {
            for (long n = 0; n < o.atoms; ++n) {
                const std::size_t row = i + 1 + static_cast<std::size_t>(n);
                if (row >= lines.size() || !contains(lines[row], "tau(")) break;
                const auto w = split_words(lines[row]);
                if (w.size() < 2)
                    throw DataError("line " + std::to_string(row + 1) + ": expected a site");
                Vec3 v = vector_in_parentheses(lines[row], row + 1);
                for (double& x : v) x *= o.alat_bohr * kBohrAngstrom;
                o.sites.emplace_back(label_z(w[1]), v);
            }
        } else if (t.starts_with("CELL_PARAMETERS")) {
            o.cell = read_cell(lines, i, o.alat_bohr);
        } else if (t.starts_with("ATOMIC_POSITIONS")) {
            double unit = o.alat_bohr * kBohrAngstrom;  // alat (the default)
            o.fractional = contains(t, "crystal");
            if (contains(t, "angstrom"))
                unit = 1;
            else if (contains(t, "bohr"))
                unit = kBohrAngstrom;
            if (o.fractional) unit = 1;
            std::vector<std::pair<int, Vec3>> sites;
            for (long n = 0; n < o.atoms; ++n) {
                const std::size_t row = i + 1 + static_cast<std::size_t>(n);
                const auto where = "line " + std::to_string(row + 1);
                if (row >= lines.size()) throw DataError(where + ": ATOMIC_POSITIONS cut short");
                const auto w = split_words(lines[row]);
                if (w.size() < 4) throw DataError(where + ": expected 'LABEL x y z'");
                sites.emplace_back(label_z(w[0]), Vec3{parse_double(w[1], where) * unit,
                                                       parse_double(w[2], where) * unit,
                                                       parse_double(w[3], where) * unit});
            }
            o.sites = std::move(sites);
        } else if (t.starts_with("!") && contains(line, "total energy")) {
            if (const auto e = number_after(line, "total energy")) o.energy_ry = e;
            ++o.scf_cycles;
        } else if (contains(line, "kinetic-energy cutoff") && contains(line, "=")) {
            o.cutoff_ry = number_after(line, "cutoff");
        } else if (contains(line, "the Fermi energy is")) {
            o.fermi_ev = number_after(line, "is");
        } else if (contains(line, "highest occupied") && contains(line, "level (ev)")) {
            // Insulators: the highest occupied level (the first number), as ASE reads it.
            o.fermi_ev = number_after(line, "(ev)");
        } else if (contains(line, "Exchange-correlation")) {
            std::string value(line.substr(
                line.find('=') == std::string_view::npos ? line.size() : line.find('=') + 1));
            o.functional = functional_name(value);
        } else if (contains(line, "convergence has been achieved")) {
            o.scf_converged = true;
        } else if (contains(line, "convergence NOT achieved")) {
            o.scf_converged = false;
        } else if (contains(line, "BFGS Geometry Optimization")) {
            o.relaxation = true;
        } else if (contains(line, "End final coordinates") || contains(line, "bfgs converged")) {
            o.relaxation_converged = true;
        } else if (contains(line, "JOB DONE") ||
                   (t.starts_with("PWSCF") && contains(line, ":") &&
                    (contains(line, "WALL") || contains(line, "wall time")))) {
            o.job_done = true;  // the closing timing line (versions before 5 print no JOB DONE)
        } else if (contains(line, "End of band structure calculation")) {
            o.band_structure = true;
        }
    }
    return o;
}

class EspressoExtractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "espresso"; }

    [[nodiscard]] std::vector<nlohmann::json> extract(const FileInput& file) const override {
        const PwScan o = scan(file.bytes);
        if (o.alat_bohr <= 0 || o.atoms == 0 || !o.cell)
            throw DataError(
                "no 'celldm(1)', 'number of atoms/cell' or cell "
                "vectors: not a pw.x output");
        if (o.sites.size() != static_cast<std::size_t>(o.atoms))
            throw DataError("expected " + std::to_string(o.atoms) + " atomic positions, found " +
                            std::to_string(o.sites.size()));
        Structure s;
        s.lattice = o.cell;
        for (const auto& [z, p] : o.sites) {
            if (z == 0) throw DataError("a species label names no element");
            s.sites.push_back(Site{{{z, 1.0}}, o.fractional ? p : to_fractional(*o.cell, p)});
        }
        s.validate("structure");
        nlohmann::json r = structure_blocks(s, file.symprec);

        nlohmann::json dft = nlohmann::json::object();
        if (!o.functional.empty()) dft["exchange_correlation_functional"] = o.functional;
        if (o.cutoff_ry) dft["cutoff_energy"] = *o.cutoff_ry * kRydbergEv;
        if (o.energy_ry) {
            dft["energy"] = *o.energy_ry * kRydbergEv;
            dft["energy_per_atom"] = *o.energy_ry * kRydbergEv / static_cast<double>(o.atoms);
        }
        dft["ionic_steps"] = o.scf_cycles;
        // The last SCF converged, a relaxation reached its final coordinates, and pw.x ended.
        // A band-structure run has no self-consistency to converge: no dft.converged.
        if (!(o.band_structure && o.scf_cycles == 0)) {
            dft["converged"] =
                o.scf_converged && (!o.relaxation || o.relaxation_converged) && o.job_done;
        }
        r["dft"] = dft;
        nlohmann::json custom = {{"job_done", o.job_done},
                                 {"calculation", o.relaxation                            ? "relax"
                                                 : o.band_structure && o.scf_cycles == 0 ? "nscf"
                                                                                         : "scf"}};
        if (o.energy_ry) custom["total_energy_ry"] = *o.energy_ry;
        if (o.cutoff_ry) custom["ecutwfc_ry"] = *o.cutoff_ry;
        if (o.fermi_ev) custom["efermi"] = *o.fermi_ev;
        r["custom"]["espresso"] = custom;
        return {r};
    }
};

}  // namespace

std::unique_ptr<Extractor> make_espresso_extractor() {
    return std::make_unique<EspressoExtractor>();
}

}  // namespace kiln::extract
