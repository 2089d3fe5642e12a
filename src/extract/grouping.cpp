#include "kiln/extract/grouping.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/core/text.hpp"
#include "kiln/extract/element.hpp"
#include "kiln/extract/extractor.hpp"
#include "kiln/extract/format.hpp"

namespace kiln::extract {
namespace {

// VASP's file names, lower case, longest first where one begins another.
constexpr std::array<std::string_view, 17> kVaspNames{
    "vasprun.xml", "outcar",  "oszicar", "incar",   "poscar", "contcar",
    "kpoints",     "potcar",  "chgcar",  "wavecar", "doscar", "eigenval",
    "procar",      "xdatcar", "ibzkpt",  "locpot",  "elfcar"};

std::pair<std::string_view, std::string_view> split_dir(std::string_view path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string_view::npos) return {"", path};
    return {path.substr(0, slash), path.substr(slash + 1)};
}

std::string lower_name(const nlohmann::json& record) {
    if (record.contains("files") && record["files"].is_array() && !record["files"].empty())
        return to_lower_ascii(record["files"][0].value("filename", ""));
    return {};
}

// Rank of a record as the source of the group's structure (lower is more final).
int structure_rank(const nlohmann::json& record) {
    const std::string format = record["kiln"].value("format", "");
    if (format == "vasprun") return 0;
    if (format == "poscar") return lower_name(record).starts_with("contcar") ? 1 : 4;
    if (format == "outcar") return 2;
    if (format == "espresso") return 3;
    return 5;
}

// Rank of a record as the source of dft fields.
int dft_rank(const nlohmann::json& record) {
    const std::string format = record["kiln"].value("format", "");
    if (format == "vasprun") return 0;
    if (format == "outcar") return 1;
    if (format == "oszicar") return 2;
    if (format == "incar") return 3;
    return 4;
}

}  // namespace

std::optional<VaspRunKey> vasp_run_key(std::string_view path) {
    auto [dir, name] = split_dir(path);
    name.remove_suffix(compression_suffix(name).size());
    const std::string lower = to_lower_ascii(name);
    for (const std::string_view vasp : kVaspNames) {
        if (lower.starts_with(vasp))
            return VaspRunKey{std::string(dir), std::string(name.substr(vasp.size()))};
    }
    return std::nullopt;
}

std::vector<FileGroup> group_files(const std::vector<std::string>& paths, bool by_dir) {
    std::map<std::pair<std::string, std::string>, FileGroup> groups;  // ordered: stable output
    for (std::size_t i = 0; i < paths.size(); ++i) {
        std::pair<std::string, std::string> key;
        FileGroup g;
        if (by_dir) {
            key.first = std::string(split_dir(paths[i]).first);
            g.kind = "directory";
        } else if (const auto run = vasp_run_key(paths[i])) {
            key = {run->dir, run->suffix};
            g.kind = "vasp-run";
        } else {
            continue;
        }
        const std::string prefix = key.first.empty() ? "" : key.first + "/";
        g.path = key.second.empty() ? prefix : prefix + "*" + key.second;
        auto& slot = groups.try_emplace(key, std::move(g)).first->second;
        slot.members.push_back(i);
    }
    std::vector<FileGroup> out;
    for (auto& [key, g] : groups) {
        if (g.members.size() >= 2) out.push_back(std::move(g));
    }
    return out;
}

