// VASP OUTCAR: the final energy (energy(sigma->0), pymatgen's Outcar.final_energy), the
// final cell and positions (the last "direct lattice vectors" and POSITION blocks, as ASE
// reads them), the species (VRHFIN lines, one per POTCAR) and counts (ions per type), the
// functional and cutoff from the parameter echo, convergence judged as for vasprun.xml,
// and the last Fermi level and magnetization (as ASE; pymatgen reports the first).
// One pass over the lines; OUTCARs of long runs are tens of megabytes.
#include <cctype>
#include <optional>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/text.hpp"
#include "kiln/extract/element.hpp"
#include "kiln/extract/structure.hpp"

namespace kiln::extract {
namespace {

// The first word after `key` and any '=' and spaces ("  ENCUT  =  100.0 eV" -> "100.0").
std::string_view word_after(std::string_view line, std::string_view key) {
    const auto at = line.find(key);
    if (at == std::string_view::npos) return {};
    line.remove_prefix(at + key.size());
    const auto start = line.find_first_not_of(" \t=");
    if (start == std::string_view::npos) return {};
    line.remove_prefix(start);
    return line.substr(0, line.find_first_of(" \t;"));
}

// A number where VASP may print asterisks for an overflow: absent then, as pymatgen reads it.
std::optional<double> maybe_number(std::string_view word) {
    try {
        return parse_double(word, "number");
    } catch (const DataError&) {
        return std::nullopt;
    }
}

// The numbers of a fixed-width line, where VASP runs a negative number into the one before
// ("0.000000000-19.396266833"); empty when a word is no number.
std::vector<double> numbers(std::string_view line) {
    std::vector<double> out;
    for (std::string_view w : split_words(line)) {
        while (!w.empty()) {
            std::size_t cut = 1;
            while (cut < w.size() && !(w[cut] == '-' && w[cut - 1] != 'E' && w[cut - 1] != 'e'))
                ++cut;
            const auto x = maybe_number(w.substr(0, cut));
            if (!x) return {};
            out.push_back(*x);
            w.remove_prefix(cut);
        }
    }
    return out;
}

// A parameter echo line "   NAME   =  VALUE ..." (the first word is the tag).
bool is_tag_line(std::string_view line, std::string_view tag) {
    const auto words = split_words(line);
    return !words.empty() &&
           (words[0] == tag || words[0].substr(0, tag.size() + 1) == std::string(tag) + "=");
}

struct OutcarScan {
    std::vector<int> species;  // Z per POTCAR, in order
    std::vector<long> counts;  // ions per type
    std::optional<Lattice> lattice;
    std::vector<Vec3> positions;  // Cartesian, last complete POSITION block
    std::optional<double> e0;     // energy(sigma->0)
    std::optional<double> free_energy;
    std::optional<double> energy_wo_entropy;
    std::optional<double> efermi;
    std::optional<double> nelect;
    std::optional<double> magnetization;
    std::optional<double> encut;
    std::string gga;
    std::string metagga;
    std::string lhfcalc;
    std::string potcar_title;  // the first TITEL: "PAW_PBE Fe_pv 06Sep2000"
    double nelm = 60;
    double nsw = 0;
    long ionic_steps = 0;
    long last_electronic = 0;  // electronic steps of the last ionic step
    bool finished = false;
    bool stopped = false;
};

OutcarScan scan(std::string_view text) {
    OutcarScan o;
    const auto lines = split_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string_view line = lines[i];
        if (contains(line, "VRHFIN =")) {
            const int z = vrhfin_z(line);
            if (z == 0)
                throw DataError("line " + std::to_string(i + 1) + ": unknown element in '" +
                                std::string(line) + "'");
            o.species.push_back(z);
        } else if (contains(line, "TITEL  =") && o.potcar_title.empty()) {
            o.potcar_title = std::string(trim(line.substr(line.find('=') + 1)));
        } else if (contains(line, "ions per type =")) {
            o.counts.clear();
            const auto words = split_words(line.substr(line.find('=') + 1));
            for (const auto w : words) {
                const auto n = maybe_number(w);
                if (!n || *n < 0 || *n > 1e7)
                    throw DataError("line " + std::to_string(i + 1) + ": bad ion count '" +
                                    std::string(w) + "'");
                o.counts.push_back(static_cast<long>(*n));
            }
        } else if (contains(line, "direct lattice vectors") && i + 3 < lines.size()) {
            Lattice l{};
            bool ok = true;
            for (std::size_t r = 0; r < 3 && ok; ++r) {
                const auto x = numbers(lines[i + 1 + r]);
                ok = x.size() >= 3;
                for (std::size_t k = 0; k < 3 && ok; ++k) l[r][k] = x[k];
            }
            if (ok) o.lattice = l;
        } else if (contains(line, "POSITION") && contains(line, "TOTAL-FORCE")) {
            // A dashed line, then one line per ion; a block cut short (a killed run) or with
            // numbers VASP ran together is not the final structure, so none is reported.
            std::vector<Vec3> p;
            std::size_t r = i + 2;
            for (; r < lines.size(); ++r) {
                if (lines[r].find("---") != std::string_view::npos || trim(lines[r]).empty()) break;
                const auto x = numbers(lines[r]);
                if (x.size() < 3) {
                    p.clear();
                    break;
                }
                p.push_back({x[0], x[1], x[2]});
            }
            o.positions = std::move(p);
            i = r > i ? r - 1 : i;
        } else if (contains(line, "free  energy   TOTEN")) {
            if (const auto e = maybe_number(word_after(line, "TOTEN"))) o.free_energy = e;
        } else if (contains(line, "energy(sigma->0)")) {
            // Every electronic step prints one; the last is pymatgen's final_energy. The
            // energy without entropy is taken from ionic steps only ("energy  without
            // entropy=", two spaces), as pymatgen does.
            if (const auto e = maybe_number(word_after(line, "energy(sigma->0)"))) o.e0 = e;
            if (contains(line, "energy  without entropy=")) {
                if (const auto e = maybe_number(word_after(line, "entropy=")))
                    o.energy_wo_entropy = e;
            }
        } else if (contains(line, "E-fermi :")) {
            o.efermi = maybe_number(word_after(line, "E-fermi :"));
        } else if (contains(line, "number of electron") && contains(line, "magnetization")) {
            o.magnetization = maybe_number(word_after(line, "magnetization"));
        } else if (contains(line, "- Iteration ")) {
            // "---- Iteration    3(  12)  ----": ionic step 3, electronic step 12.
            std::string_view rest = line.substr(line.find("Iteration") + 9);
            const auto open = rest.find('(');
            const auto close = rest.find(')');
            if (open != std::string_view::npos && close != std::string_view::npos && open < close) {
                const auto ionic = maybe_number(trim(rest.substr(0, open)));
                const auto electronic = maybe_number(trim(rest.substr(open + 1, close - open - 1)));
                // Step numbers past a billion are garbage (and would not fit a long).
                if (ionic && electronic && *ionic >= 0 && *ionic < 1e9 && *electronic >= 0 &&
                    *electronic < 1e9) {
                    o.ionic_steps = static_cast<long>(*ionic);
                    o.last_electronic = static_cast<long>(*electronic);
                }
            }
        } else if (is_tag_line(line, "NELECT")) {
            o.nelect = maybe_number(word_after(line, "NELECT"));
        } else if (is_tag_line(line, "ENCUT")) {
            if (const auto e = maybe_number(word_after(line, "ENCUT"))) o.encut = e;
        } else if (is_tag_line(line, "GGA")) {
            o.gga = std::string(word_after(line, "GGA"));
            for (char& c : o.gga)
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        } else if (is_tag_line(line, "METAGGA")) {
            o.metagga = std::string(word_after(line, "METAGGA"));
        } else if (is_tag_line(line, "LHFCALC")) {
            o.lhfcalc = std::string(word_after(line, "LHFCALC"));
        } else if (is_tag_line(line, "NELM")) {
            if (const auto n = maybe_number(word_after(line, "NELM"))) o.nelm = *n;
        } else if (is_tag_line(line, "NSW")) {
            if (const auto n = maybe_number(word_after(line, "NSW"))) o.nsw = *n;
        } else if (contains(line, "General timing and accounting")) {
            o.finished = true;
        } else if (contains(line, "soft stop encountered!  aborting job")) {
            o.stopped = true;
        }
    }
    return o;
}

class OutcarExtractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "outcar"; }

    [[nodiscard]] std::vector<nlohmann::json> extract(const FileInput& file) const override {
        const OutcarScan o = scan(file.bytes);
        if (o.species.empty() || o.counts.empty())
            throw DataError("no VRHFIN or 'ions per type' lines: not a VASP OUTCAR");
        if (o.species.size() != o.counts.size()) {
            throw DataError(std::to_string(o.species.size()) + " POTCAR species (VRHFIN) but " +
                            std::to_string(o.counts.size()) + " counts in 'ions per type'");
        }
        long ions = 0;
        for (const long c : o.counts) ions += c;
        if (ions == 0) throw DataError("'ions per type' sums to 0");

        nlohmann::json r;
        if (o.lattice && o.positions.size() == static_cast<std::size_t>(ions)) {
            Structure s;
            s.lattice = o.lattice;
            std::size_t k = 0;
            for (std::size_t t = 0; t < o.counts.size(); ++t) {
                for (long n = 0; n < o.counts[t]; ++n, ++k) {
                    s.sites.push_back(
                        Site{{{o.species[t], 1.0}}, to_fractional(*o.lattice, o.positions[k])});
                }
            }
            s.validate("final structure");
            r = structure_blocks(s, file.symprec);
        } else {
            Composition c;
            for (std::size_t t = 0; t < o.counts.size(); ++t)
                c.add(o.species[t], static_cast<double>(o.counts[t]));
            r["material"] = material_block(c);
        }

        nlohmann::json dft = nlohmann::json::object();
        // OUTCAR echoes unset tags as "--" (GGA) or "F" (METAGGA).
        dft["exchange_correlation_functional"] =
            vasp_functional(o.lhfcalc, o.metagga == "F" ? "" : o.metagga, o.gga, o.potcar_title);
        if (o.encut) dft["cutoff_energy"] = *o.encut;
        if (o.e0) {
            dft["energy"] = *o.e0;
            dft["energy_per_atom"] = *o.e0 / static_cast<double>(ions);
        }
        dft["ionic_steps"] = o.ionic_steps;
        // As for vasprun.xml (pymatgen's rule), and the run must have reached its timing
        // report: an OUTCAR of a killed job is never converged.
        const bool electronic = static_cast<double>(o.last_electronic) < o.nelm;
        const bool ionic = o.nsw <= 1 || static_cast<double>(o.ionic_steps) < o.nsw;
        dft["converged_electronic"] = electronic;
        dft["converged_ionic"] = ionic;
        dft["converged"] = electronic && ionic && o.finished && !o.stopped;
        r["dft"] = dft;

        nlohmann::json custom = {{"finished", o.finished}, {"stopped", o.stopped}};
        if (o.free_energy) custom["free_energy"] = *o.free_energy;
        if (o.energy_wo_entropy) custom["energy_without_entropy"] = *o.energy_wo_entropy;
        if (o.efermi) custom["efermi"] = *o.efermi;
        if (o.nelect) custom["nelect"] = *o.nelect;
        if (o.magnetization) custom["total_magnetization"] = *o.magnetization;
        r["custom"]["outcar"] = custom;
        return {r};
    }
};

}  // namespace

std::unique_ptr<Extractor> make_outcar_extractor() { return std::make_unique<OutcarExtractor>(); }

}  // namespace kiln::extract
