// VASP OSZICAR: one line per ionic step ("  12 F= -.52663E+03 E0= -.52663E+03  d E =...
// mag= 0.0"; molecular dynamics lines carry "T= ... E= ... F= ... E0= ..."). The record's
// dft.energy is the last step's E0, as pymatgen's Oszicar.final_energy.
#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"

namespace kiln::extract {
namespace {

// The number after "KEY=" in `words` ("E0=" "-1.0", or "E0=-1.0"); false when absent.
bool value_after(const std::vector<std::string_view>& words, std::string_view key, double& out) {
    for (std::size_t i = 0; i < words.size(); ++i) {
        std::string_view w = words[i];
        if (w.substr(0, key.size()) != key) continue;
        w.remove_prefix(key.size());
        if (w.empty()) {
            if (i + 1 >= words.size()) return false;
            w = words[i + 1];
        }
        out = parse_double(w, std::string(key));
        return true;
    }
    return false;
}

class OszicarExtractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "oszicar"; }

    [[nodiscard]] std::vector<nlohmann::json> extract(const FileInput& file) const override {
        std::uint64_t steps = 0;
        double e0 = 0;
        double f = 0;
        double mag = 0;
        bool has_mag = false;
        std::size_t line_no = 0;
        for (const auto line : split_lines(file.bytes)) {
            ++line_no;
            const auto words = split_words(line);
            // An ionic step starts with its number and has F= and E0=.
            if (words.size() < 3 ||
                words[0].find_first_not_of("0123456789") != std::string_view::npos) {
                continue;
            }
            double step_f = 0;
            double step_e0 = 0;
            try {
                if (!value_after(words, "F=", step_f) || !value_after(words, "E0=", step_e0))
                    continue;
                has_mag = value_after(words, "mag=", mag);
            } catch (const DataError& e) {
                throw DataError("line " + std::to_string(line_no) + ": " + e.what());
            }
            ++steps;
            f = step_f;
            e0 = step_e0;
        }
        if (steps == 0) throw DataError("no ionic step lines (N F= ... E0= ...)");
        nlohmann::json dft = {{"energy", e0}, {"ionic_steps", steps}};
        nlohmann::json custom = {{"oszicar", {{"final_F", f}}}};
        if (has_mag) custom["oszicar"]["magnetization"] = mag;
        return {{{"dft", dft}, {"custom", custom}}};
    }
};

}  // namespace

std::unique_ptr<Extractor> make_oszicar_extractor() { return std::make_unique<OszicarExtractor>(); }

}  // namespace kiln::extract
