// JSON: pymatgen objects (Structure, Molecule, ComputedEntry, ComputedStructureEntry, and
// lists of them) become material records; a list of objects with a formula key (a table, like
// pymatgen's entries/exp_compounds.json.gz) becomes one record per object; any other JSON
// becomes flattened "custom" fields (at most kMaxCustomFields, nested keys joined with '.').
// Python's json module writes NaN, Infinity and -Infinity, which JSON does not have; they are
// read as null.
#include <cmath>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/text.hpp"
#include "kiln/extract/composition.hpp"
#include "kiln/extract/element.hpp"
#include "kiln/extract/structure.hpp"

namespace kiln::extract {
namespace {

constexpr std::size_t kMaxCustomFields = 100;
constexpr std::size_t kMaxRecords = 100000;
constexpr int kMaxDepth = 8;

using Json = nlohmann::json;

int element_of(const Json& sp) {
    const std::string sym = sp.value("element", "");
    const int z = atomic_number(sym);
    if (z == 0) throw DataError("unknown element '" + sym + "'");
    return z;
}

Structure pymatgen_structure(const Json& j, bool periodic) {
    Structure s;
    if (periodic) {
        const Json& m = j.at("lattice").at("matrix");
        Lattice l{};
        for (std::size_t r = 0; r < 3; ++r) {
            for (std::size_t k = 0; k < 3; ++k) l[r][k] = m.at(r).at(k).get<double>();
        }
        s.lattice = l;
    }
    for (const Json& site : j.at("sites")) {
        Site out;
        for (const Json& sp : site.at("species"))
            out.species.emplace_back(element_of(sp), sp.value("occu", 1.0));
        const Json& p = periodic ? site.at("abc") : site.at("xyz");
        for (std::size_t k = 0; k < 3; ++k) out.position[k] = p.at(k).get<double>();
        s.sites.push_back(std::move(out));
    }
    s.validate(periodic ? "Structure" : "Molecule");
    return s;
}

Composition composition_dict(const Json& c) {
    Composition comp;
    for (const auto& [sym, amount] : c.items()) {
        // Keys may carry oxidation states ("Fe2+"); the element is the leading letters.
        std::size_t n = 0;
        while (n < sym.size() && std::isalpha(static_cast<unsigned char>(sym[n])) != 0) ++n;
        const int z = atomic_number(sym.substr(0, n));
        if (z == 0) throw DataError("unknown element '" + sym + "' in a composition");
        comp.add(z, amount.get<double>());
    }
    return comp;
}

// A record for one pymatgen object, or nullopt when `j` is not one.
std::optional<Json> pymatgen_record(const Json& j, double symprec) {
    if (!j.is_object()) return std::nullopt;
    const std::string cls = j.value("@class", "");
    if (cls == "Structure" || cls == "IStructure")
        return structure_blocks(pymatgen_structure(j, true), symprec);
    if (cls == "Molecule" || cls == "IMolecule")
        return structure_blocks(pymatgen_structure(j, false), symprec);
    if (cls == "ComputedEntry" || cls == "ComputedStructureEntry" || cls == "PDEntry") {
        Json r;
        if (j.contains("structure") && j["structure"].is_object()) {
            r = structure_blocks(pymatgen_structure(j["structure"], true), symprec);
        } else {
            r = {{"material", material_block(composition_dict(j.at("composition")))}};
        }
        if (j.contains("energy") && j["energy"].is_number()) {
            const double e = j["energy"].get<double>();
            const double n = composition_dict(j.at("composition")).num_atoms();
            r["dft"] = {{"energy", e}, {"energy_per_atom", n > 0 ? e / n : 0.0}};
        }
        if (j.contains("entry_id") && !j["entry_id"].is_null())
            r["kiln"]["entry_id"] = j["entry_id"];
        return r;
    }
    return std::nullopt;
}

void flatten(const Json& j, const std::string& prefix, int depth, Json& out) {
    if (out.size() >= kMaxCustomFields) return;
    if (j.is_object() && depth < kMaxDepth) {
        for (const auto& [k, v] : j.items())
            flatten(v, prefix.empty() ? k : prefix + "." + k, depth + 1, out);
    } else if (j.is_array() || j.is_object()) {
        out[prefix.empty() ? "value" : prefix] = j.size();  // arrays: their length
    } else {
        out[prefix.empty() ? "value" : prefix] = j;
    }
}

// pymatgen's experimental thermochemistry table (entries/exp_compounds.json.gz, read by its
// correction_calculator): "exp energy" is the formation enthalpy in eV per formula unit as
// written (Ag2CO3: -5.24 eV for 6 atoms).
constexpr const char* kExpEnergyKey = "exp energy";

// One record per object of a list whose first object has a formula key; nullopt otherwise.
std::optional<std::vector<Json>> formula_rows(const Json& j) {
    if (!j.is_array() || j.empty() || !j[0].is_object()) return std::nullopt;
    const auto key_of = [](const Json& row) -> std::string {
        for (const auto& [k, v] : row.items()) {
            if (v.is_string() && formula_column(k)) return k;
        }
        return {};
    };
    if (key_of(j[0]).empty()) return std::nullopt;
    std::vector<Json> records;
    for (std::size_t i = 0; i < j.size() && records.size() < kMaxRecords; ++i) {
        const Json& row = j[i];
        Json rec;
        rec["kiln"]["row"] = i + 1;
        const std::string key = row.is_object() ? key_of(row) : std::string();
        if (key.empty()) {
            rec["kiln"]["error"] = "item " + std::to_string(i + 1) + ": no formula";
            records.push_back(std::move(rec));
            continue;
        }
        Json custom = Json::object();
        for (const auto& [k, v] : row.items()) {
            if (k != key) flatten(v, k, 1, custom);
        }
        rec["custom"] = std::move(custom);
        try {
            const Composition comp = parse_formula(row[key].get<std::string>());
            rec["material"] = material_block(comp);
            const auto e = row.find(kExpEnergyKey);
            if (e != row.end() && e->is_number() && comp.num_atoms() > 0) {
                rec["formation_enthalpy"] = *e;
                rec["formation_enthalpy_per_atom"] = e->get<double>() / comp.num_atoms();
            }
        } catch (const DataError& err) {
            rec["kiln"]["error"] = "item " + std::to_string(i + 1) + ": " + err.what();
        }
        records.push_back(std::move(rec));
    }
    return records;
}

class JsonExtractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "json"; }

