// VASP vasprun.xml through pugixml: the final structure, the final energy (with pymatgen's
// correction for VASP's e_0_energy bug), convergence, cutoff and functional.
#include <pugixml.hpp>

#include <cmath>
#include <cstdlib>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/text.hpp"
#include "kiln/extract/element.hpp"
#include "kiln/extract/structure.hpp"

namespace kiln::extract {
namespace {

double number(const pugi::xml_node& node, const std::string& what) {
    return parse_double(trim(node.child_value()), what);
}

// The first <i name="NAME"> below `root` (parameters nest in <separator>s).
pugi::xml_node find_i(const pugi::xml_node& root, const char* name) {
    return root.find_node([name](const pugi::xml_node& n) {
        return std::string_view(n.name()) == "i" &&
               std::string_view(n.attribute("name").value()) == name;
    });
}

Vec3 vector3(const pugi::xml_node& v, const std::string& what) {
    const std::string text = v.child_value();
    const auto w = split_words(text);
    if (w.size() < 3) throw DataError(what + ": expected 3 numbers");
    return {parse_double(w[0], what), parse_double(w[1], what), parse_double(w[2], what)};
}

std::vector<int> atom_species(const pugi::xml_document& doc) {
    std::vector<int> z;
    const auto atoms = doc.select_node("/modeling/atominfo/array[@name='atoms']/set").node();
    if (!atoms) throw DataError("no <atominfo> atoms array");
    for (const auto& rc : atoms.children("rc")) {
        std::string sym(trim(rc.child("c").child_value()));
        // VASP writes two symbols cut short: "X" for Xe and "r" for Zr.
        if (sym == "X") sym = "Xe";
        if (sym == "r") sym = "Zr";
        const int n = atomic_number(sym);
        if (n == 0) throw DataError("atominfo: unknown element '" + sym + "'");
        z.push_back(n);
    }
    return z;
}

Structure read_structure(const pugi::xml_node& s, const std::vector<int>& species) {
    Structure out;
    Lattice l{};
    const auto basis = s.select_node("crystal/varray[@name='basis']").node();
    std::size_t r = 0;
    for (const auto& v : basis.children("v")) {
        if (r < 3) l[r] = vector3(v, "lattice");
        ++r;
    }
    if (r != 3) throw DataError("final structure: lattice has " + std::to_string(r) + " vectors");
    out.lattice = l;
    std::size_t k = 0;
    for (const auto& v : s.select_node("varray[@name='positions']").node().children("v")) {
        if (k >= species.size()) throw DataError("more positions than atoms in <atominfo>");
        out.sites.push_back(Site{{{species[k], 1.0}}, vector3(v, "positions")});
        ++k;
    }
    if (k != species.size()) throw DataError("fewer positions than atoms in <atominfo>");
    out.validate("final structure");
    return out;
}

// The first POTCAR's title ("PAW_PBE Si 05Jan2001") from <atominfo>'s atomtypes table.
std::string potcar_title(const pugi::xml_document& doc) {
    const auto row = doc.select_node("/modeling/atominfo/array[@name='atomtypes']/set/rc").node();
    std::string title;
    for (const auto& c : row.children("c")) title = c.child_value();  // the last column
    return std::string(trim(title));
}

std::string functional(const pugi::xml_node& params, std::string_view potcar) {
    const auto value = [&](const char* name) {
        return std::string(trim(find_i(params, name).child_value()));
    };
    return vasp_functional(value("LHFCALC"), value("METAGGA"), value("GGA"), potcar);
}

class VasprunExtractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "vasprun"; }

