// CIF (and magnetic mCIF) through gemmi: every data block with atom sites is one structure.
// The asymmetric unit is expanded with the file's own symmetry operations (or those of its
// space group), and sites that coincide are merged with their occupancies, as pymatgen's
// CifParser does.
#include <gemmi/cif.hpp>
#include <gemmi/smcif.hpp>
#include <gemmi/symmetry.hpp>

#include <cctype>
#include <cmath>
#include <cstring>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"
#include "kiln/extract/element.hpp"
#include "kiln/extract/structure.hpp"

namespace kiln::extract {
namespace {

constexpr double kSiteTolerance = 1e-4;  // fractional, as pymatgen's CifParser

double wrap(double x) {
    x -= std::floor(x);
    return x >= 1.0 - 1e-12 ? 0.0 : x;
}

bool same_position(const Vec3& a, const Vec3& b) {
    for (std::size_t k = 0; k < 3; ++k) {
        double d = std::fabs(a[k] - b[k]);
        d = std::min(d, 1.0 - d);
        if (d > kSiteTolerance) return false;
    }
    return true;
}

// Symmetry operations as (rotation, translation) in fractions.
struct SymOp {
    std::array<std::array<double, 3>, 3> rot{};
    Vec3 tran{};
};

std::vector<SymOp> to_symops(const std::vector<gemmi::Op>& ops) {
    std::vector<SymOp> out;
    for (const auto& op : ops) {
        SymOp s;
        for (std::size_t i = 0; i < 3; ++i) {
            for (std::size_t j = 0; j < 3; ++j)
                s.rot[i][j] = static_cast<double>(op.rot[i][j]) / gemmi::Op::DEN;
            s.tran[i] = static_cast<double>(op.tran[i]) / gemmi::Op::DEN;
        }
        out.push_back(s);
    }
    return out;
}

// Parses one symmetry operation "x, y, z" / "-x+1/2, z+.5, y" / "1/2+X,Y-X,Z" (what CIF
// writers produce, decimals included, which gemmi's parser refuses).
SymOp parse_symop(const std::string& text, const std::string& what) {
    SymOp op;
    std::size_t row = 0;
    std::size_t i = 0;
    const auto fail = [&](const std::string& why) -> DataError {
        return DataError(what + ": symmetry operation '" + text + "': " + why);
    };
    while (i <= text.size()) {
        if (i == text.size() || text[i] == ',') {
            ++row;
            ++i;
            if (row == 3) break;  // a magnetic CIF's 4th part (time reversal) does not move atoms
            continue;
        }
        if (text[i] == ' ' || text[i] == '\'' || text[i] == '"') {
            ++i;
            continue;
        }
        // term := [+-] [number[/number]] [*] [x|y|z]
        double sign = 1;
        if (text[i] == '+' || text[i] == '-') {
            sign = text[i] == '-' ? -1 : 1;
            ++i;
        }
        const std::size_t num_start = i;
        while (i < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == '.'))
            ++i;
        double value = 1;
        bool has_number = i > num_start;
        if (has_number) {
            value = parse_double(std::string_view(text).substr(num_start, i - num_start), what);
            if (i < text.size() && text[i] == '/') {
                const std::size_t d = ++i;
                while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0)
                    ++i;
                const double den =
                    i > d ? parse_double(std::string_view(text).substr(d, i - d), what) : 0;
                if (den == 0) throw fail("bad fraction");
                value /= den;
            }
        }
        if (i < text.size() && text[i] == '*') ++i;
        if (row >= 3) throw fail("more than three parts");
        // (Not strchr: it would also match an embedded NUL byte.)
        const int var = i < text.size() ? std::tolower(static_cast<unsigned char>(text[i])) : 0;
        if (var == 'x' || var == 'y' || var == 'z') {
            const auto axis = static_cast<std::size_t>(var - 'x');
            op.rot[row][axis] += sign * value;
            ++i;
        } else if (has_number) {
            op.tran[row] += sign * value;
        } else {
            throw fail("unexpected '" + std::string(1, text[i]) + "'");
        }
    }
    if (row < 3) throw fail("expected three comma-separated parts");
    return op;
}

