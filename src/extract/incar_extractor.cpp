// VASP INCAR: "TAG = value" lines, several per line separated by ';', comments after '#' or
// '!', text without '=' ignored (as VASP and pymatgen do). The record's dft block has cutoff_energy
// (ENCUT, eV) and exchange_correlation_functional (LHFCALC, METAGGA, GGA, named as for
// vasprun.xml); every tag goes under custom.incar, typed as pymatgen's Incar types it: integers,
// floats, .TRUE./.FALSE. as booleans, other values as text.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/text.hpp"

namespace kiln::extract {
namespace {

std::string upper(std::string_view s) {
    std::string u(s);
    std::transform(u.begin(), u.end(), u.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return u;
}

// A Fortran logical as VASP reads one: an optional '.', then T or F, then letters.
std::optional<bool> logical(std::string_view v) {
    if (!v.empty() && v.front() == '.') v.remove_prefix(1);
    if (!v.empty() && v.back() == '.') v.remove_suffix(1);
    if (v.empty() ||
        std::any_of(v.begin(), v.end(), [](unsigned char c) { return std::isalpha(c) == 0; })) {
        return std::nullopt;
    }
    const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(v.front())));
    if (c == 'T') return true;
    if (c == 'F') return false;
    return std::nullopt;
}

// A value as JSON, typed as pymatgen's Incar does: a logical for the L... tags (LWAVE,
// LHFCALC, ...), a whole integer or float, text containing "true"/"false" as a logical,
// else the text.
nlohmann::json typed(const std::string& tag, std::string_view v) {
    const std::string u = upper(v);
    if (u == ".TRUE." || u == "T" || u == ".T.") return true;
    if (u == ".FALSE." || u == "F" || u == ".F.") return false;
    if (!tag.empty() && tag.front() == 'L') {
        if (const auto b = logical(v)) return *b;
    }
    std::int64_t i = 0;
    if (const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), i);
        ec == std::errc() && p == v.data() + v.size()) {
        return i;
    }
    std::string d(v);
    for (char& c : d) {
        if (c == 'd' || c == 'D') c = 'e';  // Fortran double exponent
    }
    double x = 0;
    if (const auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), x);
        ec == std::errc() && p == d.data() + d.size() && std::isfinite(x)) {
        return x;
    }
    if (u.find("TRUE") != std::string::npos) return true;
    if (u.find("FALSE") != std::string::npos) return false;
    return std::string(v);
}

class IncarExtractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "incar"; }

    [[nodiscard]] std::vector<nlohmann::json> extract(const FileInput& file) const override {
        nlohmann::json tags = nlohmann::json::object();
        std::size_t line_no = 0;
        for (std::string_view line : split_lines(file.bytes)) {
            ++line_no;
            line = line.substr(0, line.find_first_of("#!"));
            while (!line.empty()) {
                const auto semi = line.find(';');
                const std::string_view part = trim(line.substr(0, semi));
                line = semi == std::string_view::npos ? std::string_view() : line.substr(semi + 1);
                if (part.empty()) continue;
                const auto eq = part.find('=');
                if (eq == std::string_view::npos) continue;  // free text, ignored as VASP does
                const std::string tag = upper(trim(part.substr(0, eq)));
                if (tag.empty() || tag.find_first_of(" \t") != std::string::npos) {
                    throw DataError("line " + std::to_string(line_no) + ": bad tag name '" + tag +
                                    "'");
                }
                tags[tag] = typed(tag, trim(part.substr(eq + 1)));
            }
        }
        if (tags.empty()) throw DataError("no TAG = value lines");
        const auto text = [&](const char* tag) {
            return tags.contains(tag) ? (tags[tag].is_string() ? upper(tags[tag].get<std::string>())
                                                               : upper(tags[tag].dump()))
                                      : std::string();
        };
        const std::string lhf =
            tags.contains("LHFCALC") && tags["LHFCALC"].is_boolean() && tags["LHFCALC"].get<bool>()
                ? "T"
                : "";
        nlohmann::json dft = {{"exchange_correlation_functional",
                               vasp_functional(lhf, text("METAGGA"), text("GGA"))}};
        if (tags.contains("ENCUT") && tags["ENCUT"].is_number()) {
            dft["cutoff_energy"] = tags["ENCUT"].get<double>();
        }
        return {{{"dft", dft}, {"custom", {{"incar", tags}}}}};
    }
};

}  // namespace

std::unique_ptr<Extractor> make_incar_extractor() { return std::make_unique<IncarExtractor>(); }

}  // namespace kiln::extract
