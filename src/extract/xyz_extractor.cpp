// XYZ and extended XYZ: frames of "N / comment / N atom lines". The last frame is the record
// (what pymatgen's XYZ.molecule returns); an extended-XYZ Lattice="..." makes it a crystal.
#include <cmath>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"
#include "kiln/extract/element.hpp"
#include "kiln/extract/structure.hpp"

namespace kiln::extract {
namespace {

std::optional<Lattice> extended_lattice(std::string_view comment) {
    const auto key = comment.find("Lattice=\"");
    if (key == std::string_view::npos) return std::nullopt;
    const auto start = key + 9;
    const auto end = comment.find('"', start);
    if (end == std::string_view::npos)
        throw DataError("extended XYZ: unterminated Lattice=\"...\"");
    const auto w = split_words(comment.substr(start, end - start));
    if (w.size() != 9) throw DataError("extended XYZ: Lattice needs 9 numbers");
    Lattice l{};
    for (std::size_t i = 0; i < 9; ++i)
        l[i / 3][i % 3] = parse_double(w[i], "extended XYZ Lattice");
    return l;
}

class XyzExtractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "xyz"; }

    [[nodiscard]] std::vector<nlohmann::json> extract(const FileInput& file) const override {
        const auto lines = split_lines(file.bytes);
        std::size_t i = 0;
        Structure last;
        std::size_t frames = 0;
        while (i < lines.size()) {
            const auto head = split_words(lines[i]);
            if (head.empty()) {
                ++i;
                continue;
            }
            // Text after the last frame (some programs append a trailer) ends the frames.
            if (frames > 0 && (head.size() != 1 ||
                               head[0].find_first_not_of("0123456789") != std::string_view::npos))
                break;
            const double n_d =
                parse_double(head[0], "line " + std::to_string(i + 1) + " (atom count)");
            if (n_d < 1 || n_d > 1e7 || n_d != std::floor(n_d)) {
                throw DataError("line " + std::to_string(i + 1) + ": implausible atom count");
            }
            const auto n = static_cast<std::size_t>(n_d);
            if (i + 1 + n >= lines.size() + 1)
                throw DataError("frame " + std::to_string(frames + 1) + " is truncated");
            Structure s;
            const std::string_view comment =
                i + 1 < lines.size() ? lines[i + 1] : std::string_view();
            s.lattice = extended_lattice(comment);
            for (std::size_t k = 0; k < n; ++k) {
                const std::size_t ln = i + 2 + k;
                if (ln >= lines.size())
                    throw DataError("frame " + std::to_string(frames + 1) + " is truncated");
                const auto w = split_words(lines[ln]);
                if (w.size() < 4)
                    throw DataError("line " + std::to_string(ln + 1) +
                                    ": expected 'element x y z'");
                int z = atomic_number(w[0]);
                if (z == 0 && std::isdigit(static_cast<unsigned char>(w[0][0])) != 0) {
                    // An atomic number instead of a symbol; range-checked before the cast.
                    const double given = parse_double(w[0], "atomic number");
                    z = given >= 1 && given <= kMaxAtomicNumber ? static_cast<int>(given) : 0;
                }
                if (z < 1 || z > kMaxAtomicNumber) {
                    throw DataError("line " + std::to_string(ln + 1) + ": unknown element '" +
                                    std::string(w[0]) + "'");
                }
                Vec3 p{};
                for (std::size_t c = 0; c < 3; ++c)
                    p[c] = parse_double(w[c + 1], "line " + std::to_string(ln + 1));
                s.sites.push_back(Site{{{z, 1.0}}, p});
            }
            if (s.lattice) {
                for (auto& site : s.sites) site.position = to_fractional(*s.lattice, site.position);
            }
            last = std::move(s);
            ++frames;
            i += 2 + n;
        }
        if (frames == 0) throw DataError("no XYZ frame");
        last.validate("frame " + std::to_string(frames));
        nlohmann::json r = structure_blocks(last, file.symprec);
        r["kiln"]["frames"] = frames;
        return {r};
    }
};

}  // namespace

std::unique_ptr<Extractor> make_xyz_extractor() { return std::make_unique<XyzExtractor>(); }

}  // namespace kiln::extract