std::vector<SymOp> block_symops(gemmi::cif::Block& block, const gemmi::SmallStructure& st,
                                const std::string& what) {
    // Magnetic CIFs list operations and centerings separately: every combination applies.
    const auto read_ops = [&](const char* tag) {
        std::vector<SymOp> ops;
        gemmi::cif::Column col = block.find_values(tag);
        if (col) {
            for (const std::string& v : col)
                ops.push_back(parse_symop(gemmi::cif::as_string(v), what));
        }
        return ops;
    };
    auto magn = read_ops("_space_group_symop_magn_operation.xyz");
    if (magn.empty()) magn = read_ops("_space_group_symop.magn_operation_xyz");  // older mCIF
    if (!magn.empty()) {
        auto centerings = read_ops("_space_group_symop_magn_centering.xyz");
        if (centerings.empty()) centerings = read_ops("_space_group_symop.magn_centering_xyz");
        if (centerings.empty()) return magn;
        std::vector<SymOp> all;
        for (const auto& c : centerings) {
            for (const auto& m : magn) {
                SymOp o;  // c applied after m
                for (std::size_t i = 0; i < 3; ++i) {
                    for (std::size_t j = 0; j < 3; ++j) {
                        for (std::size_t k = 0; k < 3; ++k)
                            o.rot[i][j] += c.rot[i][k] * m.rot[k][j];
                    }
                    o.tran[i] = c.tran[i];
                    for (std::size_t k = 0; k < 3; ++k) o.tran[i] += c.rot[i][k] * m.tran[k];
                }
                all.push_back(o);
            }
        }
        return all;
    }
    for (const char* tag : {"_space_group_symop_operation_xyz", "_symmetry_equiv_pos_as_xyz"}) {
        auto ops = read_ops(tag);
        if (!ops.empty()) return ops;
    }
    std::vector<gemmi::Op> ops;
    const gemmi::SpaceGroup* sg = st.find_spacegroup();
    if (sg == nullptr) {
        for (const char* tag : {"_space_group_IT_number", "_symmetry_Int_Tables_number"}) {
            if (const std::string* v = block.find_value(tag)) {
                // A number first: 1e20 does not fit an int (found by fuzzing).
                const double n = gemmi::cif::as_number(*v, 0);
                if (n >= 1 && n <= 230 && n == std::floor(n))
                    sg = gemmi::find_spacegroup_by_number(static_cast<int>(n));
            }
            if (sg != nullptr) break;
        }
    }
    if (sg == nullptr) return {SymOp{{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}, {0, 0, 0}}};
    const gemmi::GroupOps g = sg->operations();
    for (const auto& op : g.sym_ops) {
        for (const auto& cen : g.cen_ops) {
            gemmi::Op o = op;
            for (std::size_t k = 0; k < 3; ++k) o.tran[k] += cen[k];
            ops.push_back(o.wrap());
        }
    }
    return to_symops(ops);
}