    [[nodiscard]] std::vector<Json> extract(const FileInput& file) const override {
        Json j = Json::parse(file.bytes, nullptr, false);
        if (j.is_discarded()) {
            try {
                j = Json::parse(python_literals_as_null(file.bytes));
            } catch (const Json::exception& e) {
                throw DataError(std::string("not valid JSON: ") + e.what());
            }
        }
        try {
            if (auto r = pymatgen_record(j, file.symprec)) return {*r};
            // A list whose first item is a pymatgen object: one record per such item (the
            // first one read once: its space group is the costly part).
            if (auto first = j.is_array() && !j.empty() ? pymatgen_record(j[0], file.symprec)
                                                        : std::nullopt) {
                std::vector<Json> records{std::move(*first)};
                for (std::size_t i = 1; i < j.size() && records.size() < kMaxRecords; ++i) {
                    if (auto r = pymatgen_record(j[i], file.symprec))
                        records.push_back(std::move(*r));
                }
                return records;
            }
            if (auto rows = formula_rows(j)) return *rows;
        } catch (const Json::exception& e) {
            throw DataError(std::string("pymatgen object with missing or wrong fields: ") +
                            e.what());
        }
        Json custom = Json::object();
        flatten_custom(j, custom);
        return {{{"custom", custom}}};
    }
};

}  // namespace

void flatten_custom(const nlohmann::json& j, nlohmann::json& out) { flatten(j, "", 0, out); }

std::unique_ptr<Extractor> make_json_extractor() { return std::make_unique<JsonExtractor>(); }

}  // namespace kiln::extract