nlohmann::json merge_records(const std::vector<nlohmann::json>& records, const FileGroup& group) {
    nlohmann::json merged = {{"files", nlohmann::json::array()}};
    nlohmann::json members = nlohmann::json::array();
    nlohmann::json errors = nlohmann::json::array();
    std::vector<const nlohmann::json*> usable;
    for (const auto& r : records) {
        const nlohmann::json& kiln = r.contains("kiln") ? r["kiln"] : nlohmann::json::object();
        const std::string path = kiln.value("path", "");
        members.push_back(path);
        if (r.contains("files"))
            for (const auto& f : r["files"]) merged["files"].push_back(f);
        if (kiln.contains("error")) {
            errors.push_back(path + ": " + kiln["error"].get<std::string>());
            continue;
        }
        usable.push_back(&r);
    }
    // The structure: from the most final member that has one.
    std::vector<const nlohmann::json*> by_structure = usable;
    std::stable_sort(by_structure.begin(), by_structure.end(), [](const auto* a, const auto* b) {
        return structure_rank(*a) < structure_rank(*b);
    });
    for (const auto* r : by_structure) {
        if (!r->contains("material")) continue;
        for (const char* block : {"material", "crystal_structure", "molecule"}) {
            if (r->contains(block)) merged[block] = (*r)[block];
        }
        break;
    }
    // dft: field by field, from the first source in rank order that has it.
    std::vector<const nlohmann::json*> by_dft = usable;
    std::stable_sort(by_dft.begin(), by_dft.end(),
                     [](const auto* a, const auto* b) { return dft_rank(*a) < dft_rank(*b); });
    nlohmann::json dft = nlohmann::json::object();
    for (const auto* r : by_dft) {
        if (!r->contains("dft")) continue;
        for (const auto& [k, v] : (*r)["dft"].items()) {
            if (!dft.contains(k)) dft[k] = v;
        }
    }
    if (!dft.empty()) merged["dft"] = dft;
    // custom and the other blocks (image, ...): merged key by key, first member wins.
    for (const auto* r : usable) {
        for (const auto& [k, v] : r->items()) {
            if (k == "files" || k == "kiln" || k == "dft" || k == "material" ||
                k == "crystal_structure" || k == "molecule")
                continue;
            if (!merged.contains(k)) {
                merged[k] = v;
            } else if (merged[k].is_object() && v.is_object()) {
                for (const auto& [kk, vv] : v.items()) {
                    if (!merged[k].contains(kk)) merged[k][kk] = vv;
                }
            }
        }
    }
    merged["kiln"] = {{"path", group.path}, {"format", group.kind}, {"members", members}};
    if (!errors.empty()) merged["kiln"]["errors"] = errors;
    return merged;
}

int vrhfin_z(std::string_view line) {
    const auto at = line.find("VRHFIN");
    if (at == std::string_view::npos) return 0;
    line.remove_prefix(at + 6);
    line = trim(line.substr(line.find_first_not_of(" =") == std::string_view::npos
                                ? line.size()
                                : line.find_first_not_of(" =")));
    return atomic_number(trim(line.substr(0, line.find(':'))));
}

namespace {

// What a POTCAR or OUTCAR says of its run's species: nothing usable (absent, unreadable, no
// VRHFIN line: look further), a label kiln cannot name (an empty list: no guess), or the
// species in order.
std::optional<std::vector<int>> read_species(const std::string& file) {
    std::vector<int> species;
    try {
        const std::string text = decompress(file, fs::read_file(file), std::size_t{1} << 30);
        for (const auto line : split_lines(text)) {
            if (line.find("VRHFIN") == std::string_view::npos) continue;
            const int z_number = vrhfin_z(line);
            if (z_number == 0) return std::vector<int>{};
            species.push_back(z_number);
        }
    } catch (const Error&) {
        return std::nullopt;
    }
    if (species.empty()) return std::nullopt;
    return species;
}

// read_species, remembered per file while its device, inode, size and modification time stay
// the same: every POSCAR, CONTCAR and XDATCAR of a run asks for the same POTCAR (hundreds of
// kilobytes, read whole).
std::optional<std::vector<int>> species_of(const std::string& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    struct Known {
        dev_t dev;
        ino_t ino;
        off_t size;
        std::int64_t mtime_ns;
        std::optional<std::vector<int>> species;
    };
    const std::int64_t mtime_ns =
        std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
    static std::mutex mutex;
    static std::map<std::string, Known> known;
    {
        const std::lock_guard lock(mutex);
        if (const auto it = known.find(file);
            it != known.end() && it->second.dev == st.st_dev && it->second.ino == st.st_ino &&
            it->second.size == st.st_size && it->second.mtime_ns == mtime_ns) {
            return it->second.species;
        }
    }
    auto species = read_species(file);
    const std::lock_guard lock(mutex);
    if (known.size() >= 256) known.clear();
    known[file] = Known{st.st_dev, st.st_ino, st.st_size, mtime_ns, species};
    return species;
}

}  // namespace

std::vector<int> vasp_species_beside(const std::string& path) {
    const auto key = vasp_run_key(path);
    if (!key || path.find('!') != std::string::npos) return {};  // archive members: not on disk
    const std::string dir = key->dir.empty() ? "." : key->dir;
    for (const std::string_view base : {"POTCAR", "OUTCAR"}) {
        std::vector<std::string> suffixes{key->suffix};  // POTCAR.relax1, then POTCAR
        if (!key->suffix.empty()) suffixes.emplace_back();
        for (const std::string& suffix : suffixes) {
            for (const std::string_view z : {"", ".gz", ".bz2", ".xz"}) {
                if (auto species =
                        species_of(dir + "/" + std::string(base) + suffix + std::string(z)))
                    return *species;  // empty: a label kiln cannot name, so no guess
            }
        }
    }
    return {};
}

}  // namespace kiln::extract