Structure block_structure(gemmi::cif::Block& block, const std::string& what,
                          std::vector<std::string>& warnings) {
    const gemmi::SmallStructure st = gemmi::make_small_structure_from_block(block);
    if (!st.cell.is_crystal()) throw DataError(what + ": no unit cell (_cell_length_a/b/c)");
    Structure s;
    Lattice l{};
    const auto& m = st.cell.orth.mat;  // columns are the lattice vectors
    for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t j = 0; j < 3; ++j) l[i][j] = m[static_cast<int>(j)][static_cast<int>(i)];
    }
    s.lattice = l;
    const auto ops = block_symops(block, st, what);
    for (const auto& site : st.sites) {
        // Crystallographers' names for water oxygen and hydrogen (pymatgen reads them too).
        const std::string& t = site.type_symbol;
        int z = site.element.atomic_number();
        if (site.element == gemmi::El::X) {
            z = (t == "Wat" || t == "wat" || t == "Ow" || t == "OW") ? 8
                : (t == "Hw" || t == "HW")                           ? 1
                                                                     : 0;
        }
        if (z == 0) {
            // As pymatgen does, the site is left out; unlike pymatgen, the record says so.
            warnings.push_back(what + ": atom site '" + site.label + "' (type '" +
                               site.type_symbol + "') is not an element; left out");
            continue;
        }
        const double occ = std::isnan(site.occ) ? 1.0 : site.occ;
        // "." or "?" coordinates read as 0, as pymatgen reads them.
        const auto coord = [](double x) { return std::isnan(x) ? 0.0 : x; };
        const Vec3 f{coord(site.fract.x), coord(site.fract.y), coord(site.fract.z)};
        for (double x : f) {
            if (!std::isfinite(x))
                throw DataError(what + ": atom site '" + site.label +
                                "' has an infinite coordinate");
        }
        // Positions of this label: its orbit, without repeats.
        std::vector<Vec3> orbit;
        for (const auto& op : ops) {
            Vec3 p{};
            for (std::size_t i = 0; i < 3; ++i) {
                p[i] = wrap(op.rot[i][0] * f[0] + op.rot[i][1] * f[1] + op.rot[i][2] * f[2] +
                            op.tran[i]);
            }
            bool seen = false;
            for (const auto& q : orbit) seen = seen || same_position(p, q);
            if (!seen) orbit.push_back(p);
        }
        // Another label at the same place shares the site (a disordered site); the same
        // element there adds its occupancy.
        for (const auto& p : orbit) {
            Site* target = nullptr;
            for (auto& existing : s.sites) {
                if (same_position(existing.position, p)) {
                    target = &existing;
                    break;
                }
            }
            if (target == nullptr) {
                s.sites.push_back(Site{{{z, occ}}, p});
                continue;
            }
            bool added = false;
            for (auto& [ez, eocc] : target->species) {
                if (ez == z) {
                    eocc += occ;
                    added = true;
                }
            }
            if (!added) target->species.emplace_back(z, occ);
        }
    }
    s.validate(what);
    return s;
}

class CifExtractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "cif"; }
    [[nodiscard]] std::vector<nlohmann::json> extract(const FileInput& file) const override {
        gemmi::cif::Document doc;
        try {
            doc = gemmi::cif::read_memory(file.bytes.data(), file.bytes.size(), file.name.c_str());
        } catch (const std::exception& e) {
            // CIF 1.1 is ASCII; writers often leave Latin-1 or UTF-8 in text fields. Retry
            // with those bytes as '?', which changes no number and no symbol.
            std::string ascii(file.bytes);
            bool changed = false;
            for (char& c : ascii) {
                if (static_cast<unsigned char>(c) >= 0x80) {
                    c = '?';
                    changed = true;
                }
            }
            try {
                if (!changed) throw;
                doc = gemmi::cif::read_memory(ascii.data(), ascii.size(), file.name.c_str());
            } catch (const std::exception&) {
                throw DataError(std::string("not valid CIF: ") + e.what());
            }
        }
        std::vector<nlohmann::json> records;
        for (auto& block : doc.blocks) {
            if (!block.find_values("_atom_site_fract_x")) continue;
            const std::string what = "data block '" + block.name + "'";
            std::vector<std::string> warnings;
            nlohmann::json r =
                structure_blocks(block_structure(block, what, warnings), file.symprec);
            r["kiln"]["block"] = block.name;
            for (auto& w : warnings) r["kiln"]["warnings"].push_back(std::move(w));
            records.push_back(std::move(r));
        }
        if (records.empty()) throw DataError("no data block with _atom_site_fract_x");
        return records;
    }
};

}  // namespace

std::unique_ptr<Extractor> make_cif_extractor() { return std::make_unique<CifExtractor>(); }

}  // namespace kiln::extract