    [[nodiscard]] std::vector<nlohmann::json> extract(const FileInput& file) const override {
        pugi::xml_document doc;
        const auto ok = doc.load_buffer(file.bytes.data(), file.bytes.size());
        if (!ok) {
            throw DataError(std::string("not valid XML: ") + ok.description() + " at byte " +
                            std::to_string(ok.offset));
        }
        if (!doc.child("modeling")) throw DataError("no <modeling> root: not a vasprun.xml");
        const auto species = atom_species(doc);
        pugi::xml_node final_structure =
            doc.select_node("/modeling/structure[@name='finalpos']").node();
        if (!final_structure) {
            const auto all = doc.select_nodes("//structure");
            if (all.empty()) throw DataError("no <structure>");
            final_structure = all[all.size() - 1].node();
        }
        nlohmann::json r = structure_blocks(read_structure(final_structure, species), file.symprec);

        nlohmann::json dft = nlohmann::json::object();
        const auto params = doc.child("modeling").child("parameters");
        dft["exchange_correlation_functional"] = functional(params, potcar_title(doc));
        if (const auto encut = find_i(params, "ENCUT"))
            dft["cutoff_energy"] = number(encut, "ENCUT");
        const auto calcs = doc.child("modeling").children("calculation");
        std::size_t ionic_steps = 0;
        pugi::xml_node last;
        for (const auto& c : calcs) {
            ++ionic_steps;
            last = c;
        }
        dft["ionic_steps"] = ionic_steps;
        std::size_t scsteps = 0;
        pugi::xml_node last_sc;
        if (last) {
            for (const auto& sc : last.children("scstep")) {
                ++scsteps;
                last_sc = sc;
            }
            const auto e0 = find_i(last.child("energy"), "e_0_energy");
            const auto efr = find_i(last.child("energy"), "e_fr_energy");
            if (e0 && efr) {
                double total = number(e0, "e_0_energy");
                const auto sc_e0 = find_i(last_sc.child("energy"), "e_0_energy");
                const auto sc_efr = find_i(last_sc.child("energy"), "e_fr_energy");
                if (sc_e0 && sc_efr) {
                    // VASP writes a wrong e_0_energy in some versions; pymatgen rebuilds it
                    // from the last electronic step, and so does kiln, to agree.
                    const double diff = number(sc_e0, "e_0_energy") - number(sc_efr, "e_fr_energy");
                    const double fixed =
                        std::round((diff + number(efr, "e_fr_energy")) * 1e8) / 1e8;
                    if (std::fabs(total - fixed) > 1e-7) total = fixed;
                }
                dft["energy"] = total;
                dft["energy_per_atom"] = total / static_cast<double>(species.size());
            }
        }
        // Convergence as pymatgen decides it: fewer electronic steps than NELM in the last
        // ionic step, and NSW <= 1 or fewer ionic steps than NSW.
        const auto nelm = find_i(params, "NELM");
        const auto nsw = find_i(params, "NSW");
        const double nelm_v = nelm ? number(nelm, "NELM") : 60;
        const double nsw_v = nsw ? number(nsw, "NSW") : 0;
        const bool electronic = static_cast<double>(scsteps) < nelm_v;
        const bool ionic = nsw_v <= 1 || static_cast<double>(ionic_steps) < nsw_v;
        dft["converged_electronic"] = electronic;
        dft["converged_ionic"] = ionic;
        dft["converged"] = electronic && ionic;
        r["dft"] = dft;
        return {r};
    }
};

}  // namespace

std::string vasp_functional(std::string_view lhfcalc, std::string_view metagga,
                            std::string_view gga, std::string_view potcar) {
    if (lhfcalc == "T" || lhfcalc == "true" || lhfcalc == ".TRUE.") return "hybrid";
    if (!metagga.empty() && metagga != "--" && metagga != "NONE" && metagga != "none") {
        return std::string(metagga);
    }
    if (gga == "PE") return "PBE";
    if (gga == "PS") return "PBEsol";
    if (gga == "91") return "PW91";
    if (gga == "RP") return "RPBE";
    if (gga == "RE") return "revPBE";
    if (gga == "AM") return "AM05";
    if (gga.empty() || gga == "--") {
        // Unset: VASP takes the POTCARs' functional, which their title names.
        if (potcar.starts_with("PAW_PBE")) return "PBE";
        if (potcar.starts_with("PAW_GGA")) return "PW91";
        if (potcar.starts_with("PAW ") || potcar.starts_with("US ") || potcar == "PAW")
            return "LDA";
        return "LDA or the POTCAR's default";
    }
    return std::string(gga);
}

std::unique_ptr<Extractor> make_vasprun_extractor() { return std::make_unique<VasprunExtractor>(); }

}  // namespace kiln::extract
